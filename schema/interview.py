"""Structs of the interview: REST bodies, workflow and activity inputs/outputs. New fields get defaults."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

from schema.common import Body, Email

Difficulty = Literal["easy", "medium", "hard"]
Stage = Literal["intro", "behavioural", "knowledge", "coding", "candidate_questions", "wrap_up"]
Speaker = Literal["candidate", "ai", "human"]
InterviewerMode = Literal["ai", "human"]
CodeLanguage = Literal["python", "javascript"]
# ai: the AI interviews (a person may take over); peer: people interview, the AI gives hints and reviews only.
RoomMode = Literal["ai", "peer"]
JobStatus = Literal["queued", "running", "completed", "failed"]
# What a candidate's turn is: an answer, or a request about the conversation itself.
Intent = Literal["answer", "clarification", "thinking", "hint_request", "code_question", "check_in"]
# The specialised agents a turn is routed to (activities/specialists.py).
AgentName = Literal["host", "behavioural", "knowledge", "coding", "question_generation", "analysis"]
FailureReason = Literal[
    "refused",  # the interview's own rules said no (room ended, hints used up...)
    "provider_unavailable",  # the AI provider is failing: its circuit breaker is open (HTTP 503)
    "provider_timeout",  # the AI provider did not answer in time, even after retries (HTTP 504)
    "provider_rejected",  # the provider refused our key or account: an operator must act
    "invalid_output",
    "sandbox_unavailable",
    "error",
]

Role = Annotated[str, msgspec.Meta(min_length=2, max_length=80)]
MessageText = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


# --- REST ------------------------------------------------------------------------------------------------------


class CreateRoom(Body):
    role: Role
    difficulty: Difficulty = "medium"
    mode: RoomMode = "ai"
    # The interview's length: 60 minutes or more ask more questions. Each stage gets its share (intro 5%,
    # behavioural 20%, knowledge 25%, coding 40%, candidate questions 10%); an overrun stage's remaining
    # questions are skipped.
    duration_minutes: Annotated[float, msgspec.Meta(ge=1, le=180)] = 45
    # The coding question to ask (a question bank id); otherwise the plan picks one for the role and difficulty.
    coding_question_id: Annotated[str, msgspec.Meta(min_length=1, max_length=60)] | None = None
    # Recruiters and admins create rooms for a candidate's account and may assign interviewers (recruiters);
    # a candidate's own practice room leaves both out.
    candidate_email: Email | None = None
    interviewer_emails: Annotated[list[Email], msgspec.Meta(max_length=10)] = []
    # Documents of the room's creator (POST /documents, ready) to plan from: behavioural questions are asked about
    # the resume's experience, knowledge questions target the job description's focus topics (the resume's skills
    # without one). Each such question cites its chunk.
    resume_id: uuid.UUID | None = None
    jd_id: uuid.UUID | None = None


class RoomCreated(msgspec.Struct, kw_only=True):
    room_id: str
    workflow_id: str


class RoomView(msgspec.Struct, kw_only=True):
    room_id: str
    workflow_id: str
    role: str
    candidate_name: str
    mode: RoomMode
    status: str
    stage: Stage | None
    # Seconds left of the current stage's time budget (negative: over it); None in peer rooms and ended ones.
    stage_seconds_left: int | None = None
    difficulty: Difficulty
    questions_asked: int
    questions_planned: int
    interviewer: InterviewerMode  # who asks the questions now
    your_relation: str  # candidate | recruiter | interviewer | admin
    your_capabilities: list[str]
    resume_id: str | None = None  # the documents the interview was planned from
    jd_id: str | None = None


class VoiceTurnMetrics(msgspec.Struct, frozen=True, kw_only=True):
    """How a spoken reply came about, in milliseconds, as the voice agent measured it. The span starts at the end
    of the candidate's speech as its voice-activity detector heard it and ends when the reply's first audio frame
    went out to the room; the stages overlap (recognition runs inside the end-of-utterance wait)."""

    end_of_utterance_ms: float | None  # candidate stopped -> turn judged over (silence, recognition, endpointing)
    stt_ms: float | None  # candidate stopped -> transcript ready
    llm_first_token_ms: float | None  # turn sent to the interview workflow -> first words of the reply
    tts_first_byte_ms: float | None  # first sentence sent to speech synthesis -> first audio
    voice_to_voice_ms: float | None  # candidate stopped -> reply's first audio out
    interrupted: bool  # the candidate talked over the reply
    acknowledged: bool = False  # a short acknowledgement opened it, the reply itself being late (agents/fillers.py)
    stt_provider: str
    tts_provider: str


class VoiceTurnMeasured(msgspec.Struct, frozen=True, kw_only=True):
    seq: int  # the AI turn the figures belong to
    metrics: VoiceTurnMetrics


class PersonSaid(msgspec.Struct, frozen=True, kw_only=True):
    """A human interviewer's words, transcribed by the voice agent for the record."""

    text: str


