"""Todos: the ones the email sync generates from applications' events, and the user's own. Only the owner sees or
changes a todo; anyone else gets the same 404 as for one that does not exist. The database is the truth: every
device reads the same rows, at once.

A todo with a deadline has a ReminderWorkflow (24 h and 1 h before, by default); every change tells it. When
Temporal cannot be reached the change is still saved and `reminders_scheduled` is false: the next email sync
schedules them.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from temporalio.service import RPCError

from activities.todos import reminder_workflow_id, stop_reminders, tell_reminders
from schema.tables import Application, Notification, Todo
from schema.todos import NewTodo, ReminderView, TodoChange, TodoPage, TodoStatus, TodoView
from web.accounts import Principal
from web.limits import READS, WRITES, limited

log = logging.getLogger(__name__)


class TodoController(Controller):
    path = "/todos"
    tags = ["todos"]

    @get("/", operation_id="listTodos", guards=[limited(READS)])
    async def list_todos(
        self,
        state: State,
        request: Request[Principal, None, Any],
        status: Annotated[TodoStatus | None, QueryParameter(description="only TODO or only DONE")] = None,
        application_id: Annotated[uuid.UUID | None, QueryParameter(description="only this application's")] = None,
    ) -> TodoPage:
        """Your todos, soonest deadline first (those without one last)."""
        query = Todo.select().where(Todo.owner == request.user.id)
        if status is not None:
            query = query.where(Todo.status == status)
        if application_id is not None:
            query = query.where(Todo.application == application_id)
        rows = await query.order_by(Todo.due_at, Todo.created_at)  # ascending puts no deadline (NULL) last
        sent = await _sent_reminders([row["id"] for row in rows])
        return TodoPage(items=[_view(row, state, sent) for row in rows])

    @post("/", status_code=HTTP_201_CREATED, operation_id="createTodo", guards=[limited(WRITES)])
    async def create_todo(self, data: NewTodo, state: State, request: Request[Principal, None, Any]) -> TodoView:
        """Add a todo of your own, optionally with a deadline (reminded 24 h and 1 h before) and for one of your
        applications."""
        if data.application_id is not None:
            owned = await Application.exists().where(
                (Application.id == data.application_id) & (Application.owner == request.user.id)
            )
            if not owned:
                raise NotFoundException("no such application")
        now = dt.datetime.now(dt.UTC)
        inserted = await Todo.insert(
            Todo(
                id=uuid.uuid4(),
                owner=request.user.id,
                application=data.application_id,
                kind="manual",
                title=data.title.strip(),
                due_at=data.due_at,
                status="TODO",
                created_at=now,
                updated_at=now,
            )
        ).returning(*Todo.all_columns())
        return await _view_of(await _tell(state, inserted[0]), state)

    @get("/{todo_id:uuid}", operation_id="getTodo", guards=[limited(READS)])
    async def get_todo(
        self, todo_id: FromPath[uuid.UUID], state: State, request: Request[Principal, None, Any]
    ) -> TodoView:
        """One todo with its reminders: those sent for its current deadline and those still to come."""
        return await _view_of(await _owned(todo_id, request.user), state)

    @patch("/{todo_id:uuid}", operation_id="changeTodo", guards=[limited(WRITES)])
    async def change_todo(
        self, todo_id: FromPath[uuid.UUID], data: TodoChange, state: State, request: Request[Principal, None, Any]
    ) -> TodoView:
        """Rename it, move or clear its deadline (`"due_at": null`), or mark it DONE (its reminders stop) or TODO
        again. Moving the deadline plans its reminders afresh."""
        row = await _owned(todo_id, request.user)
        now = dt.datetime.now(dt.UTC)
        changes: dict[Any, Any] = {Todo.updated_at: now}
        if data.title is not None:
            changes[Todo.title] = data.title.strip()
        if data.due_at is not msgspec.UNSET:
            changes[Todo.due_at] = data.due_at
        if data.status is not None and data.status != row["status"]:
            changes[Todo.status] = data.status
            changes[Todo.done_at] = now if data.status == "DONE" else None
        updated = await Todo.update(changes).where(Todo.id == todo_id).returning(*Todo.all_columns())
        return await _view_of(await _tell(state, updated[0]), state)

    @delete("/{todo_id:uuid}", status_code=HTTP_204_NO_CONTENT, operation_id="deleteTodo", guards=[limited(WRITES)])
    async def delete_todo(
        self, todo_id: FromPath[uuid.UUID], state: State, request: Request[Principal, None, Any]
    ) -> None:
        """Delete it; its reminders stop. A generated todo is not made again for the same email."""
        await _owned(todo_id, request.user)
        await Todo.delete().where(Todo.id == todo_id)
        await stop_reminders(state.temporal, todo_id)


async def _tell(state: State, row: dict[str, Any]) -> dict[str, Any]:
    """The todo's ReminderWorkflow told about this version of it; returns the row as it now stands."""
    try:
        await tell_reminders(state.temporal, state.settings.interview_task_queue, row)
    except (RPCError, RuntimeError) as exc:  # saved all the same; the next email sync tells it
        log.warning("reminders of a todo could not be scheduled now: %s", exc)
        return row
    return {**row, "reminders_synced_at": row["updated_at"]}


