"""The loop from the inbox back to practice: an application invited to interview gets a prep plan, a mock interview
for that company's role suggested before the real one, and the weaknesses its mock interviews show."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from schema.common import Body
from schema.interview import Difficulty, WeaknessSummary


class PrepRoom(msgspec.Struct, frozen=True, kw_only=True):
    room_id: str
    workflow_id: str
    difficulty: str
    status: str  # active | ended
    created_at: str
    overall: float | None  # the report's overall score (0..5) once the room has ended
    scored_by: str | None  # who scored it: an offline score says so


class PrepPlan(msgspec.Struct, frozen=True, kw_only=True):
    application_id: str
    company: str
    position: str | None
    role: str  # what the mock interview is for (the application's position)
    interview_at: str | None  # the real interview, when an email gave its time
    practise_by: str | None  # the day before it (an hour before, when that day has passed); None: no time known
    # What a mock interview is planned from: your latest resume, and your newest job description naming the company.
    resume_id: str | None
    jd_id: str | None
    rooms: list[PrepRoom]  # mock interviews started from this plan, oldest first
    # What to practise: weaknesses seen in this plan's mock interviews first, then those of your other interviews.
    focus: list[WeaknessSummary]
    next_step: str


class StartPrepRoom(Body):
    difficulty: Difficulty = "medium"
    duration_minutes: Annotated[float, msgspec.Meta(ge=1, le=180)] = 45
    # Other documents of yours than the plan's (POST /documents, ready).
    resume_id: uuid.UUID | None = None
    jd_id: uuid.UUID | None = None
