"""Per-turn voice metrics: how long each spoken reply took and where the time went, read from the reports
livekit-agents attaches to every message, sent to OpenTelemetry and to the room's record (its workflow)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from livekit.agents import AgentSession, ConversationItemAddedEvent, llm
from opentelemetry import metrics
from temporalio.client import WorkflowHandle

from schema.interview import VoiceTurnMeasured, VoiceTurnMetrics
from workflows.interview import InterviewWorkflow

log = logging.getLogger(__name__)
_meter = metrics.get_meter("mocki.voice")
_STAGES = {
    "end_of_utterance_ms": _meter.create_histogram(
        "mocki.voice.end_of_utterance", unit="ms", description="candidate stopped -> turn judged over"
    ),
    "stt_ms": _meter.create_histogram("mocki.voice.stt", unit="ms", description="candidate stopped -> transcript"),
    "llm_first_token_ms": _meter.create_histogram(
        "mocki.voice.llm_first_token", unit="ms", description="turn sent -> first words of the reply"
    ),
    "tts_first_byte_ms": _meter.create_histogram(
        "mocki.voice.tts_first_byte", unit="ms", description="first sentence sent -> first audio"
    ),
    "voice_to_voice_ms": _meter.create_histogram(
        "mocki.voice.voice_to_voice", unit="ms", description="candidate stopped -> reply's first audio out"
    ),
}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(1000 * seconds, 1)


def _words(text: str) -> str:
    return " ".join(text.split()).lower()


class SpokenReplies:
    """The workflow's replies in the order they were handed to speech, so a reply heard in the room is matched
    to its transcript turn. A reply cut off before any audio is never heard: it is passed over."""

    def __init__(self) -> None:
        self._pending: deque[tuple[int, str]] = deque(maxlen=20)

    def handed_to_speech(self, seq: int, text: str) -> None:
        self._pending.append((seq, _words(text)))

    def heard(self, spoken: str) -> int | None:
        start = _words(spoken)[:60]
        for index, (seq, text) in enumerate(self._pending):
            if start and text.startswith(start):
                for _ in range(index + 1):
                    self._pending.popleft()
                return seq
        return None


class VoiceTurnRecorder:
    def __init__(self, handle: WorkflowHandle[InterviewWorkflow, Any], replies: SpokenReplies) -> None:
        self._handle = handle
        self._replies = replies
        self._candidate: llm.MetricsReport = {}
        self._sending: set[asyncio.Task[None]] = set()

    def attach(self, session: AgentSession[None]) -> None:
        session.on("conversation_item_added", self._on_item)

    def _on_item(self, event: ConversationItemAddedEvent) -> None:
        item = event.item
        if not isinstance(item, llm.ChatMessage):
            return
        if item.role == "user":
            self._candidate = item.metrics
            return
        seq = self._replies.heard(item.text_content or "") if item.role == "assistant" else None
        if seq is None:  # the opening question or a restated one: no candidate turn to measure from
            return
        reply, candidate = item.metrics, self._candidate
        measured = VoiceTurnMetrics(
            end_of_utterance_ms=_ms(candidate.get("end_of_turn_delay")),
            stt_ms=_ms(candidate.get("transcription_delay")),
            llm_first_token_ms=_ms(reply.get("llm_node_ttft")),
            tts_first_byte_ms=_ms(reply.get("tts_node_ttfb")),
            voice_to_voice_ms=_ms(reply.get("e2e_latency")),
            interrupted=item.interrupted,
            stt_provider=candidate.get("stt_metadata", {}).get("model_provider", "unknown"),
            tts_provider=reply.get("tts_metadata", {}).get("model_provider", "unknown"),
        )
        self._candidate = {}
        attributes = {"stt.provider": measured.stt_provider, "tts.provider": measured.tts_provider}
        for stage, histogram in _STAGES.items():
            value = getattr(measured, stage)
            if value is not None:
                histogram.record(value, attributes)
        sending = asyncio.create_task(self._send(VoiceTurnMeasured(seq=seq, metrics=measured)))
        self._sending.add(sending)
        sending.add_done_callback(self._sending.discard)

    async def _send(self, measured: VoiceTurnMeasured) -> None:
        try:
            await self._handle.signal(InterviewWorkflow.voice_turn_measured, measured)
        except Exception:  # the figures are a record, never a reason to stop the interview
            log.exception("could not record voice metrics for turn %s", measured.seq)
