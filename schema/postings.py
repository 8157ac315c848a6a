"""Job postings, the recommendations ranked from them and the weekly digest: what the API returns and takes, and
what their workflows pass around."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from schema.common import Body

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class PostingFields(msgspec.Struct, frozen=True, kw_only=True):
    """One posting as read from an imported file, checked."""

    source_ref: str
    company: str
    title: str
    description: str
    location: str | None = None
    url: str | None = None
    posted_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None


class PostingImport(msgspec.Struct, frozen=True, kw_only=True):
    added: int
    updated: int  # already imported by you, changed since: indexed again
    unchanged: int
    shared: bool  # recruiters' and admins' postings reach every candidate; a candidate's own only them
    ignored_fields: list[str]  # columns or keys the file had that a posting does not
    unindexed: int  # postings (anyone's) still waiting to be embedded; recommendations skip them until then
    workflow_id: str


class PostingView(msgspec.Struct, frozen=True, kw_only=True):
    posting_id: str
    company: str
    title: str
    location: str | None
    url: str | None
    description: str
    posted_at: str | None
    closes_at: str | None
    shared: bool
    mine: bool
    indexed: bool  # embedded by the current model: it can be recommended
    created_at: str
    updated_at: str


class PostingPage(msgspec.Struct, frozen=True, kw_only=True):
    postings: list[PostingView]
    total: int


class PostingIndexInput(msgspec.Struct, frozen=True, kw_only=True):
    indexed_before: int = 0  # carried over continue-as-new


class PostingBatch(msgspec.Struct, frozen=True, kw_only=True):
    indexed: int
    remaining: int


class Recommendation(msgspec.Struct, frozen=True, kw_only=True):
    posting_id: str
    company: str
    title: str
    location: str | None
    url: str | None
    closes_at: str | None
    similarity: float  # cosine of the posting to your profile (resume and applications together)
    resume_similarity: float | None
    history_similarity: float | None  # to the closest role you applied for
    because: list[str]
    skills: list[str]  # your resume's skills the posting names


class Exclusion(msgspec.Struct, frozen=True, kw_only=True):
    company: str
    reason: str


class Recommendations(msgspec.Struct, frozen=True, kw_only=True):
    recommendations: list[Recommendation]
    resume_id: str | None  # the resume they were ranked against
    applications: int  # how many of your applications' roles they were ranked against
    excluded: list[Exclusion]  # companies left out, and why
    unindexed: int  # postings not embedded yet
    embedding_provider: str


class DigestInput(msgspec.Struct, frozen=True, kw_only=True):
    owner: str


class DigestResult(msgspec.Struct, frozen=True, kw_only=True):
    sent: bool
    postings: int
    reason: str


class DigestSchedule(msgspec.Struct, frozen=True, kw_only=True):
    schedule_id: str
    weekday: Weekday
    hour: int  # UTC
    paused: bool
    next_run_at: str | None


class DigestScheduleChange(Body):
    weekday: Weekday | None = None
    hour: Annotated[int, msgspec.Meta(ge=0, le=23)] | None = None
    paused: bool | None = None
