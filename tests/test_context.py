"""The summary buffer: older turns fold into notes once they weigh enough; recent turns stay verbatim."""

from __future__ import annotations

from activities.context import FOLD_ABOVE_TOKENS, RECENT_TURNS, ContextTurn, ContextWindow, fold, line
from activities.tokens import token_counter
from schema.interview import AnswerEvaluation

COUNTER = token_counter()


def turn(seq: int, text: str, *, evaluation: AnswerEvaluation | None = None) -> ContextTurn:
    speaker = "ai" if seq % 2 == 0 else "candidate"
    return ContextTurn(
        seq=seq,
        speaker=speaker,
        stage="knowledge",
        text=text,
        tokens=COUNTER.count(line(speaker, text)),
        evaluation=evaluation,
    )


EVALUATION = AnswerEvaluation(
    score=2.5,
    covered=["idempotency key"],
    missing=["stored response"],
    feedback="",
    acknowledgement="",
    provider="offline:question-bank",
)


def test_a_real_tokenizer_counts_words_and_word_pieces() -> None:
    assert COUNTER.count("hello world") == 2
    assert COUNTER.count("idempotency") > 1  # split into word pieces, not counted as one word


def test_turns_fold_into_notes_only_past_the_threshold_and_recent_ones_stay_verbatim() -> None:
    empty = ContextWindow(summary="", summarised_through=-1, recent=[])
    short = [turn(n, "Short turn.") for n in range(RECENT_TURNS + 2)]
    assert fold(empty, short).summary == ""  # two short older turns weigh too little to fold

    question = "Sure. How would you make a payment endpoint safe to retry?"
    answer = "I would send an idempotency key with every request and explain it at length. " * 8
    turns = [turn(n, question if n % 2 == 0 else answer, evaluation=EVALUATION) for n in range(12)]
    assert sum(t.tokens for t in turns[:-RECENT_TURNS]) > FOLD_ABOVE_TOKENS
    window = fold(empty, turns)
    assert [t.seq for t in window.recent] == list(range(8, 12))
    assert window.summarised_through == 7
    assert window.summary.splitlines()[:2] == [
        "- [knowledge] Asked: How would you make a payment endpoint safe to retry?",
        "- [knowledge] Candidate covered idempotency key; missed stored response (2.5/5).",
    ]
    rendered = window.render()
    assert rendered.startswith("Summary of earlier turns:\n- [knowledge]")
    assert COUNTER.count(rendered) < sum(t.tokens for t in turns)

    later = fold(window, [turn(12, question)])  # one short turn more: too little to fold yet
    assert (later.summary, [t.seq for t in later.recent]) == (window.summary, list(range(8, 13)))
    # Once enough has grown old again, the next fold adds to the stored notes.
    latest = fold(later, [turn(n, question if n % 2 == 0 else answer, evaluation=EVALUATION) for n in (13, 14, 15)])
    assert latest.summary.startswith(window.summary + "\n- [knowledge] Asked:")
    assert latest.summarised_through == 11
