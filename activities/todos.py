"""Todos and notifications: the todos an application's events call for, follow-ups after silence, the reminders
a todo's ReminderWorkflow sends before its deadline, and status-change emails.

A notification is written (once, by its unique `dedupe_key`) before it is sent, and sent with its row id as the
idempotency key, so neither a retried activity nor two senders at once email the user twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.mail_classifier import EmailAnalysis
from activities.mail_delivery import Delivery, OutgoingMail
from activities.priority import priority_of
from schema.applications import SyncInput
from schema.tables import Notification, Todo
from schema.todos import ReminderDue, ReminderInput, ReminderPlan, ReminderSent
from stack.settings import Settings

FOLLOW_UP_AFTER = dt.timedelta(days=10)
# Older mail is history, not news: an imported archive makes no follow-ups for long-dead applications, no undated
# todos for months-old emails and no "you were invited" email about last year's invitation.
FOLLOW_UP_UNTIL = dt.timedelta(days=45)
UNDATED_TODO_WITHIN = dt.timedelta(days=30)
NOTIFY_WITHIN = dt.timedelta(days=7)
AWAITING_REPLY = ("applied", "viewed", "replied")  # silence after these is worth a follow-up
CLOSED_STEPS = ("assessment", "interview", "prep", "follow_up")
INTERVIEW_STATUSES = ("interview_invitation", "interview_scheduled")
PRACTISE_AHEAD = dt.timedelta(days=1)  # a mock interview is suggested the day before the real one
PRACTISE_AHEAD_AT_LEAST = dt.timedelta(hours=1)  # or, when that day has passed, an hour before
MOOT_AFTER = {  # generated todos of these kinds are done once an email of that status arrives (else: follow_up)
    "offer": CLOSED_STEPS,
    "rejection": (*CLOSED_STEPS, "offer"),
    "withdrawn": (*CLOSED_STEPS, "offer"),
}
STATUS_NOTIFIED = {
    "interview_invitation": "{company} invited you to interview",
    "offer": "An offer from {company}",
}


def reminder_workflow_id(todo: uuid.UUID | str) -> str:
    return f"reminder-{todo}"


def when(moment: dt.datetime) -> str:
    """ "Thu 3 Dec 2026, 17:00 UTC"; a deadline at the end of a day is just its date."""
    moment = moment.astimezone(dt.UTC)
    day = f"{moment:%a} {moment.day} {moment:%b %Y}"
    return day if (moment.hour, moment.minute) == (23, 59) else f"{day}, {moment:%H:%M} UTC"


def practise_by(interview_at: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """When to have practised for an interview at `interview_at` (None when its time is not known)."""
    if interview_at is None:
        return None
    suggested = interview_at - PRACTISE_AHEAD
    return suggested if suggested > now else interview_at - PRACTISE_AHEAD_AT_LEAST


def lead_in_words(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


async def todos_from_event(
    owner: uuid.UUID,
    application: dict[str, Any],
    event: uuid.UUID,
    analysis: EmailAnalysis,
    *,
    sent: dt.datetime,
    now: dt.datetime,
) -> None:
    """The todo an email's event calls for (inside the merge's transaction): complete an assessment, answer an
    offer, schedule and then prepare for an interview, and practise it in a mock interview first (one interview
    and one prep todo per application, moved when the interview is). None when its date has passed, or when it
    has no date and the email is over 30 days old."""
    await _close_moot(application["id"], analysis, now)
    interview = analysis.status in INTERVIEW_STATUSES
    due = analysis.interview_at if interview else analysis.deadline
    if (due is not None and due <= now) or (due is None and now - sent > UNDATED_TODO_WITHIN):
        return
    company = application["company"]
    status = analysis.status
    if status == "assessment":
        title = f"Complete the {company} assessment" + (f" by {when(analysis.deadline)}" if analysis.deadline else "")
        await _insert(owner, application["id"], "assessment", title, due_at=due, origin=f"assessment:{event}", now=now)
    elif status == "offer":
        title = f"Reply to {company}'s offer" + (f" by {when(analysis.deadline)}" if analysis.deadline else "")
        await _insert(owner, application["id"], "offer", title, due_at=due, origin=f"offer:{event}", now=now)
    elif status in INTERVIEW_STATUSES:
        at = analysis.interview_at
        title = (
            f"Prepare for your interview at {company} on {when(at)}"
            if at
            else f"Schedule your interview with {company}"
        )
        await _keep_one_open(owner, application["id"], "interview", title, due_at=at, event=event, now=now)
        practise = practise_by(at, now)
        role = application["position"] or "job"
        title = f"Practise a mock {role} interview for {company}" + (f" by {when(practise)}" if practise else "")
        await _keep_one_open(owner, application["id"], "prep", title, due_at=practise, event=event, now=now)


async def _keep_one_open(
    owner: uuid.UUID,
    application: uuid.UUID,
    kind: str,
    title: str,
    *,
    due_at: dt.datetime | None,
    event: uuid.UUID,
    now: dt.datetime,
) -> None:
    """One open todo of `kind` for the application: made once, and moved (its reminders follow) when a later
    email gives a new time."""
    open_todo = (
        await Todo.select(Todo.id, Todo.due_at)
        .where((Todo.application == application) & (Todo.kind == kind) & (Todo.status == "TODO"))
        .first()
    )
    if open_todo is None:
        await _insert(owner, application, kind, title, due_at=due_at, origin=f"{kind}:{event}", now=now)
    elif due_at is not None and due_at != open_todo["due_at"]:
        await Todo.update({Todo.title: title, Todo.due_at: due_at, Todo.updated_at: now}).where(
            Todo.id == open_todo["id"]
        )


async def _close_moot(application: uuid.UUID, analysis: EmailAnalysis, now: dt.datetime) -> None:
    """Marks DONE the generated todos an email makes moot: any reply ends the wait a follow-up was for; an offer,
    a rejection or a withdrawal ends the steps before it; an interview whose time has passed needs no scheduling.
    The user's own todos are theirs to close."""
    kinds = set(MOOT_AFTER.get(analysis.status or "", ("follow_up",)))
    if analysis.interview_at is not None and analysis.interview_at <= now:
        kinds |= {"interview", "prep"}
    await Todo.update({Todo.status: "DONE", Todo.done_at: now, Todo.updated_at: now}).where(
        (Todo.application == application)
        & (Todo.status == "TODO")
        & Todo.origin.is_not_null()
        & Todo.kind.is_in(sorted(kinds))
    )


