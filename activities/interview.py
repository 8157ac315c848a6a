"""Side effects of an interview: the plan, the transcript in Postgres, answer scoring and the report.

Every write is idempotent (keyed by room and turn number) because Temporal retries activities.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from statistics import mean

import msgspec
from temporalio import activity

from activities.circuit import CircuitBreaker
from activities.llm import Interviewer
from activities.question_bank import DIFFICULTY_ORDER, QuestionBank
from schema.interview import (
    AnswerEvaluation,
    CodeReview,
    DimensionScore,
    EvaluateRequest,
    Hint,
    HintInput,
    InterviewPlan,
    InterviewReport,
    PlanRequest,
    ReportRequest,
    TurnRecord,
    Weakness,
)
from schema.tables import CodeSubmission, Room, TranscriptTurn
from schema.tables import InterviewReport as ReportRow

# Which report dimension each stage's scores feed.
DIMENSION_OF_STAGE = {
    "intro": "communication",
    "behavioural": "behavioural_star",
    "knowledge": "knowledge",
    "coding": "problem_solving",
}
WEAK_SCORE = 2.5
# What to practise, by weakness signal.
PRACTICE = {
    "communication": "Answer in full sentences: the idea, an example, the trade-off (40 words or more).",
    "edge_cases": "Before submitting, list the edge cases (empty input, one element, duplicates) and test them.",
    "off_by_one": "Check index bounds and empty containers before indexing or popping.",
    "time_complexity": "Replace nested loops with a dict or a sort, and state the complexity out loud.",
    "variable_naming": "Name variables after what they hold (`bracket`, not `c`).",
    "code_structure": "Split long functions into small named steps.",
    "star": "Tell stories with STAR: the situation, your task, what you did, and the result.",
}
STRONG_SCORE = 4.0
QUOTE_CHARS = 160


class InterviewActivities:
    def __init__(self, interviewer: Interviewer, bank: QuestionBank, breaker: CircuitBreaker | None = None) -> None:
        self._interviewer = interviewer
        self._bank = bank
        self._breaker = breaker  # None: the interviewer runs in this process, nothing remote to protect

    @activity.defn
    async def plan_interview(self, request: PlanRequest) -> InterviewPlan:
        return InterviewPlan(
            questions=self._bank.plan(request.role, request.difficulty),
            provider="question-bank",
            by_difficulty={tier: self._bank.plan(request.role, tier) for tier in DIFFICULTY_ORDER},
        )

    @activity.defn
    async def record_turn(self, turn: TurnRecord) -> None:
        await TranscriptTurn.insert(
            TranscriptTurn(
                room=turn.room_id,
                seq=turn.seq,
                speaker=turn.speaker,
                stage=turn.stage,
                question_id=turn.question_id,
                text=turn.text,
                provider=turn.provider,
                created_at=dt.datetime.now(dt.UTC),
            )
        ).on_conflict(target=(TranscriptTurn.room, TranscriptTurn.seq), action="DO NOTHING")

    @activity.defn
    async def evaluate_answer(self, request: EvaluateRequest) -> AnswerEvaluation:
        row = (
            await TranscriptTurn.select(TranscriptTurn.text)
            .where((TranscriptTurn.room == request.room_id) & (TranscriptTurn.seq == request.seq))
            .first()
        )
        if row is None:
            raise LookupError(f"turn {request.seq} of room {request.room_id} was not recorded")
        question = self._bank.get(request.question_id)
        if self._breaker is None:
            evaluation = await self._interviewer.evaluate(question, row["text"])
        else:
            evaluation = await self._breaker.call(lambda: self._interviewer.evaluate(question, row["text"]))
        await TranscriptTurn.update(
            {
                TranscriptTurn.score: evaluation.score,
                TranscriptTurn.evaluation: msgspec.json.encode(evaluation).decode(),
            }
        ).where((TranscriptTurn.room == request.room_id) & (TranscriptTurn.seq == request.seq))
        return evaluation

    @activity.defn
    async def write_hint(self, request: HintInput) -> Hint:
        """The authored hint ladder's next rung, pointed at what the candidate's last run got wrong."""
        question = self._bank.get(request.question_id)
        text = question.hints[request.level - 1]
        review = request.last_review
        if review is not None:
            failing = [t for t in review.tests if not t.passed]
            if failing:
                first = failing[0]
                text += (
                    f" Your last run fails the '{first.name}' test ({first.error or f'it returned {first.actual}'})."
                )
            elif review.status != "ran":
                text += f" Your last submission did not run to the end ({review.status.replace('_', ' ')})."
        elif request.code:
            text += " Submit your code for review to see which tests it passes."
        return Hint(
            question_id=question.id,
            level=request.level,
            levels=len(question.hints),
            text=text,
            provider="question-bank",
        )

    @activity.defn
    async def write_report(self, request: ReportRequest) -> InterviewReport:
        turns = (
            await TranscriptTurn.select(
                TranscriptTurn.stage, TranscriptTurn.question_id, TranscriptTurn.text, TranscriptTurn.evaluation
            )
            .where((TranscriptTurn.room == request.room_id) & (TranscriptTurn.speaker == "candidate"))
            .order_by(TranscriptTurn.seq)
        )
        scored = [
            (turn, msgspec.json.decode(turn["evaluation"], type=AnswerEvaluation))
            for turn in turns
            if turn["evaluation"] is not None and self._bank.get(turn["question_id"]).key_points
        ]
        latest_code = await _latest_reviews(request.room_id)
        report = build_report(request.room_id, scored, self._interviewer.provider, latest_code)
        now = dt.datetime.now(dt.UTC)
        await ReportRow.insert(
            ReportRow(room=request.room_id, body=msgspec.json.encode(report).decode(), provider=report.provider)
        ).on_conflict(
            target=ReportRow.room,
            action="DO UPDATE",
            values=[ReportRow.body, ReportRow.provider],
        )
        await Room.update({Room.status: "ended", Room.ended_at: now}).where(
            (Room.id == request.room_id) & (Room.ended_at.is_null())
        )
        return report


def build_report(
    room_id: str,
    scored: list[tuple[dict[str, object], AnswerEvaluation]],
    default_provider: str,
    code: list[tuple[CodeReview, list[str]]],
) -> InterviewReport:
    """`code`: the latest review of each coding question, with its weakness signals."""
    by_dimension: dict[str, list[tuple[dict[str, object], AnswerEvaluation]]] = defaultdict(list)
    for turn, evaluation in scored:
        by_dimension[DIMENSION_OF_STAGE.get(str(turn["stage"]), "knowledge")].append((turn, evaluation))
    dimensions = [
        DimensionScore(
            dimension=name,
            score=round(mean(e.score for _, e in items), 2),
            evidence=" ".join(f"[{turn['question_id']}] {e.feedback}" for turn, e in items),
        )
        for name, items in sorted(by_dimension.items())
    ]
    dimensions += _code_dimensions([review for review, _ in code])
    strengths = [
        f"{turn['question_id']}: {', '.join(e.covered)}" for turn, e in scored if e.score >= STRONG_SCORE and e.covered
    ]
    weaknesses = [
        Weakness(
            topic=", ".join(e.missing) or str(turn["question_id"]),
            evidence=f"{turn['question_id']}: “{_quote(str(turn['text']))}” ({e.feedback})",
        )
        for turn, e in scored
        if e.score < WEAK_SCORE
    ]
    weaknesses += [
        Weakness(topic=f"{review.question_id} {finding.category}", evidence=finding.evidence)
        for review, _ in code
        for finding in review.findings
        if finding.verdict == "needs_work"
    ]
    signals = {signal for _, e in scored for signal in e.signals} | {s for _, signals in code for s in signals}
    practice = [PRACTICE[signal] for signal in sorted(signals) if signal in PRACTICE]
    behavioural = [e.score for turn, e in scored if turn["stage"] == "behavioural"]
    if behavioural and mean(behavioural) < WEAK_SCORE:
        practice.append(PRACTICE["star"])
    providers = sorted({e.provider for _, e in scored} | {review.provider for review, _ in code}) or [default_provider]
    return InterviewReport(
        room_id=room_id,
        overall=_overall(scored, dimensions),
        dimensions=dimensions,
        strengths=strengths,
        weaknesses=weaknesses,
        answered=len(scored),
        provider=", ".join(providers),
        recommended_practice=practice,
    )


def _overall(scored: list[tuple[dict[str, object], AnswerEvaluation]], dimensions: list[DimensionScore]) -> float:
    """The answers' mean score; a room without scored answers (a peer room) is judged on its code alone."""
    if scored:
        return round(mean(e.score for _, e in scored), 2)
    return round(mean(d.score for d in dimensions), 2) if dimensions else 0.0


