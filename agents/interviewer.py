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
from typing import Any

from livekit.agents import llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError

from agents.coding import CodingFloor
from agents.fillers import Acknowledgements
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
        answering = asyncio.ensure_future(
            self._model.handle.execute_update(InterviewWorkflow.candidate_message, SendMessage(text=text, code=code))
        )
        said_first = ""
        late_in = acks.seconds_until_late() if acks is not None else None
        if acks is not None and late_in is not None:
            done, _ = await asyncio.wait({answering}, timeout=late_in)
            if not done and await self._ai_interviewing():  # the reply would be late: acknowledge it first
                said_first = acks.say_first(prepared) + " "
                self._say(said_first, "acknowledgement")
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
        if reply.seq is not None:
            self._model.replies.handed_to_speech(reply.seq, said_first + reply.text, acknowledged=bool(said_first))
        # Sentence by sentence, so speech can start before the whole reply is through the pipeline.
        for n, sentence in enumerate(filter(None, _SENTENCE_END.split(reply.text))):
            self._say(sentence + " ", f"turn-{n}")

    async def _ai_interviewing(self) -> bool:
        """A person may have taken over: then the AI says nothing, not even an acknowledgement."""
        return (await self._model.handle.query(InterviewWorkflow.state)).interviewer == "ai"

    def _say(self, text: str, chunk_id: str) -> None:
        self._event_ch.send_nowait(llm.ChatChunk(id=chunk_id, delta=llm.ChoiceDelta(role="assistant", content=text)))


class WorkflowInterviewer(llm.LLM[None]):
    """The pipeline's "LLM": the interview workflow, which routes the turn to its agents and records both sides."""

    def __init__(self, handle: WorkflowHandle[InterviewWorkflow, Any], replies: SpokenReplies) -> None:
        super().__init__()
        self.handle = handle
        self.replies = replies
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

    async def on_enter(self) -> None:
        """Say what the interviewer said last: the opening question, or where a restarted agent left off."""
        for _ in range(OPENING_WAIT_SECONDS * 10):
            state = await self._handle.query(InterviewWorkflow.state)
            if state.last_said:
                if state.interviewer == "ai":
                    self.session.say(state.last_said, add_to_chat_ctx=False)
                return
            await asyncio.sleep(0.1)
