"""Per-turn voice metrics: how long each spoken reply took and where the time went, read from the reports
livekit-agents attaches to every message, sent to OpenTelemetry and to the room's record (its workflow)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import Agent, AgentSession, ConversationItemAddedEvent, ModelSettings, llm, stt
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


LOUD = 500  # int16 amplitude that counts as voice rather than silence or line noise


def loud(frame: rtc.AudioFrame) -> bool:
    samples = np.frombuffer(frame.data, dtype=np.int16)
    return bool(samples.size) and int(np.abs(samples).max()) > LOUD


class SampleClock:
    """Voice to voice as the agent hears and speaks it: from the last voiced sample it received to the first
    non-silent sample of its next speech (wall-clock seconds, like livekit-agents' own timestamps)."""

    def __init__(self) -> None:
        self.last_voiced_in: float | None = None
        self._speeches: deque[tuple[float, float | None]] = deque(maxlen=20)  # (first sound out, voice to voice)
        self.on_frame: Callable[[rtc.AudioFrame, bool], None] | None = None  # sees each input frame, and if voiced

    async def listen(self, audio: AsyncIterable[rtc.AudioFrame]) -> AsyncIterator[rtc.AudioFrame]:
        async for frame in audio:
            voiced = loud(frame)
            if voiced:
                self.last_voiced_in = time.time()
            if self.on_frame is not None:
                self.on_frame(frame, voiced)
            yield frame

    async def speak(self, audio: AsyncIterable[rtc.AudioFrame]) -> AsyncIterator[rtc.AudioFrame]:
        """One speech's frames, on their way out; its first loud frame is timed."""
        sounded = False
        async for frame in audio:
            if not sounded and loud(frame):
                sounded, now = True, time.time()
                since = None if self.last_voiced_in is None else now - self.last_voiced_in
                self._speeches.append((now, since))
            yield frame

    def voice_to_voice(self, started_speaking_at: float | None) -> float | None:
        """The figure for the speech that started playing at `started_speaking_at` (livekit's report of it)."""
        if started_speaking_at is None:
            return None
        after = [(sounded, since) for sounded, since in self._speeches if sounded >= started_speaking_at - 0.05]
        return min(after)[1] if after else None


class TimedVoice(Agent):
    """An agent whose speech in and out passes the clock on its way (recognition and synthesis unchanged)."""

    def __init__(self, clock: SampleClock, *, instructions: str) -> None:
        super().__init__(instructions=instructions)
        self.clock = clock

    async def stt_node(
        self, audio: AsyncIterable[rtc.AudioFrame], model_settings: ModelSettings
    ) -> AsyncIterator[stt.SpeechEvent | str]:
        async for event in Agent.default.stt_node(self, self.clock.listen(audio), model_settings):
            yield event

    async def tts_node(self, text: AsyncIterable[str], model_settings: ModelSettings) -> AsyncIterator[rtc.AudioFrame]:
        async for frame in self.clock.speak(Agent.default.tts_node(self, text, model_settings)):
            yield frame


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(1000 * seconds, 1)


def _words(text: str) -> str:
    return " ".join(text.split()).lower()


class SpokenReplies:
    """The workflow's replies in the order they were handed to speech, so a reply heard in the room is matched
    to its transcript turn. A reply cut off before any audio is never heard: it is passed over."""

    def __init__(self) -> None:
        self._pending: deque[tuple[int, str, bool]] = deque(maxlen=20)

    def handed_to_speech(self, seq: int, text: str, *, acknowledged: bool) -> None:
        self._pending.append((seq, _words(text), acknowledged))

    def heard(self, spoken: str) -> tuple[int, bool] | None:
        """The turn number of the reply that was spoken, and whether an acknowledgement opened it."""
        start = _words(spoken)[:60]
        for index, (seq, text, acknowledged) in enumerate(self._pending):
            if start and text.startswith(start):
                for _ in range(index + 1):
                    self._pending.popleft()
                return seq, acknowledged
        return None


class VoiceTurnRecorder:
    def __init__(
        self, handle: WorkflowHandle[InterviewWorkflow, Any], replies: SpokenReplies, clock: SampleClock
    ) -> None:
        self._handle = handle
        self._replies = replies
        self._clock = clock
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
        heard = self._replies.heard(item.text_content or "") if item.role == "assistant" else None
        if heard is None:  # the opening question, a check-in: no candidate turn to measure from
            return
        seq, acknowledged = heard
        reply, candidate = item.metrics, self._candidate
        measured = VoiceTurnMetrics(
            end_of_utterance_ms=_ms(candidate.get("end_of_turn_delay")),
            stt_ms=_ms(candidate.get("transcription_delay")),
            llm_first_token_ms=_ms(reply.get("llm_node_ttft")),
            tts_first_byte_ms=_ms(reply.get("tts_node_ttfb")),
            voice_to_voice_ms=_ms(self._clock.voice_to_voice(reply.get("started_speaking_at"))),
            interrupted=item.interrupted,
            acknowledged=acknowledged,
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