def _code_dimensions(reviews: list[CodeReview]) -> list[DimensionScore]:
    """Correctness and edge cases from the tests that ran; complexity from the static look at the code."""
    if not reviews:
        return []
    dimensions = []
    for name in ("correctness", "edge_cases"):
        tests = [t for review in reviews for t in review.tests if t.category == name]
        evidence = [
            f"[{review.question_id}, attempt {review.attempt}] {f.evidence}"
            for review in reviews
            for f in review.findings
            if f.category == name
        ]
        if tests:
            score = 5.0 * sum(t.passed for t in tests) / len(tests)
            dimensions.append(DimensionScore(dimension=name, score=round(score, 2), evidence=" ".join(evidence)))
    complexity = [f for review in reviews for f in review.findings if f.category == "complexity"]
    if complexity:
        good = sum(f.verdict == "good" for f in complexity)
        dimensions.append(
            DimensionScore(
                dimension="complexity",
                score=round(5.0 * good / len(complexity), 2),
                evidence="static analysis: " + " ".join(f.evidence for f in complexity),
            )
        )
    return dimensions


async def _latest_reviews(room_id: str) -> list[tuple[CodeReview, list[str]]]:
    rows = await CodeSubmission.raw(
        "SELECT DISTINCT ON (question_id) review::text AS review, signals FROM code_submission "
        "WHERE room = {} ORDER BY question_id, attempt DESC",
        room_id,
    )
    return [(msgspec.json.decode(row["review"], type=CodeReview), list(row["signals"])) for row in rows]


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1] + "…"