class VoiceMetricsRecord(msgspec.Struct, frozen=True, kw_only=True):
    room_id: str
    seq: int
    metrics: VoiceTurnMetrics


class RoomSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A room in a list: what it is and the caller's part in it (no live state: GET /rooms/{id} has that)."""

    room_id: str
    workflow_id: str  # = room id
    role: str
    candidate_name: str
    mode: RoomMode
    status: str  # active | ended
    created_at: str
    ended_at: str | None
    your_relation: str  # candidate | recruiter | interviewer | admin
    overall: float | None = None  # its report's overall score (0..5), once the report is written
    scored_by: str | None = None  # who scored it; an offline score says so


class RoomList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[RoomSummary]  # newest first


class TranscriptEntry(msgspec.Struct, kw_only=True):
    seq: int
    speaker: Speaker
    stage: Stage
    text: str
    question_id: str | None
    created_at: str
    voice: VoiceTurnMetrics | None = None  # on AI turns spoken in a voice room
    grounded_in: Citation | None = None  # on AI turns asking a question drawn from the candidate's documents


class TranscriptPage(msgspec.Struct, kw_only=True):
    items: list[TranscriptEntry]
    next_cursor: int | None  # pass as `cursor` for the next page; None at the end


class SwitchInterviewer(Body):
    mode: InterviewerMode


class SubmitCode(Body):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
    # JavaScript runs the same tests (the function keeps the question's name); static checks are Python only.
    language: CodeLanguage = "python"


class AskHint(Body):
    # The candidate's current code, when they have some: the hint then speaks to it.
    code: Annotated[str, msgspec.Meta(max_length=20_000)] | None = None


class SendMessage(Body):
    text: MessageText
    # Also speak the reply: the result then links to its audio (a WAV), or says why there is none.
    speak: bool = False
    # The candidate's code as it stands (the voice agent sends the room's editor): a hint asked for aloud
    # during coding then speaks to it.
    code: Annotated[str, msgspec.Meta(max_length=20_000)] | None = None


# Why the voice agent speaks up during coding without being asked: tests were run, or a long silence.
CheckInReason = Literal["tests_run", "idle"]


class CodingCheckIn(msgspec.Struct, frozen=True, kw_only=True):
    reason: CheckInReason


class JobAccepted(msgspec.Struct, kw_only=True):
    job_id: str
    workflow_id: str
    status: JobStatus


