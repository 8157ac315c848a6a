"""The job-application tracker: what the API returns and takes, and what the email sync workflow passes around."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schema.common import Body

ApplicationStatus = Literal[
    "referral",
    "applied",
    "viewed",
    "replied",
    "assessment",
    "interview_invitation",
    "interview_scheduled",
    "offer",
    "rejection",
    "withdrawn",
]
# How far along an application is: an older or lesser email never moves it back. A rejection, a withdrawal and an
# offer are what an email says otherwise: they always apply.
PROGRESS: dict[str, int] = {
    "referral": 0,
    "applied": 1,
    "viewed": 2,
    "replied": 3,
    "assessment": 4,
    "interview_invitation": 5,
    "interview_scheduled": 6,
    "offer": 7,
    "rejection": 8,
    "withdrawn": 8,
}
ALWAYS_APPLIES = frozenset({"offer", "rejection", "withdrawn"})
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class SyncInput(msgspec.Struct, frozen=True, kw_only=True):
    owner: str
    concurrency: int = 8  # messages analysed at once


class MessageRef(msgspec.Struct, frozen=True, kw_only=True):
    message: str  # mail_message.id


class MessageBatch(msgspec.Struct, frozen=True, kw_only=True):
    messages: list[str]  # mail_message.id, analysed in this order


class Pending(msgspec.Struct, frozen=True, kw_only=True):
    to_analyse: list[str]
    to_apply: list[str]  # analysed, not yet merged into applications, oldest email first


class SyncResult(msgspec.Struct, frozen=True, kw_only=True):
    analysed: int
    applied: int
    applications: int  # created or moved on by this sync


class SyncSchedule(msgspec.Struct, frozen=True, kw_only=True):
    schedule_id: str  # the Temporal Schedule, as its Web UI shows it
    every_minutes: int
    paused: bool
    next_run_at: str | None


class SyncScheduleChange(Body):
    every_minutes: Annotated[int, msgspec.Meta(ge=5, le=1440)] = 15
    paused: bool = False


class ImportReport(msgspec.Struct, frozen=True, kw_only=True):
    imported: int
    duplicates: int  # already imported (by Message-ID): not analysed again
    unreadable: list[str]  # "message 3: the reason", for each message that could not be read
    workflow_id: str  # the email sync that analyses them, as the Temporal Web UI shows it


class SyncStarted(msgspec.Struct, frozen=True, kw_only=True):
    workflow_id: str
    pending: int  # messages imported and not yet analysed and merged
    # The sync still works (after merging: follow-ups, reminders, emails); None when Temporal cannot be asked.
    running: bool | None = None


class EventView(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    occurred_at: str
    summary: str
    deadline: str | None
    interview_at: str | None
    provider: str  # which classifier read the email ("offline:rules+e5-softmax-v3"); "manual" / "manual:added" by hand
    from_email: bool


class ApplicationView(msgspec.Struct, frozen=True, kw_only=True):
    application_id: str
    company: str
    position: str | None
    status: str
    archived: bool
    source: str
    created_at: str
    updated_at: str
    events: list[EventView] | None = None  # the timeline, oldest first (on GET /applications/{id})


class ApplicationPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ApplicationView]


class NewApplication(Body):
    company: Name
    position: Name | None = None
    status: ApplicationStatus = "applied"


class ApplicationChange(Body):
    company: Name | None = None
    position: Name | None = None
    status: ApplicationStatus | None = None
    archived: bool | None = None
