"""Retrieval quality and speed: the team's eval set (bench/eval/) over 30 resumes and job descriptions and the
question bank, and the bank's HNSW index at 100k vectors.

Quality: top-1 / top-3 accuracy of each document query (the expected chunk is the one containing a labelled
phrase, among every chunk of all 30 documents) for query-only, answer-only and weighted similarity, plus the weight
that the eval set favours; and of each bank query (a paraphrase of a bank question) through the bank index.
Speed: p50 / p95 of the bank search's SQL at 100k vectors, and its recall@10 against exact search.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import numpy as np

from activities.embeddings import LocalMiniLMEmbedder
from activities.ingest import vector_literal
from activities.retrieval import BankIndex, search_chunks
from activities.structure import chunks_with_questions, structure
from activities.vault import seal
from bench.foundation import percentile
from schema.tables import AppUser, Document
from stack import database
from stack.services import LocalStack
from stack.settings import load_settings

EVAL = Path(__file__).with_name("eval")
SYNTHETIC_VECTORS = 100_000
WEIGHTS = [round(0.1 * step, 1) for step in range(11)]
EF_SEARCH = (40, 100)  # pgvector's default, and a wider beam


@dataclass(frozen=True)
class Labelled:
    target: str  # a document name, or "bank"
    label: str  # a phrase of the expected chunk, or the expected question id
    query: str


def eval_documents() -> dict[str, tuple[str, str]]:
    """name -> (kind, text)."""
    documents: dict[str, tuple[str, str]] = {}
    for block in (EVAL / "documents.txt").read_text().split("=== ")[1:]:
        head, text = block.split("\n", 1)
        name, kind = head.split()
        documents[name] = (kind, text.strip() + "\n")
    return documents


def eval_queries() -> list[Labelled]:
    lines = (EVAL / "queries.txt").read_text().splitlines()
    return [Labelled(*(part.strip() for part in line.split("|", 2))) for line in lines if line and line[0] != "#"]


def run() -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings({"MOCKI_DATA_DIR": data_dir, "MOCKI_PORTS": "free"})
        with LocalStack(settings, ports="free", durable=False) as endpoints:
            return asyncio.run(_run(endpoints.database_url, settings.retrieval_query_weight))


async def _run(database_url: str, default_weight: float) -> list[tuple[str, str, str]]:
    engine = database.bind(database_url)
    await database.migrate()
    await engine.start_connection_pool()
    try:
        rows: list[tuple[str, str, str]] = []
        embedder = LocalMiniLMEmbedder()
        owner, stored, chunk_of = await _index_documents(embedder)
        queries = eval_queries()
        vectors = (await embedder.embed([q.query for q in queries])).vectors
        document_queries = [(q, v) for q, v in zip(queries, vectors, strict=True) if q.target != "bank"]
        bank_queries = [(q, v) for q, v in zip(queries, vectors, strict=True) if q.target == "bank"]
        size = f"{len(document_queries)} queries, {stored} chunks of {len(eval_documents())} documents"
        accuracy = {}
        for weight in WEIGHTS:
            accuracy[weight] = await _document_accuracy(owner, document_queries, chunk_of, weight)
        for label, weight in (
            ("query vectors only", 1.0),
            ("answer vectors only", 0.0),
            (f"weighted (settings: {default_weight})", default_weight),
        ):
            top1, top3 = (
                accuracy[weight]
                if weight in accuracy
                else await _document_accuracy(owner, document_queries, chunk_of, weight)
            )
            rows.append((f"documents, {label}", f"top-1 {top1:.1%}, top-3 {top3:.1%}", size))
        best = max(WEIGHTS, key=lambda w: (accuracy[w][1], accuracy[w][0], -abs(w - default_weight)))
        rows.append(
            (
                "documents, best query weight on this set",
                f"{best}: top-1 {accuracy[best][0]:.1%}, top-3 {accuracy[best][1]:.1%}",
                "grid 0.0-1.0 by 0.1; RETRIEVAL_QUERY_WEIGHT",
            )
        )
        bank_index = BankIndex(embedder)
        await bank_index.ensure_embedded()
        top1 = top3 = 0
        for labelled, vector in bank_queries:
            found = [hit.question_id for hit in await bank_index.search(vector, limit=3)]
            top1 += found[:1] == [labelled.label]
            top3 += labelled.label in found
        rows.append(
            (
                "question bank search (HNSW)",
                f"top-1 {top1 / len(bank_queries):.1%}, top-3 {top3 / len(bank_queries):.1%}",
                f"{len(bank_queries)} paraphrases of bank questions",
            )
        )
        rows += await _bank_at_scale(database_url, np.array(vectors, dtype=np.float32))
        return rows
    finally:
        await engine.close_connection_pool()


async def _index_documents(
    embedder: LocalMiniLMEmbedder,
) -> tuple[str, int, dict[tuple[str, str], tuple[str, int]]]:
    """Every eval document stored for one owner as ingestion stores it (sealed, both vectors); returns the owner,
    how many chunks were stored and, per (document name, phrase), the expected (document id, chunk)."""
    owner = str(uuid.uuid4())
    await AppUser.raw(
        "INSERT INTO app_user (id, email, display_name, password_hash, role, created_at) "
        "VALUES ({}, {}, 'Bench', 'x', 'recruiter', now())",
        uuid.UUID(owner),
        f"bench-{owner[:8]}@bench.mocki.local",
    )
    key = os.urandom(32)
    labels = {(q.target, q.label) for q in eval_queries() if q.target != "bank"}
    chunk_of: dict[tuple[str, str], tuple[str, int]] = {}
    stored = 0
    for name, (kind, text) in eval_documents().items():
        document_id = str(uuid.uuid4())
        pairs = chunks_with_questions(kind, structure(kind, text))  # type: ignore[arg-type]
        stored += len(pairs)
        queries = await embedder.embed([p.query for p in pairs])
        answers = await embedder.embed([p.answer for p in pairs])
        await Document.raw(
            "INSERT INTO document (id, owner, kind, status, content_type, bytes, wrapped_key, original_sealed, "
            "chunks, embedding_provider, created_at, updated_at) "
            "VALUES ({}, {}, {}, 'ready', 'text/plain', {}, {}, {}, {}, {}, now(), now())",
            uuid.UUID(document_id),
            uuid.UUID(owner),
            kind,
            len(text),
            b"bench",
            seal(key, text.encode(), document_id, "original"),
            len(pairs),
            embedder.provider,
        )
        for n, (pair, q, a) in enumerate(zip(pairs, queries.vectors, answers.vectors, strict=True)):
            await Document.raw(
                "INSERT INTO document_chunk (document, n, section, query_sealed, answer_sealed, query_embedding, "
                "answer_embedding) VALUES ({}, {}, {}, {}, {}, {}::vector, {}::vector)",
                uuid.UUID(document_id),
                n,
                pair.section,
                seal(key, pair.query.encode(), document_id, f"query:{n}"),
                seal(key, pair.answer.encode(), document_id, f"answer:{n}"),
                vector_literal(q),
                vector_literal(a),
            )
        for target, phrase in labels:
            if target != name:
                continue
            matching = [n for n, pair in enumerate(pairs) if phrase in pair.answer]
            if len(matching) != 1:
                raise ValueError(f"eval label {name} | {phrase!r} matches {len(matching)} chunks, not one")
            chunk_of[(name, phrase)] = (document_id, matching[0])
    return owner, stored, chunk_of


async def _document_accuracy(
    owner: str,
    queries: list[tuple[Labelled, list[float]]],
    chunk_of: dict[tuple[str, str], tuple[str, int]],
    weight: float,
) -> tuple[float, float]:
    top1 = top3 = 0
    for labelled, vector in queries:
        hits = await search_chunks(owner, vector, limit=3, query_weight=weight, answer_weight=round(1 - weight, 1))
        found = [(hit.document_id, hit.chunk) for hit in hits]
        expected = chunk_of[(labelled.target, labelled.label)]
        top1 += found[:1] == [expected]
        top3 += expected in found
    return top1 / len(queries), top3 / len(queries)


async def _bank_at_scale(database_url: str, queries: np.ndarray) -> list[tuple[str, str, str]]:
    """100k bank-like vectors (blends of the eval's real embeddings, with noise) in a table shaped like
    question_embedding, HNSW-indexed as it is, beside a question table where 1% are retired and 5% unshared; the
    bank search's SQL (activities/retrieval.py BankIndex.search) timed and checked against exact search over the
    questions it may return."""
    rng = np.random.default_rng(7)
    base = queries[rng.integers(0, len(queries), SYNTHETIC_VECTORS)]
    other = queries[rng.integers(0, len(queries), SYNTHETIC_VECTORS)]
    mixed = 0.7 * base + 0.3 * other + rng.normal(0, 0.03, (SYNTHETIC_VECTORS, queries.shape[1]))
    vectors = (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)
    provider = "local:all-MiniLM-L6-v2"
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "CREATE TABLE bench_question_embedding (question_id varchar(60) PRIMARY KEY, provider varchar(80), "
            "text_sha256 char(64), embedding vector(384))"
        )
        sha = hashlib.sha256(b"synthetic").hexdigest()
        for start in range(0, SYNTHETIC_VECTORS, 5000):
            batch = [vector_literal(v.tolist()) for v in vectors[start : start + 5000]]
            await connection.execute(
                "INSERT INTO bench_question_embedding SELECT 'synthetic-' || ($4 + i), $2, $3, v::vector "
                "FROM unnest($1::text[]) WITH ORDINALITY AS u(v, i)",
                batch,
                provider,
                sha,
                start,
            )
        # Every 100th question retired, every 20th (not also retired) a recruiter's own.
        await connection.execute(
            "CREATE TABLE bench_question (id varchar(60) PRIMARY KEY, shared boolean NOT NULL, owner uuid, "
            "retired_at timestamptz)"
        )
        await connection.execute(
            "INSERT INTO bench_question SELECT 'synthetic-' || i, i % 20 <> 0 OR i % 100 = 0, "
            "CASE WHEN i % 20 = 0 AND i % 100 <> 0 THEN gen_random_uuid() END, "
            "CASE WHEN i % 100 = 0 THEN now() END FROM generate_series(1, $1) AS i",
            SYNTHETIC_VECTORS,
        )
        await connection.execute("SET maintenance_work_mem = '1GB'")
        started = time.perf_counter()
        await connection.execute(
            "CREATE INDEX ON bench_question_embedding USING hnsw (embedding vector_cosine_ops)"
        )  # as question_embedding_hnsw
        build_s = time.perf_counter() - started
        await connection.execute("ANALYZE bench_question_embedding")
        await connection.execute("ANALYZE bench_question")
        rows = [("bank HNSW index build, 100k vectors", f"{build_s:.1f} s", "m=16, ef_construction=64 (defaults)")]
        sql = (
            "SELECT e.question_id FROM bench_question_embedding e JOIN bench_question q ON q.id = e.question_id "
            "WHERE e.provider = $2 AND q.retired_at IS NULL AND (q.shared OR $3::boolean OR q.owner = $4::uuid) "
            "ORDER BY e.embedding <=> $1::vector LIMIT 10"
        )
        explained = await connection.fetch("EXPLAIN " + sql, vector_literal(queries[0].tolist()), provider, False, None)
        plan = "\n".join(row[0] for row in explained)
        if "bench_question_embedding_embedding_idx" not in plan:
            raise RuntimeError(f"the bank search does not use the HNSW index: {plan}")
        searchable = np.arange(1, SYNTHETIC_VECTORS + 1) % 20 != 0  # shared and not retired: a candidate's search
        similarity = np.where(searchable[:, None], vectors @ queries.T, -np.inf)
        exact = np.argsort(-similarity, axis=0)[:10].T  # per query, its 10 nearest by cosine it may return
        for ef_search in EF_SEARCH:
            await connection.execute(f"SET hnsw.ef_search = {ef_search}")
            latencies, recall = [], []
            for n, query in enumerate(queries):
                literal = vector_literal(query.tolist())
                started = time.perf_counter()
                found = await connection.fetch(sql, literal, provider, False, None)
                latencies.append((time.perf_counter() - started) * 1000)
                ids = {int(r["question_id"].removeprefix("synthetic-")) - 1 for r in found}
                recall.append(len(ids & set(exact[n].tolist())) / 10)
            rows.append(
                (
                    f"bank search at 100k vectors, ef_search={ef_search}",
                    f"p50 {percentile(latencies, 0.5):.2f} ms, p95 {percentile(latencies, 0.95):.2f} ms; "
                    f"recall@10 {np.mean(recall):.3f}",
                    f"{len(queries)} eval queries; vectors: blends of eval embeddings + noise; recall vs exact (numpy)",
                )
            )
        return rows
    finally:
        await connection.close()