class JobProgress(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What every job poll says; each kind of job adds its `result`."""

    job_id: str
    workflow_id: str  # the room's workflow in the Temporal Web UI
    status: JobStatus
    # While queued or running: what the job is waiting for, e.g. a retry after the AI provider failed.
    progress: str | None = None
    error: str | None = None
    reason: FailureReason | None = None  # why it failed, for programs; `error` says it for people


class JobView(JobProgress):
    result: InterviewerReply | None = None


class Hint(msgspec.Struct, frozen=True, kw_only=True):
    question_id: str
    level: int  # 1 nudge, 2 approach, 3 near-solution
    levels: int  # how many this question has
    text: str
    provider: str


class HintJobView(JobProgress):
    result: Hint | None = None


class ReviewJobView(JobProgress):
    result: CodeReview | None = None


# --- the workflow ----------------------------------------------------------------------------------------------


class Citation(msgspec.Struct, frozen=True, kw_only=True):
    """Where a question planned from the candidate's documents came from: a chunk of a resume or job description
    (its number in `GET /documents/{id}` order), and why it was chosen."""

    document_id: str
    chunk: int
    section: str
    why: str


class PlannedQuestion(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # the bank question whose rubric scores the answer
    stage: Stage
    text: str  # as asked: the bank's words, or those words put to the candidate's own experience
    grounded_in: Citation | None = None


class InterviewProgress(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a continued interview run needs from the run before it (continue-as-new)."""

    plan: list[PlannedQuestion]
    by_difficulty: dict[str, list[PlannedQuestion]]
    tier: Difficulty
    asked: int
    asked_at: str  # ISO times: workflow clocks, carried as they were
    stage_started: str
    next_seq: int
    finished: bool
    interviewer: InterviewerMode
    attempts: dict[str, int]
    hints: dict[str, int]
    follow_ups: dict[str, int]
    last_review: dict[str, CodeReview]
    activities_started: int
    model_in_process: bool
    last_said: str | None = None


class InterviewStart(msgspec.Struct, frozen=True, kw_only=True):
    room_id: str
    role: str
    candidate_name: str
    difficulty: Difficulty
    model_retry_seconds: float = 5.0  # first backoff of a failed model call; then 2x, 4x
    mode: RoomMode = "ai"
    duration_minutes: float = 45
    coding_question_id: str | None = None
    # The documents the plan is drawn from, and whose they are (the room's creator).
    resume_id: str | None = None
    jd_id: str | None = None
    documents_owner: str | None = None
    # A run continues as new once its history has this many events; the next run starts from `resumed`.
    history_event_limit: int = 2000
    resumed: InterviewProgress | None = None


class PlanRequest(msgspec.Struct, frozen=True, kw_only=True):
    role: str
    difficulty: Difficulty
    duration_minutes: float = 45
    coding_question_id: str | None = None  # asked at every tier, in the first coding slot
    resume_id: str | None = None
    jd_id: str | None = None
    documents_owner: str | None = None


class InterviewPlan(msgspec.Struct, frozen=True, kw_only=True):
    questions: list[PlannedQuestion]
    provider: str
    # The same plan drawn at each difficulty, so the interview can move between tiers as it goes.
    by_difficulty: dict[str, list[PlannedQuestion]] = {}
    # The interviewer model runs inside the worker (offline): its turns need no round trip through Temporal.
    model_in_process: bool = False


class TurnRecord(msgspec.Struct, frozen=True, kw_only=True):
    room_id: str
    seq: int
    speaker: Speaker
    stage: Stage
    text: str
    question_id: str | None = None
    provider: str | None = None
    grounded_in: Citation | None = None  # an AI turn asking a question planned from the candidate's documents


class TurnRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Which stored candidate turn to answer; the text itself stays in Postgres."""

    room_id: str
    seq: int
    question_id: str
    follow_ups_asked: int = 0  # on this question so far
    update_id: str | None = None  # the update asking: a streaming model's acknowledgement is published for it


class ContextUse(msgspec.Struct, frozen=True, kw_only=True):
    """Tokens of what the interviewer model is shown (summary + recent turns) against the whole transcript."""

    prompt_tokens: int
    transcript_tokens: int
    tokenizer: str


class TurnOutcome(msgspec.Struct, frozen=True, kw_only=True):
    intent: Intent
    agent: AgentName
    # An answer's evaluation (with the question agent's follow-up, if any); None for the other intents.
    evaluation: AnswerEvaluation | None = None
    reply: str | None = None  # what the host says to a clarification request or a pause
    context: ContextUse
    provider: str
    model_ms: float = 0.0  # time spent in the interviewer model itself


class AnswerEvaluation(msgspec.Struct, frozen=True, kw_only=True):
    score: float  # 0..5
    covered: list[str]
    missing: list[str]
    feedback: str
    acknowledgement: str  # what the interviewer says before moving on
    provider: str  # e.g. "offline:question-bank" or "openai:gpt-4o-mini"
    signals: list[str] = []  # weakness categories the answer shows (e.g. "communication"); never polled
    # The question agent's one follow-up on a partial answer, grounded in what the candidate said.
    follow_up: str | None = None


class ShadowScore(msgspec.Struct, frozen=True, kw_only=True):
    """The AI's silent score of an answer given while a person interviewed: never spoken, never in `overall`.

    The person's question is scored against the rubric of the bank question most like it; with none alike enough,
    the answer is left unscored and the report says so."""

    question: str  # what was asked: the person's words, or the AI's question they took over on
    asked_by: Literal["human", "ai"]
    asked_seq: int | None  # the transcript turn that asked it; an answer in several turns is scored whole
    matched_question_id: str | None  # whose rubric was used
    similarity: float | None  # cosine of the person's question and that bank question's (None: the AI's own)
    score: float | None  # 0..5; None when nothing in the bank is like the question
    feedback: str
    provider: str  # the scorer, plus the embeddings that matched the question
    signals: list[str] = []


class ShadowRequest(msgspec.Struct, frozen=True, kw_only=True):
    room_id: str
    seq: int  # the candidate's answer
    question_id: str  # the planned question when the person took over


class InterviewerReply(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    stage: Stage
    difficulty: Difficulty
    question_id: str | None
    finished: bool  # no more questions: the room can be ended
    provider: str
    # "human": a person is interviewing; the AI recorded the answer and stayed silent (text is empty).
    interviewer: InterviewerMode = "ai"
    intent: Intent = "answer"  # how the candidate's turn was understood; check_in: the AI spoke up unasked
    agent: AgentName | None = None  # which specialised agent answered it
    model_ms: float | None = None  # of the reply's time, how much the interviewer model itself took
    audio: SpokenReply | None = None  # when the message asked for speech and it could be made
    audio_error: str | None = None  # when it asked and speech failed: the reply still stands, as text
    seq: int | None = None  # the reply's turn number in the transcript, when the AI said something
    grounded_in: Citation | None = None  # the next question's source, when it was drawn from the candidate's documents


class SpeakRequest(msgspec.Struct, frozen=True, kw_only=True):
    room_id: str
    seq: int  # the transcript turn to speak


class SpokenReply(msgspec.Struct, frozen=True, kw_only=True):
    url: str  # GET it with the same token: audio/wav
    seconds: float
    provider: str


class InterviewState(msgspec.Struct, frozen=True, kw_only=True):
    stage: Stage | None
    difficulty: Difficulty
    questions_asked: int
    questions_planned: int
    ended: bool
    interviewer: InterviewerMode = "ai"
    stage_deadline: str | None = None  # ISO time the current stage's budget runs out (ai rooms)
    last_said: str | None = None  # the AI's latest words, for a voice agent joining (or rejoining) the room


class ReportRequest(msgspec.Struct, frozen=True, kw_only=True):
    room_id: str


class DimensionScore(msgspec.Struct, frozen=True, kw_only=True):
    dimension: str
    score: float  # 0..5
    evidence: str


class Weakness(msgspec.Struct, frozen=True, kw_only=True):
    topic: str
    evidence: str


class InterviewReport(msgspec.Struct, frozen=True, kw_only=True):
    room_id: str
    overall: float  # 0..5
    dimensions: list[DimensionScore]
    strengths: list[str]
    weaknesses: list[Weakness]
    answered: int
    provider: str  # who scored the answers and the code; an offline score says so
    recommended_practice: list[str] = []
    context: ContextSaving | None = None
    # Answers given while a person interviewed, scored silently by the AI; kept apart from the scores above.
    shadow_scored: list[ShadowScore] = []


class ContextSaving(msgspec.Struct, frozen=True, kw_only=True):
    """What the summary buffer saved over sending the whole transcript with every AI turn."""

    turns: int  # AI turns that used a context window
    prompt_tokens: int  # summed over those turns
    transcript_tokens: int  # what the whole transcript would have cost, summed likewise
    saving: float  # 1 - prompt / transcript
    tokenizer: str


class InterviewOutcome(msgspec.Struct, frozen=True, kw_only=True):
    room_id: str
    overall: float
    provider: str


# --- code review -----------------------------------------------------------------------------------------------


class ReviewedTest(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    category: str  # correctness | edge_cases
    passed: bool
    actual: str | None = None
    error: str | None = None


class ReviewFinding(msgspec.Struct, frozen=True, kw_only=True):
    category: Literal["correctness", "edge_cases", "complexity", "readability"]
    verdict: Literal["good", "needs_work"]
    evidence: str


class LineSuggestion(msgspec.Struct, frozen=True, kw_only=True):
    line: int | None
    message: str


class CodeReview(msgspec.Struct, frozen=True, kw_only=True):
    question_id: str
    attempt: int
    status: str  # ran | did_not_load | timed_out | crashed
    passed: int
    total: int
    score: float  # 0..5, from the executed tests
    findings: list[ReviewFinding]
    suggestions: list[LineSuggestion]
    tests: list[ReviewedTest]
    provider: str


class ReviewInput(msgspec.Struct, frozen=True, kw_only=True):
    room_id: str
    question_id: str
    attempt: int
    code: str
    language: CodeLanguage = "python"


class HintInput(msgspec.Struct, frozen=True, kw_only=True):
    question_id: str
    level: int
    code: str | None = None
    last_review: CodeReview | None = None


class WeaknessSummary(msgspec.Struct, frozen=True, kw_only=True):
    category: str  # edge_cases, time_complexity, variable_naming, code_structure, off_by_one, communication, ...
    count: int  # times it was seen
    sessions: int  # interviews it was seen in
    first_seen: str
    last_seen: str
    trend: Literal["new", "improving", "steady", "worsening"]  # the latest interview against the earlier ones
    evidence: str  # one example, quoted


class WeaknessReport(msgspec.Struct, frozen=True, kw_only=True):
    interviews: int  # the candidate's interviews considered
    weaknesses: list[WeaknessSummary]


class QuestionFound(msgspec.Struct, frozen=True, kw_only=True):
    question_id: str
    stage: Stage
    difficulty: str
    roles: list[str]
    text: str
    similarity: float  # cosine of the search's embedding and the question's


class QuestionSearch(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    results: list[QuestionFound]  # nearest first
    provider: str  # the embeddings compared, and how: "local:all-MiniLM-L6-v2, hnsw"
