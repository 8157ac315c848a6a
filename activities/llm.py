"""Interviewer language models: one small interface, an OpenAI implementation and a deterministic offline one.

Both score an answer against the question's rubric (its key points). Every result names its provider, so an
offline score is never passed off as a model's.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec
from openai import AsyncOpenAI
from redis.asyncio import Redis

from activities.circuit import CircuitBreaker
from activities.context import ContextWindow
from activities.model_metrics import model_call
from activities.question_bank import BankQuestion
from activities.specialists import STAR_FOLLOW_UPS, follow_up, system_prompt
from schema.interview import AgentName, AnswerEvaluation
from stack.settings import Settings

OFFLINE_PROVIDER = "offline:question-bank"
MIN_SUBSTANTIVE_WORDS = 8
# Hears the reply's first sentence (the acknowledgement) as soon as the model has written it.
LeadListener = Callable[[str], Awaitable[None]]


class Interviewer(Protocol):
    provider: str
    in_process: bool  # computed here, not called over the network

    async def evaluate(
        self,
        question: BankQuestion,
        answer: str,
        *,
        agent: AgentName,
        context: ContextWindow,
        on_acknowledgement: LeadListener | None = None,
    ) -> AnswerEvaluation:
        """Score `answer` as `agent` would, seeing `context` (summary + recent turns); may propose a follow-up.
        A provider that writes its reply over time gives `on_acknowledgement` the reply's spoken opening as soon
        as it exists, so a voice can start on it before the rest is written."""
        ...


class InvalidModelOutput(ValueError):
    """The model's reply did not match the schema we asked for (retried by Temporal)."""


def _mentions(answer: str, cue: str) -> bool:
    # Cues are matched at a word start so "ache" does not count inside "cache"; cue endings may be partial
    # stems ("regulari" matches "regularise" and "regularize").
    return re.search(r"(?<![a-z0-9])" + re.escape(cue), answer) is not None


class OfflineInterviewer:
    """Scores by rubric coverage: which key points' cue phrases the answer contains. Deterministic.

    It reads only the answer and the question: the context window is built and counted all the same, so the
    summary buffer behaves (and is measured) the same way for every provider.
    """

    provider = OFFLINE_PROVIDER
    in_process = True

    async def evaluate(
        self,
        question: BankQuestion,
        answer: str,
        *,
        agent: AgentName,
        context: ContextWindow,
        on_acknowledgement: LeadListener | None = None,  # the whole reply is ready at once: nothing to lead with
    ) -> AnswerEvaluation:
        lowered = answer.lower()
        covered = [p.name for p in question.key_points if any(_mentions(lowered, c) for c in p.cues)]
        missing = [p.name for p in question.key_points if p.name not in covered]
        words = len(answer.split())
        if not question.key_points:
            score, feedback = 0.0, "Not scored: this stage has no rubric."
        else:
            score = round(5.0 * len(covered) / len(question.key_points), 2)
            if words < MIN_SUBSTANTIVE_WORDS:
                score = min(score, 1.0)  # a few keywords are not an explanation
            feedback = _feedback(covered, missing, words, star=agent == "behavioural")
        # A scored answer of a few words says more about how the candidate explains than about what they know.
        signals = ["communication"] if question.key_points and words < MIN_SUBSTANTIVE_WORDS else []
        evaluation = AnswerEvaluation(
            score=score,
            covered=covered,
            missing=missing,
            feedback=feedback,
            acknowledgement=_acknowledgement(question, score),
            provider=self.provider,
            signals=signals,
        )
        return msgspec.structs.replace(evaluation, follow_up=follow_up(question, evaluation, answer))


def _feedback(covered: list[str], missing: list[str], words: int, *, star: bool) -> str:
    parts = []
    if covered:
        parts.append("Covered: " + ", ".join(covered) + ".")
    if missing:
        star_gaps = star and set(missing) <= set(STAR_FOLLOW_UPS)
        parts.append(("Missing from STAR: " if star_gaps else "Missing: ") + ", ".join(missing) + ".")
    if words < MIN_SUBSTANTIVE_WORDS:
        parts.append(f"Only {words} words: explain your reasoning in full sentences.")
    return " ".join(parts)


def _acknowledgement(question: BankQuestion, score: float) -> str:
    if question.stage == "candidate_questions":
        return (
            "Good question. I'm an automated practice interviewer, so I can't speak for a particular team, "
            "but it's exactly the kind of thing to ask in the real interview."
        )
    if not question.key_points:
        return "Thank you."
    if score >= 4:
        return "Thanks, that's a thorough answer."
    if score >= 2.5:
        return "Thanks, that covers the main idea."
    return "Okay, thank you. Let's keep going."