async def notify_status(
    owner: uuid.UUID,
    application: dict[str, Any],
    status: str,
    *,
    next_step: str,
    sent: dt.datetime,
    now: dt.datetime,
) -> None:
    """Writes the email about an application reaching an interview invitation or an offer, once ever per
    application and status, when the email saying so is recent; the sync sends it."""
    subject = STATUS_NOTIFIED.get(status)
    if subject is None or now - sent > NOTIFY_WITHIN:
        return
    role = f" for the {application['position']} role" if application["position"] else ""
    body = f"{subject.format(company=application['company'])}{role}.\n\nNext step: {next_step}\n"
    await _notification(
        owner,
        "status",
        f"status:{application['id']}:{status}",
        subject.format(company=application["company"]),
        body,
        application=application["id"],
    )


async def _insert(
    owner: uuid.UUID,
    application: uuid.UUID | None,
    kind: str,
    title: str,
    *,
    due_at: dt.datetime | None,
    origin: str,
    now: dt.datetime,
) -> None:
    await Todo.raw(
        "INSERT INTO todo (id, owner, application, kind, title, due_at, status, origin, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, 'TODO', {}, {}, {}) ON CONFLICT (owner, origin) DO NOTHING",
        uuid.uuid4(),
        owner,
        application,
        kind,
        title[:300],
        due_at,
        origin,
        now,
        now,
    )


async def _notification(
    owner: uuid.UUID,
    kind: str,
    dedupe_key: str,
    subject: str,
    body: str,
    *,
    application: uuid.UUID | None = None,
    todo: uuid.UUID | None = None,
    due_at: dt.datetime | None = None,
    lead_seconds: int | None = None,
) -> None:
    await Notification.raw(
        "INSERT INTO notification (id, owner, kind, dedupe_key, todo, application, due_at, lead_seconds, subject, "
        "body, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT (dedupe_key) DO NOTHING",
        uuid.uuid4(),
        owner,
        kind,
        dedupe_key,
        todo,
        application,
        due_at,
        lead_seconds,
        subject,
        body,
        dt.datetime.now(dt.UTC),
    )


async def tell_reminders(client: Client, task_queue: str, todo: dict[str, Any]) -> None:
    """Tells the ReminderWorkflow of `todo` (its row) about this version of it: started, or told to look again if
    it runs (signal-with-start), when the todo has a deadline to remind of; else only told if it runs, to stop.
    Then notes which version it was told about."""
    if todo["status"] == "TODO" and todo["due_at"] is not None:
        await client.start_workflow(
            "ReminderWorkflow",
            ReminderInput(todo=str(todo["id"])),
            id=reminder_workflow_id(todo["id"]),
            task_queue=task_queue,
            start_signal="changed",
            priority=await priority_of(todo["owner"]),
        )
    else:
        await stop_reminders(client, todo["id"])
    await Todo.update({Todo.reminders_synced_at: todo["updated_at"]}).where(
        (Todo.id == todo["id"]) & (Todo.updated_at == todo["updated_at"])
    )


async def stop_reminders(client: Client, todo: uuid.UUID) -> None:
    """Tells the todo's ReminderWorkflow, if one runs, to look again (it ends when the todo is done or gone)."""
    try:
        await client.get_workflow_handle(reminder_workflow_id(todo)).signal("changed")
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:  # none runs: nothing to stop
            raise


