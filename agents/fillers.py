"""Latency hiding (the SyncInterview design): while the candidate speaks, a tentative acknowledgement is prepared
from a partial transcript (about every 2 s of speech) and synthesised ahead; if the reply is not ready when its
first audio is due (`MOCKI_VOICE_FILLER_AFTER_SECONDS` after the candidate's last voiced sample), the agent says
the acknowledgement first, as the opening of the same speech: never two voices at once, never the same
acknowledgement twice in a row. When no partial was recognised in time, the final transcript names the topic.
A reply that arrives within a quarter second of the turn's end needs none (the offline interviewer answers in about
50 ms): waiting for recognition is not hidden, the interviewer model is.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from dataclasses import dataclass

from livekit import rtc

from activities.speech import SpeechToText
from agents.metrics import SampleClock
from agents.voice import SpokenVoice

log = logging.getLogger(__name__)
# An acknowledgement delays the reply by its own length (most of a second), so it is said only for a reply still
# not ready this long after the turn ended, even when the candidate stopped talking long enough ago.
GRACE_SECONDS = 0.25
PARTIAL_EVERY_SECONDS = 2.0
PARTIAL_WINDOW_SECONDS = 10.0  # recognise at most the last 10 s: the acknowledgement is about what was just said
LEAD_IN_SECONDS = 0.3  # of silence kept before the candidate starts speaking
_PLAIN = ("Okay.", "Right.", "I see.", "Got it.", "Mm-hm, okay.", "Okay, thanks.")
# Things worth naming back ("Right, the hash map."): what interview answers are about.
_TOPICS = re.compile(
    r"\b(hash ?maps?|hash tables?|stacks?|queues?|heaps?|binary search|recursion|dynamic programming|graphs?|"
    r"trees?|linked lists?|sorting|indexe?s|caches?|caching|databases?|postgres|redis|sql|transactions?|"
    r"microservices?|apis?|load balancers?|sharding|replication|deadlines?|tests?|code reviews?)\b",
    re.IGNORECASE,
)


def acknowledgement(partial: str, avoid: str | None) -> str:
    """A short acknowledgement of what the candidate is saying, naming its latest topic when there is one; never
    `avoid` (the last one said)."""
    topics = [re.sub(r"hash ?", "hash ", topic.lower()) for topic in _TOPICS.findall(partial)]
    options = ([f"Right, the {topics[-1]}."] if topics else []) + list(_PLAIN)
    start = len(partial.split()) % len(options) if not topics else 0
    for option in options[start:] + options[:start]:
        if option != avoid:
            return option
    return options[0]


@dataclass(frozen=True)
class Prepared:
    """What was prepared for a finished turn: the latest acknowledgement ready when it ended, and the partial
    transcript still being recognised then (on busy cores it can finish after the turn but before the reply is
    late, and it is the more recent)."""

    ready: str | None
    in_flight: asyncio.Task[str | None] | None

    def now(self) -> str | None:
        task = self.in_flight
        if task is not None and task.done() and not task.cancelled() and task.result():
            return task.result()
        return self.ready


class Acknowledgements:
    def __init__(self, stt: SpeechToText, voice: SpokenVoice, clock: SampleClock, *, late_after: float) -> None:
        self._stt = stt
        self._voice = voice
        self._clock = clock
        self._late_after = late_after
        self._frames: deque[rtc.AudioFrame] = deque()
        self._buffered = 0.0  # seconds of audio in `_frames`
        self._since_partial = 0.0  # seconds of speech since the last partial transcript was asked for
        self._speaking = False  # the candidate has said something in this turn
        self._recognising: asyncio.Task[str | None] | None = None
        self._turn = 0  # counts the candidate's turns, so a late partial never serves the next turn
        self._prepared: str | None = None
        self._last_said: str | None = None
        # Partial transcripts cost recognition time on the same cores as the final one: they are made only while
        # replies are slow enough to need an acknowledgement (the latest one was; at first, assume so).
        self._replies_are_slow = True

    @property
    def enabled(self) -> bool:
        return self._late_after > 0

    def hear(self, frame: rtc.AudioFrame, voiced: bool) -> None:
        """Every frame of the candidate's audio, as it arrives."""
        if not self.enabled:
            return
        if not voiced and not self._speaking and self._buffered > LEAD_IN_SECONDS:
            # Nothing said yet: keep only a short lead-in (whisper invents words in long silences).
            self._buffered -= self._frames.popleft().duration
        self._speaking = self._speaking or voiced
        self._frames.append(frame)
        self._buffered += frame.duration
        while self._buffered - self._frames[0].duration > PARTIAL_WINDOW_SECONDS:
            self._buffered -= self._frames.popleft().duration
        self._since_partial += frame.duration if voiced else 0.0
        ready = self._recognising is None and self._replies_are_slow
        if self._since_partial >= PARTIAL_EVERY_SECONDS and ready:
            self._since_partial = 0.0
            audio = rtc.combine_audio_frames(list(self._frames))
            self._recognising = asyncio.create_task(self._prepare(audio, self._turn))

    async def _prepare(self, audio: rtc.AudioFrame, turn: int) -> str | None:
        try:
            partial = (await self._stt.transcribe(audio.to_wav_bytes())).text
            prepared = acknowledgement(partial, self._last_said)
            await self._voice.prepare(prepared)
        except Exception:  # an acknowledgement is a nicety: the reply still comes
            log.warning("could not prepare an acknowledgement", exc_info=True)
            return None
        finally:
            if self._recognising is asyncio.current_task():
                self._recognising = None
        if turn == self._turn:
            self._prepared = prepared
        return prepared

    def seconds_until_late(self) -> float | None:
        """How long the reply may still take before an acknowledgement goes first; None when they are off."""
        if not self.enabled or self._clock.last_voiced_in is None:
            return None
        return max(GRACE_SECONDS, self._clock.last_voiced_in + self._late_after - time.time())

    def turn_taken(self) -> Prepared:
        """The candidate's turn is over: returns what was prepared for it; what is heard from now on prepares the
        next one."""
        prepared = Prepared(ready=self._prepared, in_flight=self._recognising)
        self._prepared, self._recognising = None, None
        self._turn += 1
        self._frames.clear()
        self._buffered = self._since_partial = 0.0
        self._speaking = False
        return prepared

    def reply_took(self, seconds: float) -> None:
        """How long the interviewer took to answer the latest turn."""
        self._replies_are_slow = seconds > GRACE_SECONDS

    def say_first(self, prepared: Prepared | None, transcript: str) -> str:
        """The acknowledgement to say now: the latest one prepared from a partial transcript; when none is ready
        (busy cores make partials late), one made from the turn's final `transcript` (synthesising four words is
        quick); never the last one said."""
        latest = prepared.now() if prepared is not None else None
        if not latest or latest == self._last_said:
            latest = acknowledgement(transcript, self._last_said)
        self._last_said = latest
        return latest
