"""A scripted candidate in a LiveKit room: speaks espeak-ng answers in real time and transcribes what it hears.

Used by the voice tests; it is a participant like a browser would be (livekit rtc SDK).
"""

from __future__ import annotations

import asyncio
import io
import time
import wave

import numpy as np
from livekit import rtc

from activities.speech import EspeakTTS, FasterWhisperSTT

RATE = 16_000
LOUD = 500  # int16 amplitude that counts as speech rather than silence
LEAD_IN = RATE * 3 // 10  # silence kept before the first loud sample, so its word's soft onset is heard
# The room's transport both ways (voice bench: 139-167 ms between the agent's and the candidate's measure of the same
# turns): an agent that falls silent sooner than this after the candidate starts was not reacting to them.
REACTION_FLOOR = 0.15
WHISPER = FasterWhisperSTT()
ESPEAK = EspeakTTS()


class Candidate:
    """A person in the room: what they hear is kept (16 kHz mono), what they say is published as a microphone."""

    def __init__(self) -> None:
        self.room = rtc.Room()
        self.heard: list[np.ndarray] = []
        self.heard_at: list[tuple[float, bool]] = []  # (monotonic time, loud) of every received frame
        # A short queue: a frame is captured when it is sent, so `last_voiced_at` is when the room got it.
        self._source = rtc.AudioSource(RATE, 1, queue_size_ms=10)
        self._listeners: set[asyncio.Task[None]] = set()
        self.last_voiced_at = 0.0  # when the last voiced frame of the latest `say` went out
        self._consumed = 0  # frames of `heard` already returned by hear_an_utterance

    async def join(self, url: str, token: str) -> None:
        @self.room.on("track_subscribed")
        def _subscribed(track: rtc.Track, *_: object) -> None:
            listener = asyncio.ensure_future(self._listen(track))
            self._listeners.add(listener)
            listener.add_done_callback(self._listeners.discard)

        await self.room.connect(url, token)
        microphone = rtc.LocalAudioTrack.create_audio_track("microphone", self._source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(microphone, options)

    async def _listen(self, track: rtc.Track) -> None:
        async for event in rtc.AudioStream(track, sample_rate=RATE, num_channels=1):
            samples = np.frombuffer(event.frame.data, dtype=np.int16).copy()
            self.heard.append(samples)
            self.heard_at.append((time.monotonic(), bool(samples.size) and int(np.abs(samples).max()) > LOUD))

    async def hear_an_utterance(self, within_seconds: float = 40) -> str:
        """The agent's next utterance, transcribed: what it said since the candidate last spoke (a reply may start
        while `say` is still sending its trailing silence) and not yet returned, up to 1.5 s of silence."""
        after_speaking = (i for i, (at, _) in enumerate(self.heard_at) if at > self.last_voiced_at)
        start = max(self._consumed, next(after_speaking, len(self.heard_at)))
        deadline, spoke, quiet_since = time.monotonic() + within_seconds, False, None
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            heard = self.heard[start:]
            recent = np.concatenate(heard[-10:]) if heard else np.zeros(0, dtype=np.int16)
            loud = bool(recent.size) and int(np.abs(recent).max()) > LOUD
            spoke = spoke or loud
            quiet_since = None if loud else (quiet_since or time.monotonic())
            if spoke and quiet_since and time.monotonic() - quiet_since > 1.5:
                self._consumed = start + len(heard)
                return await transcribe(np.concatenate(heard))
        raise AssertionError(f"heard no complete utterance within {within_seconds} s")

    async def listen_past(self, moment: float, within_seconds: float = 30) -> None:
        """Wait, as a person waits for the question, until the agent has spoken after `moment` (monotonic) and
        then been quiet for 1.5 s; what it said is not returned by a later `hear_an_utterance`."""
        deadline = time.monotonic() + within_seconds
        while time.monotonic() < deadline:
            last_loud = next((at for at, loud in reversed(self.heard_at) if loud), 0.0)
            if last_loud > moment and time.monotonic() - last_loud > 1.5:
                self._consumed = len(self.heard)
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the agent said nothing after {moment} within {within_seconds} s")

    async def hear_after(self, moment: float, within_seconds: float = 30) -> str:
        """What the agent says from `moment` (monotonic) on, transcribed, once it has spoken after it and then been
        quiet for 1.5 s."""
        await self.listen_past(moment, within_seconds)
        return await self._transcribe_after(moment)

    async def say(self, *parts: str | float) -> float:
        """Speak in real time: text is synthesised, a number is that many seconds of silence; 2 s of silence
        follow. Returns when the first voiced frame went out."""
        pieces = [
            await _spoken(part) if isinstance(part, str) else np.zeros(int(RATE * part), np.int16) for part in parts
        ]
        audio = np.concatenate([*pieces, np.zeros(RATE * 2, dtype=np.int16)])
        step = RATE // 100  # 10 ms frames, in real time
        first_voiced = None
        for start in range(0, len(audio) - step + 1, step):
            frame = audio[start : start + step]
            if int(np.abs(frame).max()) > LOUD:
                first_voiced = first_voiced or time.monotonic()
                self.last_voiced_at = time.monotonic()
            await self._source.capture_frame(rtc.AudioFrame(frame.tobytes(), RATE, 1, step))
        assert first_voiced is not None
        return first_voiced

    async def reply_latency(self, within_seconds: float = 30) -> float:
        """Voice to voice: seconds from the last voiced frame of the latest `say` to the first loud frame heard
        after it; returns once the reply has ended (1.5 s of silence)."""
        deadline = time.monotonic() + within_seconds
        while time.monotonic() < deadline:
            first = next((at for at, loud in self.heard_at if loud and at > self.last_voiced_at), None)
            if first is not None:
                while time.monotonic() < deadline:
                    last_loud = next(at for at, loud in reversed(self.heard_at) if loud)
                    if time.monotonic() - last_loud > 1.5:
                        return first - self.last_voiced_at
                    await asyncio.sleep(0.1)
            await asyncio.sleep(0.02)
        raise AssertionError(f"no reply within {within_seconds} s")

    async def transcribe_last_reply(self) -> str:
        """What the agent said after the candidate last spoke (once `reply_latency` has returned)."""
        return await self._transcribe_after(self.last_voiced_at)

    async def _transcribe_after(self, moment: float) -> str:
        frames = zip(self.heard, self.heard_at, strict=True)
        after = [samples for samples, (at, _) in frames if at > moment]
        return await transcribe(np.concatenate(after)) if after else ""

    def was_talking_just_before(self, moment: float) -> bool:
        """Whether the agent was heard in the 0.3 s before `moment` (monotonic)."""
        return any(loud for at, loud in self.heard_at if moment - 0.3 < at < moment)

    async def talk_over_the_reply(self, text: str, within_seconds: float = 30) -> float:
        """Once the agent's reply to the latest `say` is 0.5 s under way, say `text` over it. Returns when this
        speech's first voiced frame went out."""
        deadline = time.monotonic() + within_seconds
        while not any(loud and at > self.last_voiced_at for at, loud in self.heard_at):
            if time.monotonic() > deadline:
                raise AssertionError(f"the agent did not start a reply within {within_seconds} s")
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        return await self.say(text)

    async def barge_in(self, text: str, within_seconds: float = 30) -> float | None:
        """Talk over the reply: seconds from this speech's first voiced frame to the last loud frame of the agent
        heard while it went on; None when this was no test of it: the agent was not talking just then (the speech
        landed in a gap, such as the one after a short acknowledgement), or it fell silent sooner than it could
        have heard the candidate (its sentence was ending anyway)."""
        started = await self.talk_over_the_reply(text, within_seconds)
        if not self.was_talking_just_before(started):
            return None
        # The interruption lasts about 2 s; the agent's answer to it comes later than 1.5 s.
        last_loud = max((at for at, loud in self.heard_at if loud and started <= at < started + 1.5), default=started)
        return None if last_loud - started < REACTION_FLOOR else last_loud - started


async def _spoken(text: str) -> np.ndarray:
    speech = await ESPEAK.synthesize(text)
    with wave.open(io.BytesIO(speech.wav)) as reader:
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)
        rate = reader.getframerate()
    return np.interp(np.arange(0, len(samples), rate / RATE), np.arange(len(samples)), samples).astype(np.int16)


async def transcribe(samples: np.ndarray) -> str:
    """What an ear makes of `samples`: from just before the first loud sample, as a VAD would cut it. Seconds of
    silence ahead of the words derail tiny.en: the same check-in with 12 s of silence before it came out as "6. The"
    instead of its two sentences."""
    loud = np.flatnonzero(np.abs(samples) > LOUD)
    samples = samples[max(0, int(loud[0]) - LEAD_IN) :] if loud.size else samples
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(samples.astype(np.int16).tobytes())
    return (await WHISPER.transcribe(buffer.getvalue())).text