async def deliver_notification(delivery: Delivery, notification: uuid.UUID) -> None:
    """Sends the notification unless it was sent; the row id is the transport's idempotency key."""
    row = (
        await Notification.select(
            Notification.subject, Notification.body, Notification.sent_at, Notification.owner.email
        )
        .where(Notification.id == notification)
        .first()
    )
    if row is None or row["sent_at"] is not None:
        return
    delivery_id = await delivery.send(
        OutgoingMail(to=row["owner.email"], subject=row["subject"], text=row["body"], idempotency_key=str(notification))
    )
    await Notification.update(
        {
            Notification.sent_at: dt.datetime.now(dt.UTC),
            Notification.transport: delivery.transport,
            Notification.delivery_id: delivery_id,
        }
    ).where(Notification.id == notification)


class TodoActivities:
    def __init__(self, delivery: Delivery, client: Client, settings: Settings) -> None:
        self._delivery = delivery
        self._client = client
        self._settings = settings

    @activity.defn
    async def follow_up_todos(self, request: SyncInput) -> int:
        """A "Follow up with X" todo for each application that has heard nothing for 10 days (and not yet 45)
        since it was applied to or last answered, once per silence. Returns how many were added."""
        now = dt.datetime.now(dt.UTC)
        silent = await Todo.raw(
            "SELECT a.id, a.company, a.position, e.id AS event, e.occurred_at FROM application a "
            "JOIN LATERAL (SELECT id, occurred_at FROM application_event WHERE application = a.id "
            "ORDER BY occurred_at DESC LIMIT 1) e ON true "
            "WHERE a.owner = {} AND NOT a.archived AND a.status = ANY({}) AND e.occurred_at BETWEEN {} AND {}",
            uuid.UUID(request.owner),
            list(AWAITING_REPLY),
            now - FOLLOW_UP_UNTIL,
            now - FOLLOW_UP_AFTER,
        )
        for row in silent:
            about = f" about the {row['position']} role" if row["position"] else ""
            title = f"Follow up with {row['company']}{about} (nothing heard since {when(row['occurred_at'])})"
            await _insert(
                uuid.UUID(request.owner),
                row["id"],
                "follow_up",
                title,
                due_at=None,
                origin=f"follow_up:{row['event']}",
                now=now,
            )
        return len(silent)

    @activity.defn
    async def schedule_reminders(self, request: SyncInput) -> int:
        """Tells the ReminderWorkflow of every todo changed since it last was (new generated todos, and any
        whose telling failed). Returns how many were told."""
        rows = await Todo.select(Todo.id, Todo.owner, Todo.status, Todo.due_at, Todo.updated_at).where(
            (Todo.owner == uuid.UUID(request.owner))
            & (Todo.status == "TODO")
            & Todo.due_at.is_not_null()
            & (Todo.reminders_synced_at.is_null() | (Todo.reminders_synced_at != Todo.updated_at))
        )
        for row in rows:
            await tell_reminders(self._client, self._settings.interview_task_queue, row)
        return len(rows)

    @activity.defn
    async def deliver_notifications(self, request: SyncInput) -> int:
        """Sends the owner's notifications not sent yet, oldest first. Returns how many were sent."""
        rows = (
            await Notification.select(Notification.id)
            .where((Notification.owner == uuid.UUID(request.owner)) & Notification.sent_at.is_null())
            .order_by(Notification.created_at)
        )
        for row in rows:
            await deliver_notification(self._delivery, row["id"])
        return len(rows)

    @activity.defn
    async def reminder_plan(self, request: ReminderInput) -> ReminderPlan:
        row = await Todo.select(Todo.status, Todo.due_at).where(Todo.id == uuid.UUID(request.todo)).first()
        return ReminderPlan(
            open=row is not None and row["status"] == "TODO",
            due_at=row["due_at"] if row else None,
            leads_seconds=list(self._settings.reminder_leads_seconds),
        )

    @activity.defn
    async def send_reminder(self, request: ReminderDue) -> ReminderSent:
        """Reminds the owner of the todo, unless it was done, deleted or moved since the reminder was planned."""
        todo = uuid.UUID(request.todo)
        row = await Todo.select().where(Todo.id == todo).first()
        if row is None or row["status"] != "TODO" or row["due_at"] != request.due_at:
            return ReminderSent(sent=False)
        lead = lead_in_words(request.lead_seconds)
        key = f"reminder:{todo}:{request.due_at.isoformat()}:{request.lead_seconds}"
        body = (
            f"{row['title']}\n\nDue {when(request.due_at)}: in {lead}.\n\n"
            "Mark it done in mocki once it is, and the reminders stop.\n"
        )
        await _notification(
            row["owner"],
            "reminder",
            key,
            f"Reminder: {row['title']} (in {lead})",
            body,
            todo=todo,
            application=row["application"],
            due_at=request.due_at,
            lead_seconds=request.lead_seconds,
        )
        notification = await Notification.select(Notification.id).where(Notification.dedupe_key == key).first()
        assert notification is not None  # just written, or written by an earlier attempt
        await deliver_notification(self._delivery, notification["id"])
        return ReminderSent(sent=True)
