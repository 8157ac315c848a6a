"""When has the candidate finished their turn? Judged from what they said, for interviews.

The audio end-of-turn model bundled with livekit-agents (`inference.TurnDetector`, v1-mini) was measured on our
espeak-ng candidate: finished sentences scored 0.10-0.24 against its 0.36 "unlikely" threshold, so every answer
was held for the full 6 s. Its judgement rests on human prosody; the words are available to us either way, and the
cases interviews need are visible in them: an answer that stops on "with", "and", "um" or a think-aloud phrase is
not over; a finished sentence is.
"""

from __future__ import annotations

import re

from livekit.agents import llm
from livekit.agents.language import LanguageCode

# The turn is over: the pipeline waits only its minimum delay. Unfinished: it waits up to its maximum.
FINISHED = 0.9
UNFINISHED = 0.05
UNLIKELY_THRESHOLD = 0.5

# Words a sentence does not end on: it trails off, mid-thought.
_TRAILING_WORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "so",
        "because",
        "since",
        "although",
        "though",
        "if",
        "when",
        "while",
        "with",
        "without",
        "of",
        "to",
        "for",
        "from",
        "in",
        "on",
        "at",
        "by",
        "into",
        "about",
        "like",
        "than",
        "then",
        "that",
        "which",
        "who",
        "whose",
        "my",
        "our",
        "your",
        "their",
        "its",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "i",
        "we",
        "um",
        "uh",
        "er",
        "erm",
        "hmm",
        "mm",
        "well",
        "also",
        "plus",
        "maybe",
        "first",
        "second",
    }
)
# Said while thinking: the answer is still to come.
_THINKING = re.compile(
    r"\b(let me (think|see)|give me a (second|sec|moment|minute)|one (second|sec|moment)|hold on|bear with me"
    r"|i need (a moment|to think)|thinking (about|out loud))\b",
    re.IGNORECASE,
)
_LAST_WORD = re.compile(r"([a-z']+)\W*$", re.IGNORECASE)


def end_of_turn_probability(transcript: str) -> float:
    """How likely the candidate's transcript so far is a finished turn (FINISHED or UNFINISHED)."""
    text = transcript.strip()
    if not text or _THINKING.search(text) or text.endswith(("...", "…", ",", "-")):
        return UNFINISHED
    last = _LAST_WORD.search(text)
    if last and last.group(1).lower() in _TRAILING_WORDS:
        return UNFINISHED
    return FINISHED


class InterviewTurnDetector:
    """A livekit-agents turn detector (the `predict_end_of_turn` protocol) that reads the candidate's words."""

    @property
    def model(self) -> str:
        return "interview-transcript-rules"

    @property
    def provider(self) -> str:
        return "mocki"

    async def unlikely_threshold(self, language: LanguageCode | None) -> float | None:
        return UNLIKELY_THRESHOLD

    async def supports_language(self, language: LanguageCode | None) -> bool:
        return language is None or str(language).lower().startswith("en")

    async def predict_end_of_turn(
        self,
        chat_ctx: llm.ChatContext,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the protocol's signature; rules answer at once
    ) -> float:
        said = [item for item in chat_ctx.items if getattr(item, "role", None) == "user"]
        return end_of_turn_probability(said[-1].text_content or "" if said else "")  # type: ignore[union-attr]
