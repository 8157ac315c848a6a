"""Retrieval over pgvector: a person's own document chunks (exact search, query and answer vectors weighed
together) and the question bank (an HNSW index), with hot query embeddings cached in Redis.

Every chunk search is filtered by owner in SQL, so no caller can be handed another person's chunk.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from array import array
from collections.abc import Sequence
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from activities.embeddings import Embedder, Embeddings
from activities.ingest import vector_literal
from activities.question_bank import VISIBLE_QUESTION
from schema.tables import DocumentChunk, QuestionEmbedding

# Candidates each of the two searches (query vectors, answer vectors) brings to the merge, per result wanted.
CANDIDATES_PER_RESULT = 4
BANK_RECHECK_SECONDS = 60.0  # how stale the bank's vectors may be after `mocki seed` before a process re-embeds


class CachedEmbedder:
    """An embedder whose vectors for texts seen before come from Redis (keyed by model and the text's SHA-256),
    so a repeated question or search costs no embedding call. Redis being down only costs the cache."""

    def __init__(self, embedder: Embedder, redis: Redis, ttl_seconds: int) -> None:
        self._embedder = embedder
        self._redis = redis
        self._ttl = ttl_seconds
        self.provider = embedder.provider

    def cache_key(self, text: str) -> str:
        return f"embedding:{self.provider}:{_sha256(text)}"

    async def embed(self, texts: list[str]) -> Embeddings:
        keys = [self.cache_key(t) for t in texts]
        try:
            cached: list[Any] = await self._redis.mget(keys) if keys else []
        except RedisError:
            cached = [None] * len(keys)
        missing = sorted({t for t, hit in zip(texts, cached, strict=True) if hit is None})
        fresh: dict[str, list[float]] = {}
        if missing:
            embedded = await self._embedder.embed(missing)
            fresh = dict(zip(missing, embedded.vectors, strict=True))
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for text, vector in fresh.items():
                        pipe.set(self.cache_key(text), array("d", vector).tobytes(), ex=self._ttl)
                    await pipe.execute()
            except RedisError:
                pass
        vectors = [fresh[t] if hit is None else array("d", hit).tolist() for t, hit in zip(texts, cached, strict=True)]
        return Embeddings(vectors=vectors, provider=self.provider)


_NEAREST = (
    "SELECT c.document::text AS document_id, c.n, c.section, "
    "1 - (c.query_embedding <=> {}::vector) AS q, 1 - (c.answer_embedding <=> {}::vector) AS a "
    "FROM document_chunk c JOIN document d ON d.id = c.document "
    "WHERE d.owner = {} AND d.status = 'ready' AND ({}::uuid[] IS NULL OR d.id = ANY({})) "
    "AND ({}::text[] IS NULL OR c.section = ANY({})) "
)
_NEAREST_BY_QUERY = _NEAREST + "ORDER BY c.query_embedding <=> {}::vector LIMIT {}"
_NEAREST_BY_ANSWER = _NEAREST + "ORDER BY c.answer_embedding <=> {}::vector LIMIT {}"


class ChunkHit(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    chunk: int
    section: str
    query_similarity: float  # cosine to the chunk's question ("What did you build at Acme?")
    answer_similarity: float  # cosine to the chunk itself
    score: float  # the weighted merge of the two


async def search_chunks(
    owner: str,
    vector: list[float],
    *,
    limit: int,
    query_weight: float,
    answer_weight: float,
    document_ids: Sequence[str] | None = None,
    sections: Sequence[str] | None = None,
) -> list[ChunkHit]:
    """The owner's chunks closest to `vector`, best first. Exact search (a person has hundreds of chunks at most):
    the chunks nearest by their question and those nearest by their text are found at once and merged by weight."""
    literal = vector_literal(vector)
    documents = [uuid.UUID(d) for d in document_ids] if document_ids is not None else None
    wanted_sections = list(sections) if sections is not None else None

    async def nearest_by(order_by: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await DocumentChunk.raw(
            order_by,
            literal,
            literal,
            uuid.UUID(owner),
            documents,
            documents,
            wanted_sections,
            wanted_sections,
            literal,
            limit * CANDIDATES_PER_RESULT,
        )
        return rows

    by_query, by_answer = await asyncio.gather(nearest_by(_NEAREST_BY_QUERY), nearest_by(_NEAREST_BY_ANSWER))
    merged = {(row["document_id"], row["n"]): row for row in [*by_query, *by_answer]}
    hits = [
        ChunkHit(
            document_id=str(row["document_id"]),
            chunk=row["n"],
            section=row["section"],
            query_similarity=round(row["q"], 4),
            answer_similarity=round(row["a"], 4),
            score=round(query_weight * row["q"] + answer_weight * row["a"], 4),
        )
        for row in merged.values()
    ]
    hits.sort(key=lambda hit: (-hit.score, hit.document_id, hit.chunk))
    return hits[:limit]


class BankHit(msgspec.Struct, frozen=True, kw_only=True):
    question_id: str
    similarity: float


class BankIndex:
    """The question bank's embeddings in pgvector (HNSW, cosine), one row per question and model. A question is
    embedded once per model and again only when its text changes: asking it again costs no embedding call."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._lock = asyncio.Lock()
        self._checked_at = -BANK_RECHECK_SECONDS

    @property
    def provider(self) -> str:
        return self._embedder.provider

    async def ensure_embedded(self, *, now: bool = False) -> int:
        """Embed the bank questions this model has no current vector for; returns how many were embedded. Checks
        at most every BANK_RECHECK_SECONDS unless `now` (a question was just written here)."""
        async with self._lock:
            if not now and time.monotonic() - self._checked_at < BANK_RECHECK_SECONDS:
                return 0
            rows = await QuestionEmbedding.raw(
                "SELECT q.id, q.body->>'text' AS text, e.text_sha256 FROM question q LEFT JOIN question_embedding e "
                "ON e.question_id = q.id AND e.provider = {} ORDER BY q.id",
                self.provider,
            )
            stale = [r for r in rows if r["text_sha256"] != _sha256(r["text"])]
            if stale:
                embedded = await self._embedder.embed([r["text"] for r in stale])
                for row, vector in zip(stale, embedded.vectors, strict=True):
                    await QuestionEmbedding.raw(
                        "INSERT INTO question_embedding (question_id, provider, text_sha256, embedding) "
                        "VALUES ({}, {}, {}, {}::vector) ON CONFLICT (question_id, provider) DO UPDATE SET "
                        "text_sha256 = excluded.text_sha256, embedding = excluded.embedding",
                        row["id"],
                        self.provider,
                        _sha256(row["text"]),
                        vector_literal(vector),
                    )
            self._checked_at = time.monotonic()
            return len(stale)

    async def search(
        self, vector: list[float], *, limit: int, owner: uuid.UUID | None = None, unshared: bool = False
    ) -> list[BankHit]:
        """The active bank questions nearest to `vector` by the HNSW index (approximate, recall@10 in `make
        bench`): shared ones, `owner`'s unshared ones too, or with `unshared` (an admin's search) every one."""
        await self.ensure_embedded()
        literal = vector_literal(vector)
        rows = await QuestionEmbedding.raw(
            "SELECT e.question_id, 1 - (e.embedding <=> {}::vector) AS similarity FROM question_embedding e "  # noqa: S608
            "JOIN question q ON q.id = e.question_id WHERE e.provider = {} AND q.retired_at IS NULL "
            f"AND {VISIBLE_QUESTION} ORDER BY e.embedding <=> {{}}::vector LIMIT {{}}",
            literal,
            self.provider,
            unshared,
            owner,
            literal,
            limit,
        )
        return [BankHit(question_id=r["question_id"], similarity=round(float(r["similarity"]), 4)) for r in rows]

    async def vectors(self, question_ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored embeddings of these bank questions (no embedding call: the bank is embedded already)."""
        await self.ensure_embedded()
        rows = await QuestionEmbedding.raw(
            "SELECT question_id, embedding::text AS embedding FROM question_embedding "
            "WHERE provider = {} AND question_id = ANY({})",
            self.provider,
            list(question_ids),
        )
        return {r["question_id"]: msgspec.json.decode(r["embedding"], type=list[float]) for r in rows}

    async def nearest(
        self, text: str, *, limit: int, owner: uuid.UUID | None = None, unshared: bool = False
    ) -> list[BankHit]:
        """The bank questions nearest to `text` (embedded by this index's embedder, which may cache it), as
        `search` chooses them."""
        vector = (await self._embedder.embed([text])).vectors[0]
        return await self.search(vector, limit=limit, owner=owner, unshared=unshared)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
