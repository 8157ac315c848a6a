"""The starter question bank (question_bank.json) and the deterministic plan drawn from it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import msgspec

from schema.interview import Difficulty, PlannedQuestion, Stage

BANK_PATH = Path(__file__).with_name("question_bank.json")
# How many questions of each stage an interview of at least this many minutes asks (the longest that fits).
PLAN_SHAPES: tuple[tuple[float, dict[Stage, int]], ...] = (
    (0, {"intro": 1, "behavioural": 1, "knowledge": 2, "coding": 1, "candidate_questions": 1}),
    (60, {"intro": 1, "behavioural": 2, "knowledge": 3, "coding": 1, "candidate_questions": 1}),
    (90, {"intro": 1, "behavioural": 2, "knowledge": 4, "coding": 2, "candidate_questions": 1}),
)
DEFAULT_MINUTES = 45
DIFFICULTY_ORDER: tuple[Difficulty, ...] = ("easy", "medium", "hard")


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
    # Coding questions only: the function to write, its tests, a hint ladder (nudge, approach, near-solution)
    # and a reference solution the tests are checked against.
    function: str | None = None
    tests: list[BankTest] = []
    hints: list[str] = []
    reference: str | None = None


class _Bank(msgspec.Struct, frozen=True):
    version: int
    questions: list[BankQuestion]


class QuestionBank:
    def __init__(self, questions: list[BankQuestion]) -> None:
        self._questions = questions
        self._by_id = {q.id: q for q in questions}

    @classmethod
    @cache
    def packaged(cls) -> QuestionBank:
        return cls(msgspec.json.decode(BANK_PATH.read_bytes(), type=_Bank).questions)

    @property
    def questions(self) -> list[BankQuestion]:
        return list(self._questions)

    def get(self, question_id: str) -> BankQuestion:
        return self._by_id[question_id]

    def plan(self, role: str, difficulty: Difficulty, minutes: float = DEFAULT_MINUTES) -> list[PlannedQuestion]:
        """The same role, difficulty and length always give the same plan (the offline interviewer is
        deterministic); longer interviews ask more questions."""
        shape = next(counts for least, counts in reversed(PLAN_SHAPES) if minutes >= least)
        chosen: list[BankQuestion] = []
        for stage in [stage for stage, count in shape.items() for _ in range(count)]:
            candidates = [q for q in self._questions if q.stage == stage and q not in chosen]
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
