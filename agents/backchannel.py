"""A listener's "mm-hmm" while the interviewer talks: heard, but not a turn.

livekit-agents pauses the agent when the candidate's voice starts and resumes its sentence when no transcript
follows (a cough, a noise). A murmur of agreement is transcribed ("Mm-hmm.", "Uh-huh.", "Okay."), and a
transcript ends the paused reply and becomes the candidate's answer: measured before this module, every "mm-hmm"
said over a question was recorded as the answer to it and the interview moved on to an easier question. While the
agent's reply is under way, such a transcript is taken for what it is, and the reply resumes.
"""

from __future__ import annotations

import re

# Whisper writes the murmurs several ways: "Mm-hmm", "Mm mm", "Mhm", "Uh-huh", "Uh huh", "Hmm".
_MURMUR = re.compile(r"^(?:m+|h?m+h?m+|mh+m+|uh|uhhuh|huh|ah+|oh+)$")
_AGREEMENT = frozenset({"yeah", "yes", "yep", "yup", "ok", "okay", "right", "sure", "alright", "cool", "great", "nice"})
_PHRASES = frozenset({"i see", "got it", "all right", "makes sense", "that makes sense", "of course"})
MAX_WORDS = 3


def is_backchannel(transcript: str) -> bool:
    """Whether the whole of `transcript` is a listener's signal ("mm-hmm", "okay", "right, got it"), with
    nothing of an answer or a question in it."""
    words = [word.replace("-", "") for word in re.findall(r"[a-z'-]+", transcript.lower())]
    if not words or len(words) > MAX_WORDS:
        return False
    rest = f" {' '.join(words)} "
    for phrase in _PHRASES:
        rest = rest.replace(f" {phrase} ", " ")
    return all(_MURMUR.match(word) or word in _AGREEMENT for word in rest.split())
