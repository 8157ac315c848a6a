"""One interview room = one InterviewWorkflow (workflow id = room id). Deterministic: all I/O is in activities.

The candidate speaks through the `candidate_message` update: the turn is recorded, scored against the current
question's rubric, and the interviewer's reply (acknowledgement + next question) is recorded and returned.
`end` (a signal) closes the room: the report is written and the workflow completes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import msgspec
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.queues import queue

with workflow.unsafe.imports_passed_through():
    from activities.interview import InterviewActivities
    from activities.review import ReviewActivities
    from activities.specialists import CHECK_IN_PROVIDER, code_question_reply, coding_check_in
    from activities.voice import VoiceActivities
    from schema.interview import (
        AgentName,
        AskHint,
        CodeReview,
        CodingCheckIn,
        Difficulty,
        Hint,
        HintInput,
        Intent,
        InterviewerMode,
        InterviewerReply,
        InterviewOutcome,
        InterviewProgress,
        InterviewStart,
        InterviewState,
        PersonSaid,
        PlannedQuestion,
        PlanRequest,
        ReportRequest,
        ReviewInput,
        SendMessage,
        ShadowRequest,
        Speaker,
        SpeakRequest,
        Stage,
        SubmitCode,
        SwitchInterviewer,
        TurnOutcome,
        TurnRecord,
        TurnRequest,
        VoiceMetricsRecord,
        VoiceTurnMeasured,
    )

# Database writes are quick and idempotent: retry them soon and often.
DB_TIMEOUT = timedelta(seconds=10)
DB_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=10)
# Running code is bounded by the sandbox's own limits; a retry only helps when the worker died mid-run.
REVIEW_TIMEOUT = timedelta(seconds=30)
REVIEW_RETRY = RetryPolicy(maximum_attempts=2, non_retryable_error_types=["SandboxUnavailable", "LanguageUnavailable"])
# Model calls are slow and rate-limited: a failed call is retried three times, after 5 s, 10 s and 20 s (doubling
# from the room's `model_retry_seconds`). A rejected key is final, and so is an open circuit breaker.
MODEL_TIMEOUT = timedelta(seconds=60)
MODEL_HEARTBEAT_TIMEOUT = timedelta(seconds=5)  # a worker that dies mid-call is noticed this soon
# Speech is a nicety on top of the text reply: one quick retry, then the reply goes out without audio.
SPEECH_TIMEOUT = timedelta(seconds=30)
SPEECH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=2)
NO_AUDIO = "the reply could not be turned into speech, so it is text only"
MODEL_ATTEMPTS = 4
MODEL_FINAL_ERRORS = ["AuthenticationError", "PermissionDeniedError", "ProviderUnavailable"]
HINT_LEVELS = 3
UNRESOLVED_BELOW = 2.5  # a score still under this after a follow-up: the gap was not resolved
TIERS: tuple[Difficulty, ...] = ("easy", "medium", "hard")
ADAPTIVE_STAGES = ("knowledge", "coding")
QUICK_ANSWER = timedelta(minutes=2)
CLOSING = "That's the end of our interview. Thank you for your time; your report is being prepared."
# Each stage's share of the interview's duration; a stage over its share skips its remaining questions.
STAGE_SHARE: dict[Stage, float] = {
    "intro": 0.05,
    "behavioural": 0.20,
    "knowledge": 0.25,
    "coding": 0.40,
    "candidate_questions": 0.10,
}
OVER_TIME = "We're at the time we set for this part, so let's move on."
ALL_ANSWERED = "every question has been answered; end the room to get the report"
INTERVIEW_ENDED = "the interview has ended"
NO_CODING_FOR_CODE = "there is no coding question right now; code is reviewed during the coding stage"
NO_CODING_FOR_HINT = "hints are for the coding question; there is none right now"
MAX_PERSON_TURN_CHARS = 4000  # a transcribed utterance; a candidate's typed message has the same bound
NO_CODING_FOR_CHECK_IN = "check-ins are for the coding question; there is none right now"
SHADOW_SCORING = "shadow-scoring"  # workflow.patched id: scoring answers while a person interviews
PEER_ROOM = "this is a peer room: people interview here and the AI only gives hints and code reviews"


@workflow.defn
class InterviewWorkflow:
    @workflow.init
    def __init__(self, start: InterviewStart) -> None:
        # Given the input here, update validators know the room (its mode) even before `run` begins.
        self._start = start
        self._plan: list[PlannedQuestion] = []
        self._by_difficulty: dict[str, list[PlannedQuestion]] = {}
        self._tier: Difficulty = start.difficulty
        self._asked_at = workflow.now()  # when the current question was put
        self._stage_started = workflow.now()  # when the current stage's first question was put
        self._asked = 0  # questions put to the candidate so far
        self._next_seq = 0  # next transcript turn number
        self._finished = False  # every planned question answered
        self._ended = False
        # People interview in a peer room, from the start.
        self._interviewer: InterviewerMode = "human" if start.mode == "peer" else "ai"
        self._attempts: dict[str, int] = {}  # code submissions per coding question
        self._hints: dict[str, int] = {}  # hints given per question
        self._follow_ups: dict[str, int] = {}  # follow-up questions asked per question
        self._last_review: dict[str, CodeReview] = {}  # the latest review per coding question
        self._turn_lock = asyncio.Lock()  # one candidate turn at a time, in arrival order
        self._activities_started = 0  # numbers the activity ids of jobs
        self._model_in_process = False  # from the plan: the worker's interviewer model needs no network
        self._last_said: str | None = None
        if start.resumed is not None:
            self._resume(start.resumed)

    @workflow.run
    async def run(self, start: InterviewStart) -> InterviewOutcome:
        if start.resumed is None:
            await self._open(start)
        await workflow.wait_condition(lambda: self._ended or self._history_is_long())
        await workflow.wait_condition(workflow.all_handlers_finished)
        if not self._ended:
            # A long interview (a peer room open all day, many reviews) starts a fresh history; nothing is lost:
            # the transcript is in Postgres and the state travels with the new run.
            workflow.continue_as_new(msgspec.structs.replace(start, resumed=self._progress()))
        report = await workflow.execute_activity_method(
            InterviewActivities.write_report,
            ReportRequest(room_id=start.room_id),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            task_queue=queue("io"),
        )
        return InterviewOutcome(room_id=start.room_id, overall=report.overall, provider=report.provider)

    async def _open(self, start: InterviewStart) -> None:
        """Plan the interview and, in an ai room, greet the candidate with the first question."""
        async with self._turn_lock:
            plan = await workflow.execute_activity_method(
                InterviewActivities.plan_interview,
                PlanRequest(
                    role=start.role,
                    difficulty=start.difficulty,
                    duration_minutes=start.duration_minutes,
                    coding_question_id=start.coding_question_id,
                    resume_id=start.resume_id,
                    jd_id=start.jd_id,
                    documents_owner=start.documents_owner,
                ),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            self._plan = plan.questions
            self._by_difficulty = plan.by_difficulty
            self._model_in_process = plan.model_in_process
            self._stage_started = workflow.now()
            if start.mode == "peer":
                # The AI stands by the coding question for hints and reviews.
                self._asked = next(i for i, q in enumerate(self._plan) if q.stage == "coding") + 1
            else:
                first = self._plan[0]
                greeting = f"Hello {start.candidate_name}, welcome to your {start.role} practice interview. "
                await self._say(greeting + first.text, first, provider=plan.provider)
                self._asked = 1

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested() or info.get_current_history_length() >= self._start.history_event_limit
        )

    def _progress(self) -> InterviewProgress:
        return InterviewProgress(
            plan=self._plan,
            by_difficulty=self._by_difficulty,
            tier=self._tier,
            asked=self._asked,
            asked_at=self._asked_at.isoformat(),
            stage_started=self._stage_started.isoformat(),
            next_seq=self._next_seq,
            finished=self._finished,
            interviewer=self._interviewer,
            attempts=self._attempts,
            hints=self._hints,
            follow_ups=self._follow_ups,
            last_review=self._last_review,
            activities_started=self._activities_started,
            model_in_process=self._model_in_process,
            last_said=self._last_said,
        )

    def _resume(self, progress: InterviewProgress) -> None:
        self._plan = list(progress.plan)
        self._by_difficulty = {tier: list(plan) for tier, plan in progress.by_difficulty.items()}
        self._tier = progress.tier
        self._asked = progress.asked
        self._asked_at = datetime.fromisoformat(progress.asked_at)
        self._stage_started = datetime.fromisoformat(progress.stage_started)
        self._next_seq = progress.next_seq
        self._finished = progress.finished
        self._interviewer = progress.interviewer
        self._attempts = dict(progress.attempts)
        self._hints = dict(progress.hints)
        self._follow_ups = dict(progress.follow_ups)
        self._last_review = dict(progress.last_review)
        self._activities_started = progress.activities_started
        self._model_in_process = progress.model_in_process
        self._last_said = progress.last_said

    @workflow.update
    async def candidate_message(self, message: SendMessage) -> InterviewerReply:
        async with self._turn() as question:
            if self._finished:
                raise ApplicationError(
                    ALL_ANSWERED,
                    type="InterviewFinished",
                    non_retryable=True,
                )
            said_before = self._next_seq
            reply = await self._handle_message(question, message)
            if reply.text and self._next_seq > said_before:
                reply = msgspec.structs.replace(reply, seq=self._next_seq - 1)
                if message.speak:
                    reply = await self._with_audio(reply, seq=self._next_seq - 1)
            return reply

    async def _handle_message(self, question: PlannedQuestion, message: SendMessage) -> InterviewerReply:
        answer_seq = await self._record("candidate", message.text, question)
        if self._interviewer == "human":
            # A person is interviewing: the answer is in the transcript; the AI stays silent and scores it in the
            # shadow. (Histories from before shadow scoring replay without it.)
            if workflow.patched(SHADOW_SCORING):
                await self._shadow_score(question, answer_seq)
            return InterviewerReply(
                text="",
                stage=question.stage,
                difficulty=self._difficulty,
                question_id=question.id,
                finished=False,
                provider="human",
                interviewer="human",
            )
        update = workflow.current_update_info()
        request = TurnRequest(
            room_id=self._room_id,
            seq=answer_seq,
            question_id=question.id,
            follow_ups_asked=self._follow_ups.get(question.id, 0),
            update_id=update.id if update is not None else None,
        )
        if self._model_in_process:
            # An offline model answers in milliseconds: run it inside this workflow task, no server round trip.
            outcome = await workflow.execute_local_activity_method(
                InterviewActivities.respond,
                request,
                activity_id=self._job_activity_id("respond"),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
        else:
            outcome = await workflow.execute_activity_method(
                InterviewActivities.respond,
                request,
                activity_id=self._job_activity_id("respond"),
                start_to_close_timeout=MODEL_TIMEOUT,
                heartbeat_timeout=MODEL_HEARTBEAT_TIMEOUT,
                retry_policy=self._model_retry,
            )
        if outcome.evaluation is None:
            return await self._converse(question, outcome, code=message.code)
        evaluation = outcome.evaluation
        if evaluation.follow_up:
            # The question agent probes a partial answer once before the interview moves on.
            self._follow_ups[question.id] = self._follow_ups.get(question.id, 0) + 1
            text = f"{evaluation.acknowledgement} {evaluation.follow_up}"
            await self._say(text, question, provider=evaluation.provider)
            reply = self._reply(text, question, provider=evaluation.provider, agent="question_generation")
            return msgspec.structs.replace(reply, model_ms=outcome.model_ms)
        unresolved = self._follow_ups.get(question.id, 0) > 0 and evaluation.score < UNRESOLVED_BELOW
        transition = self._adapt(question, evaluation.score, unresolved=unresolved)
        if self._skip_rest_of_overrun_stage(question):
            transition = " ".join(filter(None, [OVER_TIME, transition]))
        finished = self._asked >= len(self._plan)
        self._finished = finished
        if finished:
            text, next_question = f"{evaluation.acknowledgement} {CLOSING}", None
        else:
            next_question = self._next_question()
            self._plan[self._asked] = next_question
            if next_question.stage not in ADAPTIVE_STAGES:
                transition = ""  # the tier still moved; it is only worth saying before a technical question
            text = " ".join(filter(None, [evaluation.acknowledgement, transition, next_question.text]))
            self._asked += 1
            self._asked_at = workflow.now()
            if next_question.stage != question.stage:
                self._stage_started = self._asked_at
        await self._say(text, next_question or question, provider=evaluation.provider)
        return InterviewerReply(
            text=text,
            stage=(next_question or question).stage,
            difficulty=self._difficulty,
            question_id=next_question.id if next_question else None,
            finished=finished,
            provider=evaluation.provider,
            agent=outcome.agent,
            model_ms=outcome.model_ms,
            grounded_in=next_question.grounded_in if next_question else None,
        )

    async def _shadow_score(self, question: PlannedQuestion, answer_seq: int) -> None:
        request = ShadowRequest(room_id=self._room_id, seq=answer_seq, question_id=question.id)
        try:
            if self._model_in_process:
                await workflow.execute_local_activity_method(
                    InterviewActivities.shadow_score,
                    request,
                    activity_id=self._job_activity_id("shadow_score"),
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                )
            else:
                await workflow.execute_activity_method(
                    InterviewActivities.shadow_score,
                    request,
                    activity_id=self._job_activity_id("shadow_score"),
                    start_to_close_timeout=MODEL_TIMEOUT,
                    heartbeat_timeout=MODEL_HEARTBEAT_TIMEOUT,
                    retry_policy=self._model_retry,
                    task_queue=queue("io"),
                )
        except ActivityError:
            # A silent score is never a reason to lose the candidate's turn: the report shows the answer unscored.
            workflow.logger.warning("shadow score of turn %s failed", answer_seq, exc_info=True)

    async def _with_audio(self, reply: InterviewerReply, *, seq: int) -> InterviewerReply:
        """The reply spoken; if speech fails, the reply stands as text and says why there is no audio."""
        try:
            audio = await workflow.execute_activity_method(
                VoiceActivities.speak_reply,
                SpeakRequest(room_id=self._room_id, seq=seq),
                activity_id=self._job_activity_id("speak_reply"),
                start_to_close_timeout=SPEECH_TIMEOUT,
                retry_policy=SPEECH_RETRY,
            )
        except ActivityError:
            return msgspec.structs.replace(reply, audio_error=NO_AUDIO)
        return msgspec.structs.replace(reply, audio=audio)

    async def _converse(self, question: PlannedQuestion, outcome: TurnOutcome, *, code: str | None) -> InterviewerReply:
        """A turn that is not an answer: a hint request on the coding question gets the next hint, a question about
        the code what its latest test run showed; a request for clarification or a moment to think gets the host's
        reply. The question stays the same."""
        text, provider = outcome.reply or "", outcome.provider
        if outcome.intent == "hint_request" and question.stage == "coding":
            if self._hints.get(question.id, 0) < HINT_LEVELS:
                hint = await self._give_hint(question, code=code)
                text = f"Hint {hint.level}: {hint.text}"
                return self._reply(text, question, provider=hint.provider, agent="coding", intent="hint_request")
            text = f"You've used all {HINT_LEVELS} hints for this question; talk me through where you're stuck."
        elif outcome.intent == "code_question":
            text, provider = code_question_reply(self._last_review.get(question.id)), CHECK_IN_PROVIDER
        await self._say(text, question, provider=provider)
        return self._reply(text, question, provider=provider, agent=outcome.agent, intent=outcome.intent)

    def _reply(
        self, text: str, question: PlannedQuestion, *, provider: str, agent: AgentName, intent: Intent = "answer"
    ) -> InterviewerReply:
        """A reply that keeps the candidate on the current question."""
        return InterviewerReply(
            text=text,
            stage=question.stage,
            difficulty=self._difficulty,
            question_id=question.id,
            finished=False,
            provider=provider,
            intent=intent,
            agent=agent,
        )

    @candidate_message.validator
    def _accept_message(self, message: SendMessage) -> None:
        if self._start.mode == "peer":
            raise ValueError(PEER_ROOM)
        if self._ended:
            raise ValueError(INTERVIEW_ENDED)
        if self._finished:
            raise ValueError(ALL_ANSWERED)

    @workflow.update
    async def submit_code(self, submission: SubmitCode) -> CodeReview:
        """Run the candidate's code against the current coding question's tests and review it."""
        async with self._coding_turn(NO_CODING_FOR_CODE) as question:
            attempt = self._attempts.get(question.id, 0) + 1
            self._attempts[question.id] = attempt
            review = await workflow.execute_activity_method(
                ReviewActivities.review_code,
                ReviewInput(
                    room_id=self._room_id,
                    question_id=question.id,
                    attempt=attempt,
                    code=submission.code,
                    language=submission.language,
                ),
                activity_id=self._job_activity_id("review_code"),
                start_to_close_timeout=REVIEW_TIMEOUT,
                retry_policy=REVIEW_RETRY,
                task_queue=queue("cpu"),
            )
            self._last_review[question.id] = review
            return review

    @submit_code.validator
    def _accept_code(self, submission: SubmitCode) -> None:
        self._refuse_unless_coding(NO_CODING_FOR_CODE)

    @workflow.update
    async def request_hint(self, ask: AskHint) -> Hint:
        """The next rung of the current question's hint ladder, aware of the latest test results."""
        async with self._coding_turn(NO_CODING_FOR_HINT) as question:
            if self._hints.get(question.id, 0) >= HINT_LEVELS:
                raise ApplicationError(
                    f"all {HINT_LEVELS} hints for this question are used", type="HintsUsed", non_retryable=True
                )
            return await self._give_hint(question, code=ask.code)

    async def _give_hint(self, question: PlannedQuestion, *, code: str | None) -> Hint:
        level = self._hints.get(question.id, 0) + 1
        self._hints[question.id] = level
        hint = await workflow.execute_activity_method(
            InterviewActivities.write_hint,
            HintInput(question_id=question.id, level=level, code=code, last_review=self._last_review.get(question.id)),
            activity_id=self._job_activity_id("write_hint"),
            start_to_close_timeout=MODEL_TIMEOUT,
            retry_policy=self._model_retry,
        )
        await self._say(f"Hint {level}: {hint.text}", question, provider=hint.provider)
        return hint

    @request_hint.validator
    def _accept_hint(self, ask: AskHint) -> None:
        self._refuse_unless_coding(NO_CODING_FOR_HINT)
        if self._asked and self._hints.get(self._plan[self._asked - 1].id, 0) >= HINT_LEVELS:
            raise ValueError(f"all {HINT_LEVELS} hints for this question are used")

    @workflow.update
    async def coding_check_in(self, check_in: CodingCheckIn) -> InterviewerReply:
        """The voice agent speaks up during coding, unasked (tests were run, or a long silence): the coding agent's
        remark, recorded like any other AI turn."""
        async with self._coding_turn(NO_CODING_FOR_CHECK_IN) as question:
            text = coding_check_in(check_in.reason, self._last_review.get(question.id))
            await self._say(text, question, provider=CHECK_IN_PROVIDER)
            reply = self._reply(text, question, provider=CHECK_IN_PROVIDER, agent="coding", intent="check_in")
            return msgspec.structs.replace(reply, seq=self._next_seq - 1)

    @coding_check_in.validator
    def _accept_check_in(self, check_in: CodingCheckIn) -> None:
        self._refuse_unless_coding(NO_CODING_FOR_CHECK_IN)
        if self._interviewer == "human":
            raise ValueError("a person is interviewing: the AI does not speak up")

    @workflow.signal
    async def person_said(self, said: PersonSaid) -> None:
        """A human interviewer spoke (transcribed by the voice agent): their words join the one transcript."""
        if self._ended or not self._asked or not said.text.strip():
            return
        await self._record("human", said.text.strip()[:MAX_PERSON_TURN_CHARS], self._plan[self._asked - 1])

    @workflow.signal
    async def voice_turn_measured(self, measured: VoiceTurnMeasured) -> None:
        """The voice agent's figures for a reply it spoke, kept with that turn (the room's record)."""
        if not 0 <= measured.seq < self._next_seq:
            workflow.logger.warning("voice metrics for unknown turn %s ignored", measured.seq)
            return
        await workflow.execute_local_activity_method(
            InterviewActivities.record_voice_metrics,
            VoiceMetricsRecord(room_id=self._room_id, seq=measured.seq, metrics=measured.metrics),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )

    @workflow.signal
    def end(self) -> None:
        self._ended = True

    @workflow.signal
    def switch_interviewer(self, switch: SwitchInterviewer) -> None:
        """Hand the questions to a person or back to the AI, which resumes at the current question."""
        if self._start.mode == "peer":
            return  # people always interview in a peer room (the API refuses the switch with a reason)
        self._interviewer = switch.mode

    @workflow.query
    def state(self) -> InterviewState:
        current = self._plan[self._asked - 1] if self._asked else None
        deadline = self._stage_deadline(current.stage) if current and not self._ended else None
        return InterviewState(
            stage=current.stage if current else None,
            difficulty=self._difficulty,
            questions_asked=self._asked,
            questions_planned=len(self._plan),
            ended=self._ended,
            interviewer=self._interviewer,
            stage_deadline=deadline.isoformat() if deadline else None,
            last_said=self._last_said,
        )

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[PlannedQuestion]:
        """One candidate action at a time, in arrival order, on the current question, never after the end.

        An action sent right after the room opens waits for the opening question (its handler can even run before
        `run` has started); one accepted while earlier actions were being handled may find the room ended by then.
        """
        await workflow.wait_condition(lambda: self._asked > 0)
        async with self._turn_lock:
            if self._ended:
                raise ApplicationError(INTERVIEW_ENDED, type="RoomEnded", non_retryable=True)
            yield self._plan[self._asked - 1]

    def _stage_deadline(self, stage: Stage) -> datetime | None:
        if self._start.mode == "peer" or stage not in STAGE_SHARE:
            return None
        return self._stage_started + timedelta(minutes=self._start.duration_minutes * STAGE_SHARE[stage])

    def _skip_rest_of_overrun_stage(self, question: PlannedQuestion) -> bool:
        """Once a stage has used its share of the time, its remaining questions leave the plan (every tier's)."""
        deadline = self._stage_deadline(question.stage)
        if deadline is None or workflow.now() < deadline:
            return False
        rest = self._asked
        end = rest
        while end < len(self._plan) and self._plan[end].stage == question.stage:
            end += 1
        if end == rest:
            return False
        del self._plan[rest:end]
        for tier_plan in self._by_difficulty.values():
            del tier_plan[rest:end]
        return True

    def _refuse_unless_coding(self, reason: str) -> None:
        """Validators of code and hint requests: they belong to an open room's coding question. A peer room still
        being planned (a request right after it was created) is let through, as it opens at its coding question;
        the handler checks once it is planned. An ai room opens with the introduction."""
        if self._ended:
            raise ValueError(INTERVIEW_ENDED)
        planned_stage = self._plan[self._asked - 1].stage if self._asked else None
        if planned_stage != "coding" and not (planned_stage is None and self._start.mode == "peer"):
            raise ValueError(reason)

    @asynccontextmanager
    async def _coding_turn(self, reason: str) -> AsyncIterator[PlannedQuestion]:
        async with self._turn() as question:
            if question.stage != "coding":
                raise ApplicationError(reason, type="NotCoding", non_retryable=True)
            yield question

    @property
    def _room_id(self) -> str:
        return self._start.room_id

    @property
    def _model_retry(self) -> RetryPolicy:
        first = timedelta(seconds=self._start.model_retry_seconds)
        return RetryPolicy(
            initial_interval=first,
            backoff_coefficient=2.0,
            maximum_interval=first * 2 ** (MODEL_ATTEMPTS - 2),
            maximum_attempts=MODEL_ATTEMPTS,
            non_retryable_error_types=MODEL_FINAL_ERRORS,
        )

    def _job_activity_id(self, name: str) -> str | None:
        """Activities run for a job (an update) carry its id, so a poll can tell a job waiting to retry from a
        running one; the rest keep Temporal's default ids."""
        update = workflow.current_update_info()
        if update is None:
            return None
        self._activities_started += 1
        return f"{update.id}/{name}/{self._activities_started}"

    @property
    def _difficulty(self) -> Difficulty:
        return self._tier

    def _adapt(self, question: PlannedQuestion, score: float, *, unresolved: bool) -> str:
        """Move between tiers on a knowledge or coding answer; returns what the interviewer says about it."""
        if question.stage not in ADAPTIVE_STAGES:
            return ""
        hints = self._hints.get(question.id, 0)
        review = self._last_review.get(question.id)
        pass_rate = review.passed / review.total if review and review.total else None
        quick = workflow.now() - self._asked_at <= QUICK_ANSWER
        tier = TIERS.index(self._tier)
        if score >= 4 and hints == 0 and pass_rate in (None, 1.0) and quick and tier < len(TIERS) - 1:
            self._tier = TIERS[tier + 1]
            return "Nicely done, so let's make the next one harder."
        # A follow-up that did not resolve the gap counts like a weak answer.
        struggling = score <= 1.5 or hints >= 2 or unresolved or (pass_rate is not None and pass_rate < 0.5)
        if struggling and tier > 0:
            self._tier = TIERS[tier - 1]
            return "No problem, that one is tough; let's try something a little more approachable."
        return ""

    def _next_question(self) -> PlannedQuestion:
        """The next slot's question at the current tier, never one already asked."""
        asked = {q.id for q in self._plan[: self._asked]}
        for tier in (self._tier, *TIERS):
            candidates = self._by_difficulty.get(tier)
            if candidates and candidates[self._asked].id not in asked:
                return candidates[self._asked]
        return self._plan[self._asked]

    async def _say(self, text: str, question: PlannedQuestion, *, provider: str) -> None:
        self._last_said = text
        await self._record("ai", text, question, provider=provider)

    async def _record(
        self, speaker: Speaker, text: str, question: PlannedQuestion, *, provider: str | None = None
    ) -> int:
        seq = self._next_seq
        self._next_seq += 1
        stage: Stage = question.stage
        # A quick, idempotent insert: a local activity, recorded in history without a round trip to the server.
        await workflow.execute_local_activity_method(
            InterviewActivities.record_turn,
            TurnRecord(
                room_id=self._room_id,
                seq=seq,
                speaker=speaker,
                stage=stage,
                text=text,
                question_id=question.id,
                provider=provider,
                grounded_in=question.grounded_in if speaker == "ai" else None,
            ),
            activity_id=self._job_activity_id("record_turn"),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        return seq
