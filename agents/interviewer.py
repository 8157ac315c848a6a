"""The voice interviewer: each finished candidate utterance goes to the room's InterviewWorkflow as a turn, and the
workflow's reply is streamed back, sentence by sentence, into speech.

The workflow stays the single source of truth (stage, question, tier, transcript): the agent holds no interview
state, so a restarted agent continues the same interview by asking the workflow what was said last.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from livekit.agents import Agent, llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from temporalio.client import Client, WorkflowHandle

from agents.metrics import SpokenReplies
from schema.interview import SendMessage
from workflows.interview import InterviewWorkflow

OPENING_WAIT_SECONDS = 30  # how long a fresh room may take to put its first question
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
        reply = await self._model.handle.execute_update(InterviewWorkflow.candidate_message, SendMessage(text=text))
        if reply.seq is not None:
            self._model.replies.handed_to_speech(reply.seq, reply.text)
        # Sentence by sentence, so speech can start before the whole reply is through the pipeline.
        for n, sentence in enumerate(filter(None, _SENTENCE_END.split(reply.text))):
            self._event_ch.send_nowait(
                llm.ChatChunk(id=f"turn-{n}", delta=llm.ChoiceDelta(role="assistant", content=sentence + " "))
            )


class WorkflowInterviewer(llm.LLM[None]):
    """The pipeline's "LLM": the interview workflow, which routes the turn to its agents and records both sides."""

    def __init__(self, handle: WorkflowHandle[InterviewWorkflow, Any], replies: SpokenReplies) -> None:
        super().__init__()
        self.handle = handle
        self.replies = replies

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


class InterviewerAgent(Agent):
    def __init__(self, handle: WorkflowHandle[InterviewWorkflow, Any]) -> None:
        super().__init__(instructions="The interview's words come from the room's InterviewWorkflow.")
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
