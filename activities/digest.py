"""The weekly digest: one email a week per user (on their Temporal Schedule `weekly-digest-{user}`) with postings
recommended for them that no earlier digest named, what happened to their applications that week, and the todos
due in the week ahead. A week with none of these sends nothing.

Written once per ISO week (the notification's `dedupe_key`) together with the postings it names, then sent: a
retried activity or a second tick in the same week sends the same email once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import uuid
from typing import Any

from piccolo.engine import engine_finder
from temporalio import activity
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)

from activities.embeddings import Embedder
from activities.mail_delivery import Delivery
from activities.recommendations import NoProfile, recommend
from activities.todos import deliver_notification, when
from activities.vault import Vault
from schema.postings import WEEKDAYS, DigestInput, DigestResult, Recommendation, Weekday
from schema.tables import Notification, RecommendedPosting
from stack.settings import Settings

DIGEST_POSTINGS = 5
WEEK = dt.timedelta(days=7)
DEFAULT_WEEKDAY: Weekday = "monday"
DEFAULT_HOUR = 8  # UTC


def digest_schedule_id(owner: str) -> str:
    return f"weekly-digest-{owner}"


def digest_schedule(owner: str, task_queue: str, weekday: Weekday, hour: int, *, paused: bool = False) -> Schedule:
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            "WeeklyDigestWorkflow",
            DigestInput(owner=owner),
            id=f"weekly-digest-run-{owner}",
            task_queue=task_queue,
            execution_timeout=dt.timedelta(hours=1),
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    # Temporal counts weekdays from Sunday = 0.
                    day_of_week=[ScheduleRange((WEEKDAYS.index(weekday) + 1) % 7)],
                    hour=[ScheduleRange(hour)],
                    # Each user at their own minute of the hour: not every digest at once.
                    minute=[ScheduleRange(int(hashlib.sha256(owner.encode()).hexdigest()[:8], 16) % 60)],
                )
            ]
        ),
        # A digest missed while Temporal was down still goes out that day, once.
        policy=SchedulePolicy(catchup_window=dt.timedelta(hours=12)),
    )
    schedule.state.paused = paused
    return schedule


def weekday_and_hour(schedule: Schedule) -> tuple[Weekday, int]:
    calendar = schedule.spec.calendars[0]
    return WEEKDAYS[(calendar.day_of_week[0].start - 1) % 7], calendar.hour[0].start


async def ensure_digest_schedule(client: Client, task_queue: str, owner: str) -> None:
    """Creates the owner's weekly digest schedule unless there is one (whose day the user may have set)."""
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(
            digest_schedule_id(owner), digest_schedule(owner, task_queue, DEFAULT_WEEKDAY, DEFAULT_HOUR)
        )


class DigestActivities:
    def __init__(self, embedder: Embedder, vault: Vault, delivery: Delivery, settings: Settings) -> None:
        self._embedder = embedder
        self._vault = vault
        self._delivery = delivery
        self._settings = settings

    @activity.defn
    async def send_weekly_digest(self, request: DigestInput) -> DigestResult:
        owner = uuid.UUID(request.owner)
        now = dt.datetime.now(dt.UTC)
        year, week, _ = now.isocalendar()
        key = f"digest:{owner}:{year}-W{week:02d}"
        written = await Notification.select(Notification.id).where(Notification.dedupe_key == key).first()
        if written is None:
            sent_before = await RecommendedPosting.select(RecommendedPosting.posting).where(
                RecommendedPosting.owner == owner
            )
            try:
                found = await recommend(
                    owner,
                    self._embedder,
                    self._vault,
                    limit=DIGEST_POSTINGS,
                    skip_rejected_days=self._settings.recommendations_skip_rejected_days,
                    now=now,
                    leave_out=[row["posting"] for row in sent_before],
                )
                postings = found.recommendations
            except NoProfile:
                postings = []
            events = await _events_since(owner, now - WEEK)
            due = await _todos_due(owner, now, now + WEEK)
            if not (postings or events or due):
                return DigestResult(sent=False, postings=0, reason="nothing new this week")
            await _write(owner, key, now=now, postings=postings, events=events, due=due)
            written = await Notification.select(Notification.id).where(Notification.dedupe_key == key).first()
            assert written is not None  # just written, here or by an attempt that ran alongside
        await deliver_notification(self._delivery, written["id"])
        named = await RecommendedPosting.count().where(RecommendedPosting.notification == written["id"])
        return DigestResult(sent=True, postings=named, reason="sent")


