"""The question bank: its table, the starter bank (question_bank.json) loaded into it, and the plan drawn from it.

The worker reads the bank from Postgres at start and rereads it when a question was written since (`refresh`, at
the start of each activity that uses it). `mocki migrate` (and so `mocki up`) loads the starter bank, refreshing
starter questions when a newer bank version ships; `mocki seed --file` imports a team's own questions and
recruiters write theirs through the API (web/questions.py); the starter bank overwrites neither. Every coding
question is checked before it is stored: its reference solution must pass its own tests in the sandbox.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Literal

import msgspec

from activities.code_runner import CodeTest, run_tests_async
from activities.structure import SKILLS
from schema.interview import Difficulty, PlannedQuestion, Stage
from schema.tables import Question

BANK_PATH = Path(__file__).with_name("question_bank.json")
# How many questions of each stage an interview of at least this many minutes asks (the longest that fits).
PLAN_SHAPES: tuple[tuple[float, dict[Stage, int]], ...] = (
    (0, {"intro": 1, "behavioural": 1, "knowledge": 2, "coding": 1, "candidate_questions": 1}),
    (60, {"intro": 1, "behavioural": 2, "knowledge": 3, "coding": 1, "candidate_questions": 1}),
    (90, {"intro": 1, "behavioural": 2, "knowledge": 4, "coding": 2, "candidate_questions": 1}),
)
DEFAULT_MINUTES = 45
STAGES_ASKED: tuple[Stage, ...] = ("intro", "behavioural", "knowledge", "coding", "candidate_questions")
HINT_LEVELS = 3
DIFFICULTY_ORDER: tuple[Difficulty, ...] = ("easy", "medium", "hard")


# Which bank questions a reader may see, as SQL over `question q`: shared ones, the reader's own, or every one (an
# admin). Its two parameters: every (boolean), the reader's id (uuid, or NULL for none of their own).
VISIBLE_QUESTION = "(q.shared OR {}::boolean OR q.owner = {}::uuid)"


class KeyPoint(msgspec.Struct, frozen=True):
    name: str
    cues: list[str]  # lower-case phrases whose presence shows the point was made


class BankTest(msgspec.Struct, frozen=True):
    name: str
    args: list[object]
    expected: object
    category: str = "correctness"  # or "edge_cases": what a failure says about the code


class BankQuestion(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    stage: Stage
    roles: list[str]  # "*" matches every role
    difficulty: Difficulty | str  # "*" for any
    text: str
    key_points: list[KeyPoint]
    # Knowledge questions: the skills they test (activities/structure.py SKILLS), so a plan can target a job's.
    topics: list[str] = []
    # Coding questions only: the function to write, its tests, a hint ladder (nudge, approach, near-solution)
    # and a reference solution the tests are checked against.
    function: str | None = None
    tests: list[BankTest] = []
    hints: list[str] = []
    reference: str | None = None


class BankFile(msgspec.Struct, frozen=True):
    version: int
    questions: list[BankQuestion]


class BankError(ValueError):
    """A bank file that cannot be used; the message says which question and why."""


class SeedResult(msgspec.Struct, frozen=True):
    added: int
    updated: int
    kept: int  # already up to date, or a team's own question the starter bank does not overwrite


class QuestionBank:
    """The bank's questions. `questions` (what matching and grounding draw from) holds the active shared ones; a
    plan also draws on its room's recruiter's unshared questions; `get` finds any, retired ones too, since
    interviews planned before a question was retired go on asking and scoring it."""

    def __init__(self, questions: list[BankQuestion]) -> None:
        self._use(questions, frozenset(), {}, revision=None)

    def _use(
        self, questions: list[BankQuestion], retired: frozenset[str], owners: dict[str, str], revision: int | None
    ) -> None:
        self._active = [q for q in questions if q.id not in retired]
        self._owners = owners  # unshared question id -> its owner's id (planned only into that owner's rooms)
        self._by_id = {q.id: q for q in questions}
        self._revision = revision  # the highest revision read from Postgres; None: not read from Postgres

    @classmethod
    @cache
    def packaged(cls) -> QuestionBank:
        """The starter bank as shipped (what `mocki migrate` loads into the table)."""
        return cls(packaged_file().questions)

    @classmethod
    async def load(cls) -> QuestionBank:
        """The bank as stored in Postgres; `refresh` keeps it current."""
        bank = cls([])
        await bank._reload()
        return bank

    async def refresh(self) -> None:
        """Reread the bank if a question was written since it was read (one max() over the table), so a question
        a recruiter adds, edits or retires counts from the next activity on. A bank not read from Postgres stays."""
        if self._revision is None:
            return
        rows = await Question.raw("SELECT max(revision) AS revision FROM question")
        if rows[0]["revision"] != self._revision:
            await self._reload()

    async def _reload(self) -> None:
        rows = await Question.select(
            Question.body, Question.retired_at, Question.revision, Question.shared, Question.owner
        ).order_by(Question.id)
        if not rows:
            raise BankError("the question bank is empty: run `mocki migrate` (it loads the starter bank)")
        questions = [msgspec.json.decode(row["body"], type=BankQuestion) for row in rows]
        retired = frozenset(q.id for q, row in zip(questions, rows, strict=True) if row["retired_at"] is not None)
        # An unshared question whose owner's account is gone belongs to no room: "" matches no recruiter.
        owners = {q.id: str(row["owner"] or "") for q, row in zip(questions, rows, strict=True) if not row["shared"]}
        self._use(questions, retired, owners, revision=max(row["revision"] for row in rows))

    @property
    def questions(self) -> list[BankQuestion]:
        return [q for q in self._active if q.id not in self._owners]

    def get(self, question_id: str) -> BankQuestion:
        return self._by_id[question_id]

    def plan(
        self,
        role: str,
        difficulty: Difficulty,
        minutes: float = DEFAULT_MINUTES,
        coding: str | None = None,
        recruiter: str | None = None,
    ) -> list[PlannedQuestion]:
        """The same role, difficulty and length always give the same plan (the offline interviewer is
        deterministic); longer interviews ask more questions. `coding` pins the first coding question;
        `recruiter`'s own unshared questions are drawn on too (a room they made)."""
        pool = [q for q in self._active if q.id not in self._owners or self._owners[q.id] == recruiter]
        shape = next(counts for least, counts in reversed(PLAN_SHAPES) if minutes >= least)
        pinned = self._by_id[coding] if coding else None
        chosen: list[BankQuestion] = []
        for stage in [stage for stage, count in shape.items() for _ in range(count)]:
            if pinned is not None and stage == "coding" and pinned not in chosen:
                chosen.append(pinned)
                continue
            candidates = [q for q in pool if q.stage == stage and q not in chosen and q is not pinned]
            candidates.sort(key=lambda q: self._fit(q, role, difficulty))
            if candidates:
                chosen.append(candidates[0])
        return [PlannedQuestion(id=q.id, stage=q.stage, text=q.text) for q in chosen]

    @staticmethod
    def _fit(question: BankQuestion, role: str, difficulty: Difficulty) -> tuple[int, int, str]:
        """Sort key, best first: the role named outright, then difficulty distance, then id for stability."""
        words = role.lower().replace("-", " ").split()
        role_rank = 0 if any(r in words for r in question.roles) else 1 if "*" in question.roles else 2
        if question.difficulty == "*":
            distance = 0
        else:
            distance = abs(DIFFICULTY_ORDER.index(difficulty) - DIFFICULTY_ORDER.index(question.difficulty))
        return (role_rank, distance, question.id)


