"""Side effects of an interview: the plan, the transcript in Postgres, answer scoring and the report.

Every write is idempotent (keyed by room and turn number) because Temporal retries activities.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import itertools
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable
from statistics import mean
from typing import Any, TypeVar

import msgspec
from temporalio import activity

from activities.circuit import CircuitBreaker
from activities.context import ContextTurn, ContextWindow, fold, line
from activities.grounding import GROUNDED_STAGES, PlanGrounder, apply
from activities.llm import Interviewer, LeadListener
from activities.question_bank import DIFFICULTY_ORDER, BankQuestion, QuestionBank
from activities.reply_leads import ReplyLeads
from activities.retrieval import BankIndex
from activities.shadow import MATCH_AT_LEAST, BankMatcher, as_asked
from activities.specialists import allowed_follow_up, host_reply, route
from activities.tokens import token_counter
from schema.cached_reads import recent_interviews_key, room_state_key
from schema.interview import (
    AgentName,
    AnswerEvaluation,
    CodeReview,
    ContextSaving,
    ContextUse,
    DimensionScore,
    Hint,
    HintInput,
    InterviewPlan,
    InterviewReport,
    PlannedQuestion,
    PlanRequest,
    ReportRequest,
    ShadowRequest,
    ShadowScore,
    TurnOutcome,
    TurnRecord,
    TurnRequest,
    VoiceMetricsRecord,
    Weakness,
)
from schema.tables import CodeSubmission, InterviewContext, Room, TranscriptTurn
from schema.tables import InterviewReport as ReportRow
from stack.cache import TwoLevelCache

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
    "space_complexity": "Walk sequences with an index instead of slicing copies, and say how much memory you use.",
    "input_validation": "Decide what empty or unusual input should return, and handle it before the main loop.",
    "star": "Tell stories with STAR: the situation, your task, what you did, and the result.",
}
STRONG_SCORE = 4.0
HEARTBEAT_EVERY_SECONDS = 1.0
T = TypeVar("T")
QUOTE_CHARS = 160
SHADOW_LOOKBACK_TURNS = 40  # an answer spread over more turns than this is scored on its latest part


class InterviewActivities:
    def __init__(
        self,
        interviewer: Interviewer,
        bank: QuestionBank,
        bank_index: BankIndex,
        *,
        breaker: CircuitBreaker | None = None,
        leads: ReplyLeads | None = None,
        grounder: PlanGrounder | None = None,
        cache: TwoLevelCache | None = None,
    ) -> None:
        self._interviewer = interviewer
        self._cache = cache  # the API's cached reads this worker's writes change; None: nothing caches them
        self._leads = leads  # where a streaming model's acknowledgement goes ahead of the whole reply
        self._bank = bank
        self._matcher = BankMatcher(bank, bank_index)
        self._breaker = breaker  # None: the interviewer runs in this process, nothing remote to protect
        self._tokens = token_counter()
        self._grounder = grounder  # plans from a candidate's resume and job description

    @activity.defn
    async def plan_interview(self, request: PlanRequest) -> InterviewPlan:
        await self._bank.refresh()
        recruiter = await _rooms_recruiter(activity.info().workflow_id)
        by_difficulty: dict[str, list[PlannedQuestion]] = {
            tier: self._bank.plan(
                request.role, tier, request.duration_minutes, request.coding_question_id, recruiter=recruiter
            )
            for tier in DIFFICULTY_ORDER
        }
        provider = "question-bank"
        grounding = None
        if request.resume_id and self._grounder is not None:
            order = [request.difficulty, *(t for t in DIFFICULTY_ORDER if t != request.difficulty)]
            asked = [q.id for tier in order for q in by_difficulty[tier] if q.stage in GROUNDED_STAGES]
            grounding = await self._grounder.ground(request, list(dict.fromkeys(asked)))
        if grounding is not None:
            by_difficulty = {tier: apply(grounding, plan) for tier, plan in by_difficulty.items()}
            provider = f"question-bank, grounded in the {grounding.note}"
        return InterviewPlan(
            questions=by_difficulty[request.difficulty],
            provider=provider,
            by_difficulty=by_difficulty,
            model_in_process=self._interviewer.in_process,
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
                tokens=self._tokens.count(line(turn.speaker, turn.text)),
                grounded_in=msgspec.json.encode(turn.grounded_in).decode() if turn.grounded_in else None,
            )
        ).on_conflict(target=(TranscriptTurn.room, TranscriptTurn.seq), action="DO NOTHING")
        # The workflow changes what it shows (next question, stage, tier) before recording the turn that says so:
        # rooms' pollers see it now.
        await self._invalidate(room_state_key(turn.room_id))

    @activity.defn
    async def record_voice_metrics(self, record: VoiceMetricsRecord) -> None:
        """Keep how a spoken reply came about with the reply itself (idempotent: the same figures overwrite)."""
        await TranscriptTurn.update({TranscriptTurn.voice: msgspec.json.encode(record.metrics).decode()}).where(
            (TranscriptTurn.room == record.room_id)
            & (TranscriptTurn.seq == record.seq)
            & (TranscriptTurn.speaker == "ai")
        )

    @activity.defn
    async def respond(self, request: TurnRequest) -> TurnOutcome:
        """Route a recorded candidate turn to its agent; an answer is scored (and maybe followed up), in context."""
        await self._bank.refresh()
        row = (
            await TranscriptTurn.select(TranscriptTurn.text, TranscriptTurn.stage)
            .where((TranscriptTurn.room == request.room_id) & (TranscriptTurn.seq == request.seq))
            .first()
        )
        if row is None:
            raise LookupError(f"turn {request.seq} of room {request.room_id} was not recorded")
        question = self._bank.get(request.question_id)
        context, use = await self._context(request.room_id, request.seq)
        routed = route(question.stage, row["text"])
        intent, agent = routed.intent, routed.agent
        if intent != "answer":
            await _store_context_use(request, use)
            # A question about the code is answered in the workflow, which holds the latest test run.
            reply = None if intent == "code_question" else host_reply(intent, question)
            return TurnOutcome(intent=intent, agent=agent, reply=reply, context=use, provider="policy:router")
        answer = await self._answer_so_far(request, row["text"]) if request.follow_ups_asked else row["text"]
        started = time.perf_counter()
        evaluation = await self._call_model(question, answer, agent, context, lead=self._lead_listener(request))
        model_ms = (time.perf_counter() - started) * 1000
        if evaluation.follow_up and not allowed_follow_up(question, evaluation, request.follow_ups_asked):
            evaluation = msgspec.structs.replace(evaluation, follow_up=None)
        await TranscriptTurn.update(
            {
                TranscriptTurn.score: evaluation.score,
                TranscriptTurn.evaluation: msgspec.json.encode(evaluation).decode(),
                TranscriptTurn.prompt_tokens: use.prompt_tokens,
                TranscriptTurn.transcript_tokens: use.transcript_tokens,
            }
        ).where((TranscriptTurn.room == request.room_id) & (TranscriptTurn.seq == request.seq))
        return TurnOutcome(
            intent=intent,
            agent=agent,
            evaluation=evaluation,
            context=use,
            provider=evaluation.provider,
            model_ms=round(model_ms, 3),
        )

    @activity.defn
    async def shadow_score(self, request: ShadowRequest) -> ShadowScore:
        """A person is interviewing: score the candidate's answer silently, against the rubric of the bank question
        most like the person's (activities/shadow.py). Kept with the answer, for the report."""
        await self._bank.refresh()
        rows = await (
            TranscriptTurn.select(TranscriptTurn.seq, TranscriptTurn.speaker, TranscriptTurn.text)
            .where((TranscriptTurn.room == request.room_id) & (TranscriptTurn.seq <= request.seq))
            .order_by(TranscriptTurn.seq, ascending=False)
            .limit(SHADOW_LOOKBACK_TURNS)
        )
        # The answer: the candidate's turns since an interviewer (a person or the AI) last spoke.
        answer_turns = list(itertools.takewhile(lambda r: r["speaker"] == "candidate", rows))
        answer = " ".join(r["text"] for r in reversed(answer_turns))
        asked = rows[len(answer_turns)] if len(answer_turns) < len(rows) else None
        planned = self._bank.get(request.question_id)
        if asked is not None and asked["speaker"] == "human":
            match = await self._matcher.nearest(asked["text"])
            question, similarity, matched_by = match.question, match.similarity, f", matched by {match.provider}"
            if question is not None:
                question = as_asked(question, asked["text"])
            unmatched = (
                f"Not scored: nothing in the question bank is like this question (closest: {match.closest_id}, "
                f"similarity {match.similarity} < {MATCH_AT_LEAST})."
            )
        else:  # the person took over on the AI's own question: its rubric applies as it is
            question, similarity, matched_by, unmatched = planned, None, "", ""
        by_person = asked is not None and asked["speaker"] == "human"
        routed = route(question.stage, answer) if question else None
        shadow = ShadowScore(
            question=question.text if question else asked["text"] if asked else planned.text,
            asked_by="human" if by_person else "ai",
            asked_seq=asked["seq"] if asked else None,
            matched_question_id=question.id if question else None,
            similarity=similarity,
            score=None,
            feedback=unmatched or "Not scored: a request to the interviewer, not an answer.",
            provider=f"policy:shadow{matched_by}",
        )
        if question is not None and routed is not None and routed.intent == "answer":
            context, _ = await self._context(request.room_id, request.seq)
            evaluation = await self._call_model(question, answer, routed.agent, context)
            shadow = msgspec.structs.replace(
                shadow,
                score=evaluation.score,
                feedback=evaluation.feedback,
                provider=f"{evaluation.provider}{matched_by}",
                signals=evaluation.signals,
            )
        await TranscriptTurn.update({TranscriptTurn.shadow: msgspec.json.encode(shadow).decode()}).where(
            (TranscriptTurn.room == request.room_id) & (TranscriptTurn.seq == request.seq)
        )
        return shadow

    def _lead_listener(self, request: TurnRequest) -> LeadListener | None:
        if self._leads is None or request.update_id is None:
            return None
        return functools.partial(self._leads.publish, request.update_id)

    async def _call_model(
        self,
        question: BankQuestion,
        answer: str,
        agent: AgentName,
        context: ContextWindow,
        *,
        lead: LeadListener | None = None,
    ) -> AnswerEvaluation:
        def call() -> Awaitable[AnswerEvaluation]:
            return self._interviewer.evaluate(question, answer, agent=agent, context=context, on_acknowledgement=lead)

        return await _heartbeating(call() if self._breaker is None else self._breaker.call(call))

    async def _context(self, room_id: str, seq: int) -> tuple[ContextWindow, ContextUse]:
        """The summary buffer up to turn `seq`: fold what has grown old, keep the fold, count both sides."""
        stored = await InterviewContext.select(InterviewContext.summary, InterviewContext.summarised_through).where(
            InterviewContext.room == room_id
        ).first() or {"summary": "", "summarised_through": -1}
        rows = await (
            TranscriptTurn.select(
                TranscriptTurn.seq,
                TranscriptTurn.speaker,
                TranscriptTurn.stage,
                TranscriptTurn.text,
                TranscriptTurn.tokens,
                TranscriptTurn.question_id,
                TranscriptTurn.evaluation,
            )
            .where(
                (TranscriptTurn.room == room_id)
                & (TranscriptTurn.seq > stored["summarised_through"])
                & (TranscriptTurn.seq <= seq)
            )
            .order_by(TranscriptTurn.seq)
        )
        newer = [
            ContextTurn(
                seq=r["seq"],
                speaker=r["speaker"],
                stage=r["stage"],
                text=r["text"],
                tokens=r["tokens"] if r["tokens"] is not None else self._tokens.count(line(r["speaker"], r["text"])),
                question_id=r["question_id"],
                evaluation=msgspec.json.decode(r["evaluation"], type=AnswerEvaluation) if r["evaluation"] else None,
            )
            for r in rows
        ]
        window = fold(
            ContextWindow(summary=stored["summary"], summarised_through=stored["summarised_through"], recent=[]), newer
        )
        if window.summarised_through != stored["summarised_through"]:
            await InterviewContext.insert(
                InterviewContext(
                    room=room_id,
                    summary=window.summary,
                    summarised_through=window.summarised_through,
                    updated_at=dt.datetime.now(dt.UTC),
                )
            ).on_conflict(
                target=InterviewContext.room,
                action="DO UPDATE",
                values=[InterviewContext.summary, InterviewContext.summarised_through, InterviewContext.updated_at],
                # A retried activity may come back with an older fold: never move the summary backwards.
                where=InterviewContext.summarised_through < window.summarised_through,
            )
        totals = await TranscriptTurn.raw(
            "SELECT coalesce(sum(tokens), 0)::int AS tokens FROM transcript_turn WHERE room = {} AND seq <= {}",
            room_id,
            seq,
        )
        use = ContextUse(
            prompt_tokens=self._tokens.count(window.render()),
            transcript_tokens=int(totals[0]["tokens"]),
            tokenizer=self._tokens.name,
        )
        return window, use

    def _context_saving(self, turns: list[dict[str, Any]]) -> ContextSaving | None:
        used = [t for t in turns if t["prompt_tokens"] is not None and t["transcript_tokens"]]
        if not used:
            return None
        prompt = sum(t["prompt_tokens"] for t in used)
        transcript = sum(t["transcript_tokens"] for t in used)
        return ContextSaving(
            turns=len(used),
            prompt_tokens=prompt,
            transcript_tokens=transcript,
            saving=round(1 - prompt / transcript, 3),
            tokenizer=self._tokens.name,
        )

    async def _answer_so_far(self, request: TurnRequest, latest: str) -> str:
        """After a follow-up the answer is judged whole: the earlier answer to this question and this one."""
        earlier = await (
            TranscriptTurn.select(TranscriptTurn.text)
            .where(
                (TranscriptTurn.room == request.room_id)
                & (TranscriptTurn.question_id == request.question_id)
                & (TranscriptTurn.speaker == "candidate")
                & (TranscriptTurn.seq < request.seq)
                & TranscriptTurn.evaluation.is_not_null()
            )
            .order_by(TranscriptTurn.seq)
        )
        return " ".join([*(r["text"] for r in earlier), latest])

    @activity.defn
    async def write_hint(self, request: HintInput) -> Hint:
        """The authored hint ladder's next rung, pointed at what the candidate's last run got wrong."""
        await self._bank.refresh()
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
        await self._bank.refresh()
        turns = (
            await TranscriptTurn.select(
                TranscriptTurn.stage,
                TranscriptTurn.question_id,
                TranscriptTurn.text,
                TranscriptTurn.evaluation,
                TranscriptTurn.prompt_tokens,
                TranscriptTurn.transcript_tokens,
                TranscriptTurn.shadow,
            )
            .where((TranscriptTurn.room == request.room_id) & (TranscriptTurn.speaker == "candidate"))
            .order_by(TranscriptTurn.seq)
        )
        # A question answered again after a follow-up was scored as a whole the second time: that score counts.
        latest: dict[str, tuple[dict[str, object], AnswerEvaluation]] = {}
        for turn in turns:
            if turn["evaluation"] is not None and self._bank.get(turn["question_id"]).key_points:
                latest[turn["question_id"]] = (turn, msgspec.json.decode(turn["evaluation"], type=AnswerEvaluation))
        latest_code = await _latest_reviews(request.room_id)
        report = build_report(request.room_id, list(latest.values()), self._interviewer.provider, latest_code)
        # An answer given over several turns was scored whole each time: the last score of each question stands.
        shadows: dict[int | str, ShadowScore] = {}
        for turn in turns:
            if turn["shadow"] is not None:
                shadow = msgspec.json.decode(turn["shadow"], type=ShadowScore)
                shadows[shadow.asked_seq if shadow.asked_seq is not None else shadow.question] = shadow
        report = msgspec.structs.replace(
            report, context=self._context_saving(turns), shadow_scored=list(shadows.values())
        )
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
        room = await Room.select(Room.candidate).where(Room.id == request.room_id).first()
        candidate = room["candidate"] if room else None
        await self._invalidate(
            room_state_key(request.room_id), *([recent_interviews_key(candidate)] if candidate else [])
        )
        return report

    async def _invalidate(self, *keys: str) -> None:
        if self._cache is not None:
            await self._cache.invalidate(*keys)


