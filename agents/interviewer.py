"""The voice interviewer: each finished candidate utterance goes to the room's InterviewWorkflow as a turn, and the
workflow's reply is streamed back, sentence by sentence, into speech.

The workflow stays the single source of truth (stage, question, tier, transcript): the agent holds no interview
state, so a restarted agent continues the same interview by asking the workflow what was said last.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from livekit import rtc
from livekit.agents import Agent, ModelSettings, llm, stt
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, FlushSentinel, NotGivenOr
from redis.asyncio import Redis
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError

from activities.reply_leads import listening_for_lead
from agents.backchannel import is_backchannel
from agents.coding import CodingFloor
from agents.fillers import Acknowledgements, Prepared
from agents.metrics import SampleClock, SpokenReplies, TimedVoice
from schema.interview import SendMessage
from workflows.interview import ALL_ANSWERED, INTERVIEW_ENDED, InterviewWorkflow

OPENING_WAIT_SECONDS = 30  # how long a fresh room may take to put its first question
# What the voice interviewer says when the workflow refuses a turn, by the workflow's reason.
REFUSALS_ALOUD = {
    ALL_ANSWERED: "We've covered all my questions, thank you. End the interview when you're ready, "
    "and your report will follow.",
    INTERVIEW_ENDED: "This interview has ended. Thank you for your time.",
}
# Reply chunks said while the rest of the reply is still coming (their ids).
ACKNOWLEDGEMENT, OPENING = "acknowledgement", "opening"
log = logging.getLogger(__name__)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def interview_handle(client: Client, room_id: str) -> WorkflowHandle[InterviewWorkflow, Any]:
    return client.get_workflow_handle_for(InterviewWorkflow.run, room_id)


class _TurnStream(llm.LLMStream):
    def __init__(self, model: WorkflowInterviewer, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self._model = model

    async def _run(self) -> None:
        said = [item for item in self._chat_ctx.items if getattr(item, "role", None) == "user"]
        text = (said[-1].text_content or "").strip() if said else ""  # type: ignore[union-attr]
        if not text:
            return
        floor, acks = self._model.floor, self._model.acknowledgements
        code = floor.code if floor is not None and floor.coding else None
        prepared = acks.turn_taken() if acks is not None else None
        asked_at = time.monotonic()
        update_id = f"voice-{uuid.uuid4()}"
        async with listening_for_lead(self._model.redis, update_id) as lead:
            answering = asyncio.ensure_future(
                self._model.handle.execute_update(
                    InterviewWorkflow.candidate_message, SendMessage(text=text, code=code), id=update_id
                )
            )
            acknowledgement, opening = await self._while_answering(answering, lead, prepared, text)
        try:
            reply = await answering
        except WorkflowUpdateFailedError as refused:  # e.g. every question answered: said aloud, not recorded
            reason = getattr(refused.cause, "message", "")
            log.info("the workflow did not take the turn: %s", reason)
            if reason in REFUSALS_ALOUD:
                self._say(REFUSALS_ALOUD[reason], "refused")
            return
        if acks is not None:
            acks.reply_took(time.monotonic() - asked_at)
        if floor is not None:
            floor.entered(reply.stage)
        rest = reply.text
        if opening and rest.startswith(opening):
            rest = rest[len(opening) :].lstrip()
        elif opening:  # a retried model call wrote another opening: the recorded reply is said whole after it
            log.info("the reply does not start with the opening already said; saying it whole")
        if reply.seq is not None:
            heard = " ".join(filter(None, [acknowledgement, opening, rest]))
            self._model.replies.handed_to_speech(reply.seq, heard, acknowledged=bool(acknowledgement))
        # Sentence by sentence, so speech can start before the whole reply is through the pipeline.
        for n, sentence in enumerate(filter(None, _SENTENCE_END.split(rest))):
            self._say(sentence + " ", f"turn-{n}")

    async def _while_answering(
        self,
        answering: asyncio.Future[Any],
        lead: asyncio.Future[str | None],
        prepared: Prepared | None,
        transcript: str,
    ) -> tuple[str, str]:
        """What is said while the workflow answers: the model's own opening as soon as it is written, and before
        it an acknowledgement when nothing would otherwise be heard by the time the reply is late. Returns both
        ("" for what was not said)."""
        acks = self._model.acknowledgements
        late_in = acks.seconds_until_late() if acks is not None else None
        late_at = None if late_in is None else time.monotonic() + late_in
        acknowledgement = opening = ""
        waiting: set[asyncio.Future[Any]] = {answering, lead}
        while not answering.done():
            timeout = None if late_at is None else max(0.0, late_at - time.monotonic())
            done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if lead in done:
                waiting.discard(lead)
                opening = lead.result() or ""
                if opening:
                    late_at = None  # the reply itself is being heard: nothing to hide
                    self._say(opening + " ", OPENING)
            elif not done and acks is not None:  # late, and nothing said yet
                late_at = None
                if await self._ai_interviewing():
                    acknowledgement = acks.say_first(prepared, transcript)
                    self._say(acknowledgement + " ", ACKNOWLEDGEMENT)
        return acknowledgement, opening

    async def _ai_interviewing(self) -> bool:
        """A person may have taken over: then the AI says nothing, not even an acknowledgement."""
        return (await self._model.handle.query(InterviewWorkflow.state)).interviewer == "ai"

    def _say(self, text: str, chunk_id: str) -> None:
        self._event_ch.send_nowait(llm.ChatChunk(id=chunk_id, delta=llm.ChoiceDelta(role="assistant", content=text)))


class WorkflowInterviewer(llm.LLM[None]):
    """The pipeline's "LLM": the interview workflow, which routes the turn to its agents and records both sides."""

    def __init__(self, handle: WorkflowHandle[InterviewWorkflow, Any], replies: SpokenReplies, redis: Redis) -> None:
        super().__init__()
        self.handle = handle
        self.replies = replies
        self.redis = redis  # where a remote model's acknowledgement arrives before the whole reply
        self.floor: CodingFloor | None = None  # set once the session it belongs to exists
        self.acknowledgements: Acknowledgements | None = None  # latency hiding, when enabled

    @property
    def provider(self) -> str:
        return "mocki:interview-workflow"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return _TurnStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class InterviewerAgent(TimedVoice):
    def __init__(self, handle: WorkflowHandle[InterviewWorkflow, Any], clock: SampleClock) -> None:
        super().__init__(clock, instructions="The interview's words come from the room's InterviewWorkflow.")
        self._handle = handle

    async def llm_node(
        self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterator[llm.ChatChunk | str | FlushSentinel]:
        # livekit's text filters hold a sentence back until they see what follows it (the markdown filter drops
        # its trailing space, the sentence tokenizer then waits): what is said ahead of the reply must go now.
        async for chunk in Agent.default.llm_node(self, chat_ctx, tools, model_settings):
            yield chunk
            if isinstance(chunk, llm.ChatChunk) and chunk.id in (ACKNOWLEDGEMENT, OPENING):
                yield FlushSentinel()

    async def stt_node(
        self, audio: AsyncIterable[rtc.AudioFrame], model_settings: ModelSettings
    ) -> AsyncIterator[stt.SpeechEvent | str]:
        async for event in super().stt_node(audio, model_settings):
            if self._murmur_over_the_reply(event):
                log.info("a murmur over the reply, not a turn: the reply goes on")
                continue
            yield event

    def _murmur_over_the_reply(self, event: stt.SpeechEvent | str) -> bool:
        if not isinstance(event, stt.SpeechEvent) or event.type is not stt.SpeechEventType.FINAL_TRANSCRIPT:
            return False
        speech = self.session.current_speech  # a paused reply is still the current one
        under_way = speech is not None and not speech.done() and not speech.interrupted
        return under_way and bool(event.alternatives) and is_backchannel(event.alternatives[0].text)

    async def on_enter(self) -> None:
        """Say what the interviewer said last: the opening question, or where a restarted agent left off."""
        for _ in range(OPENING_WAIT_SECONDS * 10):
            state = await self._handle.query(InterviewWorkflow.state)
            if state.last_said:
                if state.interviewer == "ai":
                    self.session.say(state.last_said, add_to_chat_ctx=False)
                return
            await asyncio.sleep(0.1)
