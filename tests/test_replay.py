"""Workflow determinism: recorded and fresh interview histories replay against today's workflow code."""

from __future__ import annotations

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, Worker

from stack.settings import Settings
from stack.temporal import DATA_CONVERTER
from tests.interview_script import HISTORY, run_interview
from workflows.interview import InterviewWorkflow


def replayer() -> Replayer:
    return Replayer(workflows=[InterviewWorkflow], data_converter=DATA_CONVERTER)


async def test_the_recorded_interview_history_replays() -> None:
    history = WorkflowHistory.from_json("recorded-interview", HISTORY.read_text())
    assert len(history.events) > 40
    await replayer().replay_workflow(history)


async def test_a_fresh_interview_history_replays(worker: Worker, temporal: Client, settings: Settings) -> None:
    history = await run_interview(temporal, settings.interview_task_queue)
    await replayer().replay_workflow(history)