async def _events_since(owner: uuid.UUID, since: dt.datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await Notification.raw(
        "SELECT a.company, a.position, e.status, e.occurred_at FROM application_event e "
        "JOIN application a ON a.id = e.application WHERE a.owner = {} AND NOT a.archived AND e.occurred_at >= {} "
        "ORDER BY e.occurred_at",
        owner,
        since,
    )
    return rows


async def _todos_due(owner: uuid.UUID, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await Notification.raw(
        "SELECT title, due_at FROM todo WHERE owner = {} AND status = 'TODO' AND due_at BETWEEN {} AND {} "
        "ORDER BY due_at",
        owner,
        start,
        end,
    )
    return rows


async def _write(
    owner: uuid.UUID,
    key: str,
    *,
    now: dt.datetime,
    postings: list[Recommendation],
    events: list[dict[str, Any]],
    due: list[dict[str, Any]],
) -> None:
    subject = (
        f"Your week: {len(postings)} job{'s' if len(postings) != 1 else ''} you may like"
        if postings
        else "Your week in mocki"
    )
    notification = uuid.uuid4()
    async with engine_finder().transaction():  # type: ignore[union-attr]
        inserted = await Notification.raw(
            "INSERT INTO notification (id, owner, kind, dedupe_key, subject, body, created_at) "
            "VALUES ({}, {}, 'digest', {}, {}, {}, {}) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            notification,
            owner,
            key,
            subject,
            digest_text(now, postings, events, due),
            now,
        )
        if not inserted:  # an attempt alongside wrote this week's digest: it names its own postings
            return
        for posting in postings:
            await RecommendedPosting.raw(
                "INSERT INTO recommended_posting (id, owner, posting, notification) VALUES ({}, {}, {}, {}) "
                "ON CONFLICT (owner, posting) DO NOTHING",
                uuid.uuid4(),
                owner,
                uuid.UUID(posting.posting_id),
                notification,
            )


def digest_text(
    now: dt.datetime, postings: list[Recommendation], events: list[dict[str, Any]], due: list[dict[str, Any]]
) -> str:
    lines = [f"Your week in mocki, {now - WEEK:%d %b} to {now:%d %b %Y}", ""]
    if postings:
        lines += ["Jobs you may like", ""]
        for number, posting in enumerate(postings, start=1):
            where = f" ({posting.location})" if posting.location else ""
            lines.append(f"{number}. {posting.title} at {posting.company}{where}")
            if posting.because:
                lines.append(f"   Why: {'; '.join(posting.because)}.")
            if posting.closes_at:
                lines.append(f"   Applications close {when(dt.datetime.fromisoformat(posting.closes_at))}.")
            if posting.url:
                lines.append(f"   {posting.url}")
        lines.append("")
    if events:
        lines += ["Your applications this week", ""]
        for event in events:
            role = f", {event['position']}" if event["position"] else ""
            status = str(event["status"]).replace("_", " ")
            lines.append(f"- {event['company']}{role}: {status} ({event['occurred_at']:%a %d %b})")
        lines.append("")
    if due:
        lines += ["Due in the week ahead", ""]
        for todo in due:  # a generated title often says its deadline already
            deadline = when(todo["due_at"])
            lines.append(f"- {todo['title']}" if deadline in todo["title"] else f"- {todo['title']} (due {deadline})")
        lines.append("")
    lines.append("Change the day of this email or pause it in mocki (PUT /digest).")
    return "\n".join(lines) + "\n"
