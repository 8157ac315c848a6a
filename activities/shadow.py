"""Shadow scoring: while a person interviews, the AI stays silent but still scores the candidate's answers.

A person's question is free text with no rubric of its own. It is matched, by embedding similarity, to the most
alike question in the bank, and the answer is scored against that question's key points, with the person's own
words as the question. When nothing in the bank is alike enough, the answer is not scored: a score against an
unrelated rubric would be a made-up number.
"""

from __future__ import annotations

import msgspec

from activities.question_bank import BankQuestion, QuestionBank
from activities.retrieval import BankIndex

# all-MiniLM-L6-v2 cosine, measured on a few interviewer questions: ones on a bank question's topic scored 0.60-0.94,
# ones on topics the bank lacks (a favourite team, "why here?", what happens on typing a URL) 0.27-0.40.
MATCH_AT_LEAST = 0.5
NEAREST_LOOKED_AT = 5  # coding questions have no rubric: the nearest scored one is among the first few


class BankMatch(msgspec.Struct, frozen=True, kw_only=True):
    question: BankQuestion | None  # None: nothing in the bank is alike enough
    closest_id: str
    similarity: float
    provider: str  # the embeddings that matched


class BankMatcher:
    """The bank question nearest to a person's question, by the bank's HNSW index (activities/retrieval.py)."""

    def __init__(self, bank: QuestionBank, index: BankIndex) -> None:
        self._bank = bank
        self._index = index

    async def nearest(self, asked: str) -> BankMatch:
        hits = await self._index.nearest(asked, limit=NEAREST_LOOKED_AT)
        scored = {q.id: q for q in self._bank.questions if q.key_points}
        if not hits:
            raise LookupError("the question bank has no embedded question to match against")
        # Only a question with a rubric can score the answer; failing one, the nearest is still reported.
        best = next((hit for hit in hits if hit.question_id in scored), hits[0])
        matched = best.question_id in scored and best.similarity >= MATCH_AT_LEAST
        return BankMatch(
            question=scored[best.question_id] if matched else None,
            closest_id=best.question_id,
            similarity=round(best.similarity, 3),
            provider=self._index.provider,
        )


def as_asked(question: BankQuestion, asked: str) -> BankQuestion:
    """The bank question's rubric under the person's own words, so a model scores what was really asked."""
    return msgspec.structs.replace(question, text=asked)
