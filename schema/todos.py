"""Todos and their reminders: what the API returns and takes, and what the reminder workflow passes around."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from schema.common import Body

TodoStatus = Literal["TODO", "DONE"]
TodoKind = Literal["assessment", "offer", "interview", "follow_up", "manual"]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
# A deadline with its time zone ("2026-12-03T17:00:00Z"): a bare local time would be read as a guess.
Moment = Annotated[dt.datetime, msgspec.Meta(tz=True)]


class ReminderInput(msgspec.Struct, frozen=True, kw_only=True):
    todo: str  # todo.id


class ReminderPlan(msgspec.Struct, frozen=True, kw_only=True):
    open: bool  # exists and is not done
    due_at: dt.datetime | None
    leads_seconds: list[int]  # remind this long before the deadline (settings), largest first


class ReminderDue(msgspec.Struct, frozen=True, kw_only=True):
    todo: str
    due_at: dt.datetime
    lead_seconds: int


class ReminderSent(msgspec.Struct, frozen=True, kw_only=True):
    sent: bool  # False: the todo was done, deleted or its deadline moved meanwhile (the workflow looks again)


class ReminderResult(msgspec.Struct, frozen=True, kw_only=True):
    sent: int
    reason: str  # why it ended: "done", "no deadline", "all sent"


class ReminderView(msgspec.Struct, frozen=True, kw_only=True):
    at: str
    state: Literal["sent", "scheduled"]


class TodoView(msgspec.Struct, frozen=True, kw_only=True):
    todo_id: str
    title: str
    kind: str
    status: str
    due_at: str | None
    application_id: str | None
    generated: bool  # made from an application's event, not by hand
    created_at: str
    updated_at: str
    done_at: str | None
    reminders: list[ReminderView]  # for the current deadline: sent, and still to come
    reminders_scheduled: bool  # False: saved while Temporal was unreachable; the next email sync schedules them
    reminder_workflow_id: str  # as the Temporal Web UI shows it


class TodoPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[TodoView]


class NewTodo(Body):
    title: Title
    due_at: Moment | None = None
    application_id: uuid.UUID | None = None  # one of your applications


class TodoChange(Body):
    title: Title | None = None
    due_at: Moment | msgspec.UnsetType | None = msgspec.UNSET  # null clears the deadline
    status: TodoStatus | None = None