async def _rooms_recruiter(workflow_id: str | None) -> str | None:
    """The recruiter who made the room (an interview's workflow id is its room's id): their own unshared questions
    may be planned into it. None for a candidate's practice room."""
    try:
        room_id = uuid.UUID(workflow_id or "")
    except ValueError:
        return None
    rows = await Room.select(Room.recruiter).where(Room.id == room_id)
    return str(rows[0]["recruiter"]) if rows and rows[0]["recruiter"] else None


async def _heartbeating(call: Awaitable[T]) -> T:
    """Await a model call while telling Temporal this worker is alive, so a dead worker's turn is retried within
    the heartbeat timeout instead of the call's full time limit. Local activities cannot heartbeat (nor need to)."""
    if activity.info().is_local:
        return await call
    task = asyncio.ensure_future(call)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY_SECONDS)
            if done:
                return task.result()
            activity.heartbeat()
    finally:
        task.cancel()  # a no-op once finished; stops the call if this activity is cancelled


async def _store_context_use(request: TurnRequest, use: ContextUse) -> None:
    await TranscriptTurn.update(
        {TranscriptTurn.prompt_tokens: use.prompt_tokens, TranscriptTurn.transcript_tokens: use.transcript_tokens}
    ).where((TranscriptTurn.room == request.room_id) & (TranscriptTurn.seq == request.seq))


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