async def _owned(todo_id: uuid.UUID, principal: Principal) -> dict[str, Any]:
    row = await Todo.select().where((Todo.id == todo_id) & (Todo.owner == principal.id)).first()
    if row is None:
        raise NotFoundException("no such todo")
    return row


async def _view_of(row: dict[str, Any], state: State) -> TodoView:
    return _view(row, state, await _sent_reminders([row["id"]]))


async def _sent_reminders(todos: list[uuid.UUID]) -> dict[tuple[uuid.UUID, dt.datetime], list[dt.datetime]]:
    """(todo, deadline) -> when each reminder for that deadline was sent."""
    if not todos:
        return {}
    rows = await Notification.select(Notification.todo, Notification.due_at, Notification.sent_at).where(
        Notification.todo.is_in(todos) & Notification.sent_at.is_not_null()
    )
    sent: dict[tuple[uuid.UUID, dt.datetime], list[dt.datetime]] = {}
    for row in rows:
        sent.setdefault((row["todo"], row["due_at"]), []).append(row["sent_at"])
    return sent


def _reminders(
    row: dict[str, Any], leads: tuple[int, ...], sent: dict[tuple[uuid.UUID, dt.datetime], list[dt.datetime]]
) -> list[ReminderView]:
    due = row["due_at"]
    if due is None:
        return []
    views = [ReminderView(at=at.isoformat(), state="sent") for at in sorted(sent.get((row["id"], due), []))]
    if row["status"] == "TODO":
        now = dt.datetime.now(dt.UTC)
        upcoming = (due - dt.timedelta(seconds=lead) for lead in leads)
        views += [ReminderView(at=at.isoformat(), state="scheduled") for at in upcoming if at > now]
    return views


def _view(row: dict[str, Any], state: State, sent: dict[tuple[uuid.UUID, dt.datetime], list[dt.datetime]]) -> TodoView:
    return TodoView(
        todo_id=str(row["id"]),
        title=row["title"],
        kind=row["kind"],
        status=row["status"],
        due_at=row["due_at"].isoformat() if row["due_at"] else None,
        application_id=str(row["application"]) if row["application"] else None,
        generated=row["origin"] is not None,
        created_at=row["created_at"].isoformat(),
        updated_at=row["updated_at"].isoformat(),
        done_at=row["done_at"].isoformat() if row["done_at"] else None,
        reminders=_reminders(row, state.settings.reminder_leads_seconds, sent),
        reminders_scheduled=row["reminders_synced_at"] == row["updated_at"] or row["due_at"] is None,
        reminder_workflow_id=reminder_workflow_id(row["id"]),
    )
