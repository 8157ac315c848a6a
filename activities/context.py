"""The summary buffer: what the interviewer model is shown of the conversation.

The whole transcript stays in Postgres. The model sees a running summary of older turns plus the most recent
turns verbatim. Older turns are folded into the summary once they outweigh FOLD_ABOVE_TOKENS (counted with a real
tokenizer), so a long interview costs about the same per turn as a short one. Summaries are extractive, built from
each answer's stored evaluation (what it covered and missed), so they cannot invent anything and cost no model call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from activities.specialists import MAX_REQUEST_WORDS
from schema.interview import AnswerEvaluation, Speaker, Stage

RECENT_TURNS = 4  # the last two exchanges, verbatim
FOLD_ABOVE_TOKENS = 150  # older, unsummarised turns are folded once they weigh more than this
SUMMARY_MAX_LINES = 24  # beyond this, the oldest notes give way
GIST_WORDS = 18
LABELS: dict[Speaker, str] = {"ai": "Interviewer", "human": "Interviewer (human)", "candidate": "Candidate"}


class ContextTurn(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    speaker: Speaker
    stage: Stage
    text: str
    tokens: int  # of `line(speaker, text)`
    question_id: str | None = None
    evaluation: AnswerEvaluation | None = None


class ContextWindow(msgspec.Struct, frozen=True, kw_only=True):
    summary: str
    summarised_through: int  # the last turn folded into the summary; -1 for none
    recent: list[ContextTurn]

    def render(self) -> str:
        parts = []
        if self.summary:
            parts.append(f"Summary of earlier turns:\n{self.summary}")
        if self.recent:
            parts.append("Recent turns:\n" + "\n".join(line(t.speaker, t.text) for t in self.recent))
        return "\n\n".join(parts)


def line(speaker: Speaker, text: str) -> str:
    """One turn as the model sees it; a turn's stored token count is of this line."""
    return f"{LABELS[speaker]}: {text}"


def fold(window: ContextWindow, newer: Sequence[ContextTurn]) -> ContextWindow:
    """Add `newer` turns; fold the ones older than the recent window into the summary when they weigh enough."""
    turns = [*window.recent, *newer]
    older = turns[:-RECENT_TURNS] if len(turns) > RECENT_TURNS else []
    if sum(t.tokens for t in older) <= FOLD_ABOVE_TOKENS:
        return ContextWindow(summary=window.summary, summarised_through=window.summarised_through, recent=turns)
    notes = [*filter(None, window.summary.splitlines()), *summarise(older)]
    if len(notes) > SUMMARY_MAX_LINES:
        notes = notes[-SUMMARY_MAX_LINES:]
    return ContextWindow(summary="\n".join(notes), summarised_through=older[-1].seq, recent=turns[len(older) :])


def summarise(turns: Sequence[ContextTurn]) -> list[str]:
    """Notes: the gist of each question when first asked, and what each answer covered or missed.

    Requests about the conversation (a pause, "could you repeat that?") and the replies that restate a question
    carry nothing to remember, so they leave no note: the router keeps such requests short, and they are never
    scored. (A question whose turns straddle two folds is noted in both.)
    """
    notes = []
    noted_question: str | None = None
    for turn in turns:
        if turn.speaker != "candidate":
            if turn.question_id is None or turn.question_id != noted_question:
                notes.append(f"- [{turn.stage}] Asked: {_gist(_last_sentence(turn.text))}")
                noted_question = turn.question_id
        elif turn.evaluation is None and len(turn.text.split()) <= MAX_REQUEST_WORDS:
            continue
        elif turn.evaluation is not None and (turn.evaluation.covered or turn.evaluation.missing):
            e = turn.evaluation
            covered = ", ".join(e.covered) or "nothing from the rubric"
            missed = f"; missed {', '.join(e.missing)}" if e.missing else ""
            notes.append(f"- [{turn.stage}] Candidate covered {covered}{missed} ({e.score:g}/5).")
        else:
            notes.append(f"- [{turn.stage}] Candidate said: “{_gist(turn.text)}”")
    return notes


def _last_sentence(text: str) -> str:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
    questions = [s for s in sentences if s.endswith("?")]
    return (questions or sentences or [text])[-1]


def _gist(text: str) -> str:
    words = text.split()
    return " ".join(words[:GIST_WORDS]) + ("…" if len(words) > GIST_WORDS else "")
