"""Todos and reminders on the real stack: todos generated from imported mail, the user's own, reminders sent by
each todo's ReminderWorkflow (to the outbox folder without a Resend key; through the real `resend` SDK to a local
stand-in with one), cancelled and rescheduled; status-change emails sent once."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import httpx
import msgspec
import pytest
from redis.asyncio import Redis
from temporalio.client import Client, WorkflowExecutionStatus

from activities.mail_delivery import outbox_folder, read_outbox
from activities.question_bank import QuestionBank
from schema.todos import ReminderResult
from stack.sample_mail import mbox, redated
from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import isolated_api, sign_up
from tests.standins import resend_api
from tests.test_applications import by_company, import_mail, synced
from workflows.reminder import ReminderWorkflow
from workflows.worker import mocki_workers


def soon(seconds: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat()


def outbox_emails(settings: Settings, to: str) -> list[EmailMessage]:
    """The emails written to the session worker's outbox folder for `to`."""
    return [message for _, message in read_outbox(outbox_folder(settings), to)]


async def wait_for(condition: Any, seconds: float = 20) -> None:
    for _ in range(int(seconds * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def create(api: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await api.post("/todos", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def reminders_ended(temporal: Client, todo: dict[str, Any]) -> ReminderResult:
    return await temporal.get_workflow_handle_for(ReminderWorkflow.run, todo["reminder_workflow_id"]).result()


async def sync_finished(temporal: Client, workflow_id: str) -> None:
    """The email sync's run has ended: its todos, reminders and notifications are done too."""
    await temporal.get_workflow_handle(workflow_id).result()


async def test_a_reminder_is_sent_before_the_deadline_and_only_the_reminders_still_ahead(
    api: httpx.AsyncClient, temporal: Client, settings: Settings
) -> None:
    auth, address = await sign_up(api)
    # Due in just over an hour: the 1 h reminder comes in about 4 s; the 24 h one had passed when it was set.
    todo = await create(api, auth, title="Send the signed NDA to Lumen", due_at=soon(3600 + 4))
    assert todo["status"] == "TODO" and todo["kind"] == "manual" and not todo["generated"]
    assert todo["reminders_scheduled"] is True
    assert [reminder["state"] for reminder in todo["reminders"]] == ["scheduled"]

    await wait_for(lambda: outbox_emails(settings, address))
    (reminder,) = outbox_emails(settings, address)
    assert reminder["Subject"] == "Reminder: Send the signed NDA to Lumen (in 1 hour)"
    assert "Due " in reminder.get_content() and "in 1 hour" in reminder.get_content()
    result = await reminders_ended(temporal, todo)
    assert (result.sent, result.reason) == (1, "all sent")
    shown = (await api.get(f"/todos/{todo['todo_id']}", headers=auth)).json()
    assert [reminder["state"] for reminder in shown["reminders"]] == ["sent"]


async def test_a_moved_deadline_reschedules_and_a_done_or_deleted_todo_is_not_reminded(
    api: httpx.AsyncClient, temporal: Client, settings: Settings
) -> None:
    auth, address = await sign_up(api)
    moved = await create(api, auth, title="Moved", due_at=soon(3600 + 120))
    done = await create(api, auth, title="Done early", due_at=soon(3600 + 4))
    deleted = await create(api, auth, title="Deleted", due_at=soon(3600 + 4))

    new_due = soon(3600 + 3)
    changed = await api.patch(f"/todos/{moved['todo_id']}", json={"due_at": new_due}, headers=auth)
    assert changed.status_code == 200 and changed.json()["due_at"] == dt.datetime.fromisoformat(new_due).isoformat()
    finished = await api.patch(f"/todos/{done['todo_id']}", json={"status": "DONE"}, headers=auth)
    assert finished.status_code == 200 and finished.json()["done_at"] and finished.json()["reminders"] == []
    assert (await api.delete(f"/todos/{deleted['todo_id']}", headers=auth)).status_code == 204

    await wait_for(lambda: outbox_emails(settings, address))
    results = {todo["title"]: await reminders_ended(temporal, todo) for todo in (moved, done, deleted)}
    assert {title: (result.sent, result.reason) for title, result in results.items()} == {
        "Moved": (1, "all sent"),
        "Done early": (0, "done"),
        "Deleted": (0, "done"),
    }
    await asyncio.sleep(2)  # nothing else arrives
    assert [message["Subject"] for message in outbox_emails(settings, address)] == ["Reminder: Moved (in 1 hour)"]
    assert (await api.get(f"/todos/{deleted['todo_id']}", headers=auth)).status_code == 404


async def test_mail_makes_todos_and_a_silent_application_a_follow_up(
    api: httpx.AsyncClient, temporal: Client, settings: Settings
) -> None:
    auth, address = await sign_up(api)
    now = dt.datetime.now(dt.UTC)
    mail = mbox(
        redated("d023", now - dt.timedelta(hours=1)),  # Contoso: an assessment "within 72 hours"
        redated("d031", now - dt.timedelta(hours=3)),  # Lumen: an invitation, no time yet
        redated("d005", now - dt.timedelta(days=12)),  # Tailspin: applied 12 days ago, nothing since
    )
    report = (await import_mail(api, auth, mail)).json()
    applications = by_company(await synced(api, auth))
    await sync_finished(temporal, report["workflow_id"])

    todos = {todo["kind"]: todo for todo in (await api.get("/todos", headers=auth)).json()["items"]}
    assert set(todos) == {"assessment", "interview", "prep", "follow_up"}, [todo["title"] for todo in todos.values()]
    assessment = todos["assessment"]
    assert assessment["title"].startswith("Complete the Contoso assessment by ")
    assert assessment["application_id"] == applications["Contoso"]["application_id"] and assessment["generated"]
    due = dt.datetime.fromisoformat(assessment["due_at"])
    assert abs(due - (now + dt.timedelta(hours=71))) < dt.timedelta(minutes=1)
    assert [reminder["state"] for reminder in assessment["reminders"]] == ["scheduled", "scheduled"]
    description = await temporal.get_workflow_handle(assessment["reminder_workflow_id"]).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING  # waiting for the 24 h moment
    assert todos["interview"]["title"] == "Schedule your interview with Lumen Health"
    assert todos["interview"]["due_at"] is None
    # and a mock interview to practise first, dated once the interview is
    assert todos["prep"]["title"] == "Practise a mock Backend Engineer interview for Lumen Health"
    assert todos["prep"]["due_at"] is None and todos["prep"]["application_id"] == todos["interview"]["application_id"]
    assert todos["follow_up"]["title"].startswith("Follow up with Tailspin")
    assert todos["follow_up"]["due_at"] is None and todos["follow_up"]["reminders"] == []

    # The invitation is news: one email says so.
    await wait_for(lambda: outbox_emails(settings, address))
    assert [message["Subject"] for message in outbox_emails(settings, address)] == [
        "Lumen Health invited you to interview"
    ]

    # The interview is booked: the same todo now says when, and its reminders are planned.
    interview = now + dt.timedelta(days=3)
    booked = redated(
        "d039",
        now - dt.timedelta(hours=2),
        {
            "Nov 18, 2026 at 3:00 PM": f"{interview:%b} {interview.day}, {interview.year} at 3:00 PM",
            "November 18, 2026, 3:00 PM": f"{interview:%B} {interview.day}, {interview.year}, 3:00 PM",
        },
    )
    report = (await import_mail(api, auth, mbox(booked))).json()
    await synced(api, auth)
    await sync_finished(temporal, report["workflow_id"])
    after = (await api.get("/todos", headers=auth)).json()["items"]
    assert len(after) == 4  # nothing made twice: no second follow-up, no second interview or prep todo
    prepare = next(todo for todo in after if todo["kind"] == "interview")
    assert prepare["todo_id"] == todos["interview"]["todo_id"]
    assert prepare["title"].startswith("Prepare for your interview at Lumen Health on ")
    assert dt.datetime.fromisoformat(prepare["due_at"]) == interview.replace(hour=15, minute=0, second=0, microsecond=0)
    assert [reminder["state"] for reminder in prepare["reminders"]] == ["scheduled", "scheduled"]
    practise = next(todo for todo in after if todo["kind"] == "prep")
    assert practise["todo_id"] == todos["prep"]["todo_id"]  # the same todo, now dated the day before
    assert dt.datetime.fromisoformat(practise["due_at"]) == dt.datetime.fromisoformat(prepare["due_at"]) - dt.timedelta(
        days=1
    )
    assert practise["title"].startswith("Practise a mock Backend Engineer interview for Lumen Health by ")
    assert len(outbox_emails(settings, address)) == 1  # the invitation was told once

    done = await api.patch(f"/todos/{assessment['todo_id']}", json={"status": "DONE"}, headers=auth)
    assert done.status_code == 200
    open_todos = (await api.get("/todos?status=TODO", headers=auth)).json()["items"]
    assert {todo["kind"] for todo in open_todos} == {"interview", "prep", "follow_up"}
    assert (await reminders_ended(temporal, assessment)).reason == "done"

    # Tailspin writes back: the follow-up is moot and closed; the user's own todos are never closed by mail.
    tailspin = next(application for company, application in applications.items() if company.startswith("Tailspin"))
    mine = await create(api, auth, title="Read up on Tailspin", application_id=tailspin["application_id"])
    report = (await import_mail(api, auth, mbox(redated("d018", now)))).json()
    await synced(api, auth)
    await sync_finished(temporal, report["workflow_id"])
    open_todos = (await api.get("/todos?status=TODO", headers=auth)).json()["items"]
    assert {todo["title"] for todo in open_todos} == {prepare["title"], practise["title"], mine["title"]}


async def test_old_mail_makes_no_todos_or_news(api: httpx.AsyncClient, temporal: Client, settings: Settings) -> None:
    """A mailbox from months ago is history: no todos for passed deadlines, no follow-up for a long-dead
    application, no "you were invited" email today."""
    auth, address = await sign_up(api)
    now = dt.datetime.now(dt.UTC)
    long_ago = now - dt.timedelta(days=70)
    mail = mbox(
        redated("d005", now - dt.timedelta(days=90)),  # applied, then silence for 90 days
        redated("d023", now - dt.timedelta(days=80)),
        redated("d031", now - dt.timedelta(days=75)),
        redated("d055", long_ago, {"December 4, 2026": f"{long_ago + dt.timedelta(days=5):%B %d, %Y}"}),
    )
    report = (await import_mail(api, auth, mail)).json()
    await synced(api, auth)
    await sync_finished(temporal, report["workflow_id"])
    assert (await api.get("/todos", headers=auth)).json()["items"] == []
    assert outbox_emails(settings, address) == []


async def test_todo_requests_are_checked_and_only_the_owner_sees_them(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    other, _ = await sign_up(api, name="Mallory")
    mine = await create(api, auth, title="Mine")
    for body, expected in (
        ({"title": ""}, "title"),
        ({"title": "x", "due_at": "2026-12-24T09:00:00"}, "due_at"),  # no time zone: ambiguous
        ({"title": "x", "due_at": "next week"}, "due_at"),
        ({"title": "x", "colour": "red"}, "colour"),
    ):
        response = await api.post("/todos", json=body, headers=auth)
        assert response.status_code == 400 and expected in response.text, (body, response.text)
    malformed = await api.post("/todos", content=b'{"title": ', headers={**auth, "Content-Type": "application/json"})
    assert malformed.status_code == 400
    bad_status = await api.patch(f"/todos/{mine['todo_id']}", json={"status": "MAYBE"}, headers=auth)
    assert bad_status.status_code == 400

    theirs = await api.post("/applications", json={"company": "Contoso"}, headers=other)
    stolen = await api.post(
        "/todos", json={"title": "x", "application_id": theirs.json()["application_id"]}, headers=auth
    )
    assert stolen.status_code == 404 and "no such application" in stolen.text
    for method in ("GET", "PATCH", "DELETE"):
        response = await api.request(method, f"/todos/{mine['todo_id']}", json={"title": "hacked"}, headers=other)
        assert response.status_code == 404, (method, response.text)
    assert (await api.get("/todos", headers=other)).json()["items"] == []
    assert (await api.get(f"/todos/{mine['todo_id']}", headers=auth)).json()["title"] == "Mine"
    cleared = await api.patch(
        f"/todos/{mine['todo_id']}", json={"due_at": soon(86400), "title": "Renamed"}, headers=auth
    )
    assert cleared.json()["title"] == "Renamed" and cleared.json()["due_at"]
    cleared = await api.patch(f"/todos/{mine['todo_id']}", json={"due_at": None}, headers=auth)
    assert cleared.json()["due_at"] is None and cleared.json()["reminders"] == []


@pytest.fixture
async def resend_worker(
    db: None, temporal: Client, settings: Settings, endpoints: Endpoints
) -> AsyncIterator[tuple[resend_api.Outbox, httpx.AsyncClient]]:
    """A worker whose emails go through the real `resend` SDK to the stand-in, and an API on its task queue."""
    outbox = resend_api.Outbox()
    queue = f"resend-{uuid.uuid4()}"
    redis = Redis.from_url(endpoints.redis_url)
    async with resend_api.running(outbox) as url:
        configured = msgspec.structs.replace(settings, resend_api_key=resend_api.API_KEY, resend_api_url=url)
        prefixed = msgspec.structs.replace(configured, task_queue_prefix=queue)
        worker = await mocki_workers(temporal, prefixed, redis, await QuestionBank.load())
        async with worker, isolated_api(settings, endpoints, MOCKI_TASK_QUEUE_PREFIX=queue) as app:
            yield outbox, app.client
    await redis.aclose()


async def test_with_a_resend_key_emails_go_through_resend_once_even_when_it_fails_first(
    resend_worker: tuple[resend_api.Outbox, httpx.AsyncClient], temporal: Client, settings: Settings
) -> None:
    outbox, api = resend_worker
    auth, address = await sign_up(api)
    outbox.failures_left = 1  # the first attempt gets a 500: the activity is retried, the email sent once
    todo = await create(api, auth, title="Call back Tailspin", due_at=soon(3600 + 3))
    result = await reminders_ended(temporal, todo)
    assert result.sent == 1
    (sent,) = [message for message in outbox.emails if message["to"] == [address]]
    assert sent["subject"] == "Reminder: Call back Tailspin (in 1 hour)" and "in 1 hour" in sent["text"]
    assert sent["from"] == settings.mail_from and sent["idempotency_key"]
    assert outbox.attempts >= 2
    assert not outbox_emails(settings, address)  # nothing went to the local outbox
    shown = (await api.get(f"/todos/{todo['todo_id']}", headers=auth)).json()
    assert [reminder["state"] for reminder in shown["reminders"]] == ["sent"]
