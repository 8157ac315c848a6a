"""Where the candidate's speech ended, as precisely as the agent can tell.

The local VAD (silero, 32 ms windows with a falling-probability hangover) dates an end of speech ~90 ms after the
last voiced sample it was given, measured at the agent. The pipeline's endpointing wait (0.6 s for a finished
sentence) counts from that date, so every reply carried the VAD's lag on top. Here each end of speech is dated at
the last loud frame the VAD was given instead, when that frame is plausibly the speech's own end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable

from livekit import rtc
from livekit.agents import inference, vad
from livekit.agents.utils import aio

from agents.metrics import loud

# A last loud frame further back than this is not the VAD's speech: the candidate ended below the loudness line
# (a soft voice, a quiet microphone) and the VAD's own date is the better one.
MAX_HANGOVER = 0.25


class SampleDatedVAD(inference.VAD):
    """The livekit-agents local VAD whose end-of-speech events are dated at the last loud input frame."""

    def stream(self) -> vad.VADStream:
        return _SampleDatedStream(self, super().stream())


class _SampleDatedStream(vad.VADStream):
    def __init__(self, owner: vad.VAD, inner: vad.VADStream) -> None:
        self._inner = inner
        self._last_loud_at: float | None = None
        super().__init__(owner)

    def push_frame(self, frame: rtc.AudioFrame) -> None:
        if loud(frame):
            self._last_loud_at = time.time()
        super().push_frame(frame)

    async def _main_task(self) -> None:
        feeding = asyncio.create_task(self._feed())
        try:
            async for event in self._inner:
                if event.type is vad.VADEventType.END_OF_SPEECH:
                    self._date_end(event)
                self._event_ch.send_nowait(event)
        finally:
            await aio.cancel_and_wait(feeding)
            await self._inner.aclose()

    async def _feed(self) -> None:
        async for item in self._input_ch:
            if isinstance(item, vad.VADStream._FlushSentinel):
                self._inner.flush()
            else:
                self._inner.push_frame(item)
        self._inner.end_input()

    def _date_end(self, event: vad.VADEvent) -> None:
        """livekit-agents dates the end at now - silence_duration - inference_duration: move it to the last
        loud frame by lengthening the silence, never later than the VAD's own date."""
        now = time.time()
        vad_end = now - event.silence_duration - event.inference_duration
        if self._last_loud_at is None or not 0 <= vad_end - self._last_loud_at <= MAX_HANGOVER:
            return
        event.silence_duration = now - event.inference_duration - self._last_loud_at

    async def _metrics_monitor_task(self, event_aiter: AsyncIterable[vad.VADEvent]) -> None:
        async for _ in event_aiter:  # the wrapped stream already reports the VAD's metrics
            pass
