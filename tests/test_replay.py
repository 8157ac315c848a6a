"""Workflow determinism: recorded and fresh interview, document-ingest, email-sync and reminder histories replay
against today's workflow code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from stack.sample_documents import RESUME, pdf
from stack.sample_mail import CONTOSO, LUMEN, NOT_ABOUT_APPLICATIONS, mbox
from stack.settings import Settings
from stack.temporal import DATA_CONVERTER
from tests.conftest import sign_up
from tests.interview_script import HISTORY, run_interview
from tests.test_applications import import_mail, synced
from tests.test_documents import ready, upload
from workflows.email_sync import EmailSyncWorkflow
from workflows.ingest import DocumentIngestWorkflow, ingest_workflow_id
from workflows.interview import InterviewWorkflow
from workflows.reminder import ReminderWorkflow
from workflows.worker import WorkerGroup

# A resume upload's history (ingest_history below, saved with WorkflowHistory.to_json); record it again only for
# a deliberate, versioned change of the workflow.
INGEST_HISTORY = Path(__file__).with_name("histories") / "ingest.json"


def replayer() -> Replayer:
    return Replayer(workflows=[InterviewWorkflow], data_converter=DATA_CONVERTER)


async def test_the_recorded_interview_history_replays() -> None:
    history = WorkflowHistory.from_json("recorded-interview", HISTORY.read_text())
    assert len(history.events) > 40
    await replayer().replay_workflow(history)


async def test_a_fresh_interview_history_replays(worker: WorkerGroup, temporal: Client, settings: Settings) -> None:
    history = await run_interview(temporal, settings.interview_task_queue)
    await replayer().replay_workflow(history)


async def ingest_history(api: httpx.AsyncClient, temporal: Client) -> WorkflowHistory:
    auth, _ = await sign_up(api)
    document_id = (await upload(api, auth, pdf(RESUME))).json()["document_id"]
    await ready(api, auth, document_id)
    handle = temporal.get_workflow_handle(ingest_workflow_id(document_id))
    await handle.result()
    return await handle.fetch_history()


async def test_the_recorded_ingest_history_replays() -> None:
    history = WorkflowHistory.from_json("recorded-ingest", INGEST_HISTORY.read_text())
    scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events]
    assert "extract_document" in scheduled and "index_document" in scheduled
    await Replayer(workflows=[DocumentIngestWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def test_a_fresh_ingest_history_replays(api: httpx.AsyncClient, temporal: Client) -> None:
    history = await ingest_history(api, temporal)
    await Replayer(workflows=[DocumentIngestWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


# An import's email sync (email_sync_history below); record it again only for a deliberate, versioned change.
# email_sync.json was recorded before todos and notifications (the workflow's patch) and must keep replaying;
# email_sync_batches.json is the first recorded with analyses in batches.
EMAIL_SYNC_HISTORY = Path(__file__).with_name("histories") / "email_sync.json"
EMAIL_SYNC_TODOS_HISTORY = Path(__file__).with_name("histories") / "email_sync_todos.json"
EMAIL_SYNC_BATCHES_HISTORY = Path(__file__).with_name("histories") / "email_sync_batches.json"
REMINDER_HISTORY = Path(__file__).with_name("histories") / "reminder.json"


async def email_sync_history(api: httpx.AsyncClient, temporal: Client) -> WorkflowHistory:
    auth, _ = await sign_up(api)
    report = (await import_mail(api, auth, mbox(*LUMEN, *CONTOSO, *NOT_ABOUT_APPLICATIONS))).json()
    await synced(api, auth)
    handle = temporal.get_workflow_handle(report["workflow_id"])
    await handle.result()
    return await handle.fetch_history()


async def test_the_recorded_email_sync_history_replays() -> None:
    history = WorkflowHistory.from_json("recorded-email-sync", EMAIL_SYNC_HISTORY.read_text())
    scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events]
    assert scheduled.count("analyse_message") == 8 and "apply_analyses" in scheduled
    await Replayer(workflows=[EmailSyncWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def test_the_recorded_email_sync_history_with_todos_replays() -> None:
    history = WorkflowHistory.from_json("recorded-email-sync-todos", EMAIL_SYNC_TODOS_HISTORY.read_text())
    scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events]
    scheduled = [name for name in scheduled if name]  # other events have none
    assert scheduled[-3:] == ["follow_up_todos", "schedule_reminders", "deliver_notifications"]
    await Replayer(workflows=[EmailSyncWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def test_the_recorded_email_sync_history_in_batches_replays() -> None:
    history = WorkflowHistory.from_json("recorded-email-sync-batches", EMAIL_SYNC_BATCHES_HISTORY.read_text())
    scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events]
    assert scheduled.count("analyse_messages") == 6 and "analyse_message" not in scheduled  # 12 emails, 2 a batch
    await Replayer(workflows=[EmailSyncWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def test_a_fresh_email_sync_history_replays(api: httpx.AsyncClient, temporal: Client) -> None:
    history = await email_sync_history(api, temporal)
    await Replayer(workflows=[EmailSyncWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def reminder_history(api: httpx.AsyncClient, temporal: Client) -> WorkflowHistory:
    """A todo due in an hour and a bit, moved once (a signal while the timer runs), then reminded."""
    auth, _ = await sign_up(api)
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3600 + 30)
    todo = (await api.post("/todos", json={"title": "Book the flight", "due_at": due.isoformat()}, headers=auth)).json()
    moved = (due - dt.timedelta(seconds=28)).isoformat()
    assert (await api.patch(f"/todos/{todo['todo_id']}", json={"due_at": moved}, headers=auth)).status_code == 200
    handle = temporal.get_workflow_handle(todo["reminder_workflow_id"])
    await handle.result()
    return await handle.fetch_history()


async def test_the_recorded_reminder_history_replays() -> None:
    history = WorkflowHistory.from_json("recorded-reminder", REMINDER_HISTORY.read_text())
    scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events]
    assert scheduled.count("send_reminder") == 1 and scheduled.count("reminder_plan") >= 2
    await Replayer(workflows=[ReminderWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def test_a_fresh_reminder_history_replays(api: httpx.AsyncClient, temporal: Client) -> None:
    history = await reminder_history(api, temporal)
    await Replayer(workflows=[ReminderWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)
