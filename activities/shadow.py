"""Shadow scoring: while a person interviews, the AI stays silent but still scores the candidate's answers.

A person's question is free text with no rubric of its own. It is matched, by embedding similarity, to the most
alike question in the bank, and the answer is scored against that question's key points, with the person's own
words as the question. When nothing in the bank is alike enough, the answer is not scored: a score against an
unrelated rubric would be a made-up number.
"""

from __future__ import annotations

import math

import msgspec

from activities.embeddings import Embedder
from activities.question_bank import BankQuestion, QuestionBank

# all-MiniLM-L6-v2 cosine, measured on a few interviewer questions: ones on a bank question's topic scored 0.60-0.94,
# ones on topics the bank lacks (a favourite team, "why here?", what happens on typing a URL) 0.27-0.40.
MATCH_AT_LEAST = 0.5


class BankMatch(msgspec.Struct, frozen=True, kw_only=True):
    question: BankQuestion | None  # None: nothing in the bank is alike enough
    closest_id: str
    similarity: float
    provider: str  # the embeddings that matched


class BankMatcher:
    """The bank's questions, embedded once per process, and the nearest one to a person's question."""

    def __init__(self, bank: QuestionBank, embedder: Embedder) -> None:
        self._bank = bank
        self._embedder = embedder
        self._vectors: list[tuple[BankQuestion, list[float]]] | None = None

    async def nearest(self, asked: str) -> BankMatch:
        if self._vectors is None:
            questions = [q for q in self._bank.questions if q.key_points]
            embedded = await self._embedder.embed([q.text for q in questions])
            self._vectors = list(zip(questions, embedded.vectors, strict=True))
        query = (await self._embedder.embed([asked])).vectors[0]
        similarity, closest = max(((_cosine(query, v), q) for q, v in self._vectors), key=lambda pair: pair[0])
        return BankMatch(
            question=closest if similarity >= MATCH_AT_LEAST else None,
            closest_id=closest.id,
            similarity=round(similarity, 3),
            provider=self._embedder.provider,
        )


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)) or 1.0)


def as_asked(question: BankQuestion, asked: str) -> BankQuestion:
    """The bank question's rubric under the person's own words, so a model scores what was really asked."""
    return msgspec.structs.replace(question, text=asked)