class _ModelEvaluation(msgspec.Struct, forbid_unknown_fields=True):
    acknowledgement: str
    covered: list[str]
    score: float
    feedback: str
    follow_up: str


# Structured outputs are written in the schema's property order: the acknowledgement, which opens the spoken
# reply, comes first so it can be spoken while the model is still scoring.
EVALUATION_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["acknowledgement", "covered", "score", "feedback", "follow_up"],
    "properties": {
        "acknowledgement": {"type": "string"},
        "covered": {"type": "array", "items": {"type": "string"}},
        "score": {"type": "number", "minimum": 0, "maximum": 5},
        "feedback": {"type": "string"},
        "follow_up": {"type": "string"},
    },
}
_LEADING_ACKNOWLEDGEMENT = re.compile(r'\A\s*\{\s*"acknowledgement"\s*:\s*("(?:[^"\\]|\\.)*")')


def leading_acknowledgement(partial_json: str) -> str | None:
    """The acknowledgement of an evaluation still being written, once its string is complete."""
    found = _LEADING_ACKNOWLEDGEMENT.match(partial_json)
    return msgspec.json.decode(found.group(1), type=str).strip() if found else None


class OpenAIInterviewer:
    def __init__(self, client: AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model
        self.provider = f"openai:{model}"
        self.in_process = False

    async def evaluate(
        self,
        question: BankQuestion,
        answer: str,
        *,
        agent: AgentName,
        context: ContextWindow,
        on_acknowledgement: LeadListener | None = None,
    ) -> AnswerEvaluation:
        rubric = "\n".join(f"- {p.name}" for p in question.key_points) or "- (no rubric: do not score)"
        conversation = context.render()
        async with model_call(self.provider, "interview") as usage:
            stream = await self._client.chat.completions.create(
                model=self._model,
                temperature=0,
                stream=True,
                stream_options={"include_usage": True},
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "answer_evaluation", "strict": True, "schema": EVALUATION_SCHEMA},
                },
                messages=[
                    {"role": "system", "content": system_prompt(agent)},
                    {
                        "role": "user",
                        "content": f"<interview>\n{conversation}\n</interview>\n"
                        f"Question: {question.text}\nRubric key points:\n{rubric}\n"
                        f"<answer>\n{answer}\n</answer>",
                    },
                ],
            )
            content = ""
            async for chunk in stream:
                content += "".join(choice.delta.content or "" for choice in chunk.choices)
                if chunk.usage is not None:  # the last chunk, when asked for
                    usage.input_tokens, usage.output_tokens = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
                if on_acknowledgement is not None and (lead := leading_acknowledgement(content)) is not None:
                    listener, on_acknowledgement = on_acknowledgement, None  # once
                    if lead:
                        await listener(lead)
        try:
            parsed = msgspec.json.decode(content, type=_ModelEvaluation)
        except msgspec.ValidationError as exc:
            raise InvalidModelOutput(f"{self.provider} returned an evaluation that does not fit: {exc}") from exc
        names = [p.name for p in question.key_points]
        covered = [name for name in names if name in parsed.covered]
        return AnswerEvaluation(
            score=min(5.0, max(0.0, parsed.score)) if names else 0.0,
            covered=covered,
            missing=[name for name in names if name not in covered],
            feedback=parsed.feedback,
            acknowledgement=parsed.acknowledgement,
            provider=self.provider,
            follow_up=parsed.follow_up.strip() or None,
        )


def openai_client(settings: Settings) -> AsyncOpenAI:
    # Temporal owns retries (explicit policies per activity), so the SDK must not retry underneath it.
    return AsyncOpenAI(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        max_retries=0,
        timeout=settings.llm_timeout_seconds,
    )


def llm_breaker(settings: Settings, redis: Redis) -> CircuitBreaker | None:
    """The shared circuit breaker of the configured remote LLM; the offline interviewer runs here and needs none."""
    if settings.resolved_provider(settings.llm_provider) != "openai":
        return None
    return CircuitBreaker(
        redis,
        f"openai:{settings.llm_model}",
        failures=settings.llm_breaker_failures,
        cooldown_seconds=settings.llm_breaker_cooldown_seconds,
    )


def build_interviewer(settings: Settings) -> Interviewer:
    if settings.resolved_provider(settings.llm_provider) == "openai":
        return OpenAIInterviewer(openai_client(settings), settings.llm_model)
    return OfflineInterviewer()
