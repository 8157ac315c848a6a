"""The question bank as recruiters manage it through the API (web/questions.py): what they send and read back.

The limits keep one question small enough to check at once (its reference solution runs against its tests).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from schema.interview import Stage

QuestionId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{2,59}$", description="lower-case, digits, -")]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
# A plan matches a question's roles against the words of a room's role ("Senior Backend Engineer").
RoleWord = Annotated[
    str, msgspec.Meta(pattern=r"^(\*|[A-Za-z0-9.+#]{1,40})$", description="one word of the job title it suits, or *")
]
Cue = Annotated[str, msgspec.Meta(min_length=2, max_length=120)]
Prose = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Source = Literal["starter", "imported", "team"]


class KeyPointDraft(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Label
    cues: Annotated[list[Cue], msgspec.Meta(min_length=1, max_length=20)]  # phrases whose presence shows the point


class TestDraft(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Label
    args: Annotated[list[object], msgspec.Meta(max_length=10)]
    expected: object
    category: Literal["correctness", "edge_cases"] = "correctness"


class QuestionDraft(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A question as written: coding ones also name the function to write, its tests, three hints (nudge,
    approach, near-solution) and a reference solution in Python that must pass the tests."""

    stage: Stage
    roles: Annotated[list[RoleWord], msgspec.Meta(min_length=1, max_length=20)]  # backend, sre, ...; "*": every role
    difficulty: Literal["easy", "medium", "hard", "*"]
    text: Prose
    key_points: Annotated[list[KeyPointDraft], msgspec.Meta(max_length=12)] = []
    topics: Annotated[list[Label], msgspec.Meta(max_length=12)] = []  # skills it tests, so a plan can target a job's
    function: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,59}$")] | None = None
    tests: Annotated[list[TestDraft], msgspec.Meta(max_length=50)] = []
    hints: Annotated[list[Prose], msgspec.Meta(max_length=3)] = []
    reference: Annotated[str, msgspec.Meta(max_length=20_000)] | None = None


class NewQuestion(QuestionDraft, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: QuestionId | None = None  # None: made from the text
    # Planned into every interview (only an admin may share); unshared, only into rooms its writer makes.
    # None: shared when an admin writes it, unshared when a recruiter does.
    shared: bool | None = None


class QuestionEdit(QuestionDraft, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # The revision this edit replaces: a question changed since is not overwritten. (Postgres bigint at most.)
    revision: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]
    shared: bool | None = None  # None: as it was; only an admin may change it


class BankEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    question: QuestionDraft
    source: Source  # starter: shipped with mocki; imported: `mocki seed --file`; team: written here
    revision: int  # send it back with an edit
    retired: bool  # no longer planned into new interviews
    shared: bool  # planned into every interview; else only into rooms its writer makes
    yours: bool  # you wrote it
    updated_at: dt.datetime
    updated_by: str | None  # who last wrote it here (None: shipped or imported)


class BankListItem(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    stage: Stage
    difficulty: str
    roles: list[str]
    text: str
    source: Source
    retired: bool
    shared: bool
    yours: bool
    updated_at: dt.datetime


class BankPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[BankListItem]
    total: int  # questions matching the filters, across all pages
    offset: int