def packaged_file() -> BankFile:
    return msgspec.json.decode(BANK_PATH.read_bytes(), type=BankFile)


def read_bank_file(path: Path) -> BankFile:
    try:
        return msgspec.json.decode(path.read_bytes(), type=BankFile)
    except FileNotFoundError:
        raise BankError(f"{path}: no such file") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BankError(f"{path} is not a question bank: {exc}") from None


async def problems(question: BankQuestion) -> list[str]:
    """What makes a question unusable (empty: it is fine). Coding questions run their reference solution."""
    found = []
    if question.stage not in STAGES_ASKED:
        found.append(f"stage {question.stage!r} is not one the plan asks")
    if question.difficulty not in (*DIFFICULTY_ORDER, "*"):
        found.append(f"difficulty {question.difficulty!r} must be easy, medium, hard or *")
    if unknown := sorted(set(question.topics) - set(SKILLS)):
        found.append(f"topics {unknown} are not skills mocki recognises in documents ({', '.join(SKILLS)})")
    if question.stage in ("behavioural", "knowledge") and not question.key_points:
        found.append("a scored question needs key points to score against")
    if question.stage == "coding":
        if not (question.function and question.reference and question.tests):
            return [*found, "a coding question needs a function name, tests and a reference solution"]
        if len(question.hints) != HINT_LEVELS:
            found.append(f"a coding question needs {HINT_LEVELS} hints (nudge, approach, near-solution)")
        result = await run_tests_async(
            question.reference, question.function, [CodeTest(t.name, t.args, t.expected) for t in question.tests]
        )
        if result.status != "ran" or result.passed != len(question.tests):
            failing = [o.name for o in result.outcomes if not o.passed]
            found.append(f"its reference solution does not pass its tests ({result.status}; failing: {failing})")
    return found


async def seed(bank: BankFile, *, source: Literal["starter", "imported"]) -> SeedResult:
    """Store `bank`'s questions. Starter questions only replace older starter versions; imports replace anything.

    Every question to be written is checked first; if any cannot be used, nothing is written.
    """
    before = {row["id"]: row for row in await Question.select(Question.id, Question.source, Question.bank_version)}

    def kept(question: BankQuestion) -> bool:
        existing = before.get(question.id)
        if existing is None or source != "starter":
            return False
        return bool(existing["source"] != "starter" or existing["bank_version"] >= bank.version)

    to_write = [q for q in bank.questions if not kept(q)]
    unusable = {q.id: found for q in to_write if (found := await problems(q))}
    if unusable:
        detail = "; ".join(f"{qid}: {', '.join(found)}" for qid, found in sorted(unusable.items()))
        raise BankError(f"nothing was stored, because {len(unusable)} question(s) cannot be used: {detail}")
    now = dt.datetime.now(dt.UTC)
    for question in to_write:
        row = Question(
            id=question.id,
            stage=question.stage,
            difficulty=question.difficulty,
            roles=question.roles,
            body=msgspec.json.encode(question).decode(),
            source=source,
            bank_version=bank.version,
            updated_at=now,
        )
        await Question.insert(row).on_conflict(
            target=Question.id,
            action="DO UPDATE",
            values=[
                Question.stage,
                Question.difficulty,
                Question.roles,
                Question.body,
                Question.source,
                Question.bank_version,
                Question.updated_at,
            ],
        )
    added = sum(q.id not in before for q in to_write)
    return SeedResult(added=added, updated=len(to_write) - added, kept=len(bank.questions) - len(to_write))
