"""Drives one InterviewWorkflow straight through Temporal; records histories for the replay tests.

`python -m tests.interview_script` starts a throwaway stack and rewrites tests/histories/interview.json: do
that only for a deliberate, versioned change of the workflow (see test_replay.py).
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

import msgspec
from redis.asyncio import Redis
from temporalio.client import Client, WorkflowHandle, WorkflowHistory

from activities.question_bank import QuestionBank
from schema.interview import AskHint, InterviewStart, InterviewState, SendMessage, SubmitCode
from schema.tables import Room
from stack import database
from stack.services import LocalStack
from stack.settings import load_settings
from stack.temporal import connect
from workflows.interview import InterviewWorkflow
from workflows.worker import mocki_workers

HISTORY = Path(__file__).with_name("histories") / "interview.json"
BANK = QuestionBank.packaged()
CODING_QUESTION = "code-valid-parentheses"
SUBMISSION = "def is_valid(s):\n    return s.count('(') == s.count(')')\n"


def turns_for(question_id: str, stage: str) -> list[str]:
    """What the scripted candidate says to each question: a pause, partial answers drawing a follow-up, full
    answers, a weak one; so the history holds every kind of turn."""
    cues = [point.cues[0] for point in BANK.get(question_id).key_points]
    if stage == "intro":
        return [f"I am a backend engineer: {', '.join(cues)}."]
    if stage == "behavioural":
        return ["Hmm, let me think for a moment.", f"It was about {cues[0]} really.", f"Then {', '.join(cues[1:])}."]
    if stage == "knowledge" and question_id in ("kn-acid", "kn-cap"):
        return [f"I would explain {', '.join(cues)} with an example from my work."]
    if stage == "knowledge":
        return ["I don't know."]
    if stage == "coding":
        return ["A stack: push openers, pop on closers and compare; valid if nothing is left."]
    return ["What does the on-call rotation look like?"]


async def run_interview(client: Client, task_queue: str) -> WorkflowHistory:
    room_id = str(uuid.uuid4())
    await Room.insert(
        Room(
            id=room_id,
            role="Backend Engineer",
            difficulty="medium",
            mode="ai",
            status="active",
            candidate_name="Replay",
        )
    )
    handle = await client.start_workflow(
        InterviewWorkflow.run,
        InterviewStart(
            room_id=room_id,
            role="Backend Engineer",
            candidate_name="Replay",
            difficulty="medium",
            coding_question_id=CODING_QUESTION,
        ),
        id=room_id,
        task_queue=task_queue,
    )
    state = await _state_once_planned(handle)
    question_id, stage, finished = BANK.plan("Backend Engineer", "medium")[0].id, state.stage or "intro", False
    while not finished:
        if stage == "coding":
            await handle.execute_update(InterviewWorkflow.request_hint, AskHint())
            await handle.execute_update(InterviewWorkflow.submit_code, SubmitCode(code=SUBMISSION))
            await handle.execute_update(InterviewWorkflow.request_hint, AskHint(code=SUBMISSION))
        for text in turns_for(question_id, stage):
            reply = await handle.execute_update(InterviewWorkflow.candidate_message, SendMessage(text=text))
            if reply.question_id != question_id or reply.finished:
                break
        question_id, stage, finished = reply.question_id or question_id, reply.stage, reply.finished
    await handle.signal(InterviewWorkflow.end)
    await handle.result()
    return await handle.fetch_history()


async def _state_once_planned(handle: WorkflowHandle[InterviewWorkflow, object]) -> InterviewState:
    for _ in range(100):
        state = await handle.query(InterviewWorkflow.state)
        if state.stage is not None:
            return state
        await asyncio.sleep(0.05)
    raise RuntimeError("the interview was not planned")


async def _record() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings({"MOCKI_DATA_DIR": data_dir})
        with LocalStack(settings, ports="free", durable=False) as endpoints:
            engine = database.bind(endpoints.database_url)
            await database.migrate()
            await engine.start_connection_pool()
            client = await connect(endpoints.temporal_address)
            redis = Redis.from_url(endpoints.redis_url)
            bank = await QuestionBank.load()
            recording = msgspec.structs.replace(settings, task_queue_prefix="record-")
            async with await mocki_workers(client, recording, redis, bank):
                history = await run_interview(client, recording.interview_task_queue)
            await redis.aclose()
            await engine.close_connection_pool()
    HISTORY.write_text(history.to_json())
    print(f"recorded {len(history.events)} events to {HISTORY}")


if __name__ == "__main__":
    asyncio.run(_record())
