"""Side effects of ingesting a document: open the sealed upload, extract and structure its text, embed its chunks
and their questions into pgvector, or discard it whole when it cannot be used.

Only sealed bytes and vectors reach Postgres. Each activity is idempotent (a retry rewrites the same rows).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import msgspec
from piccolo.columns import Column
from piccolo.engine import engine_finder
from temporalio import activity

from activities.documents import UnusableDocument, extract_text
from activities.embeddings import Embedder
from activities.structure import chunks_with_questions, structure
from activities.vault import Vault, decode_wrapped, encode_wrapped, open_sealed, seal
from schema.documents import DocumentStructure, Extraction, Indexed, IngestInput
from schema.tables import Document, DocumentChunk, GmailAccount, ImapAccount, MailMessage


def open_structure(key: bytes, sealed: bytes, document_id: str) -> DocumentStructure:
    """A document's structure, from its sealed `structure_sealed` column."""
    return msgspec.json.decode(open_sealed(key, sealed, document_id, "structure"), type=DocumentStructure)


def vector_literal(vector: list[float]) -> str:
    return "[" + ",".join(f"{value:.7g}" for value in vector) + "]"


class DocumentActivities:
    def __init__(self, vault: Vault, embedder: Embedder) -> None:
        self._vault = vault
        self._embedder = embedder

    async def _key(self, document_id: str, *columns: Column) -> tuple[bytes, dict[str, Any]] | None:
        """The document's data key and `columns` (only those: the sealed original alone may be 5 MiB)."""
        row = await Document.select(Document.wrapped_key, *columns).where(Document.id == uuid.UUID(document_id)).first()
        if row is None:
            return None
        return self._vault.unwrap(decode_wrapped(row["wrapped_key"]), document_id), row

    @activity.defn
    async def extract_document(self, request: IngestInput) -> Extraction:
        found = await self._key(request.document_id, Document.kind, Document.original_sealed)
        if found is None:
            return Extraction(ok=False, reason="the document was deleted before it was read")
        key, row = found
        original = open_sealed(key, row["original_sealed"], request.document_id, "original")
        try:
            _kind, text, pages = await asyncio.to_thread(extract_text, original)  # parsing blocks: not on the loop
        except UnusableDocument as unusable:
            return Extraction(ok=False, reason=str(unusable))
        structured = structure(row["kind"], text)
        await Document.update(
            {
                Document.text_sealed: seal(key, text.encode(), request.document_id, "text"),
                Document.structure_sealed: seal(key, msgspec.json.encode(structured), request.document_id, "structure"),
                Document.pages: pages,
                Document.status: "indexing",
                Document.updated_at: dt.datetime.now(dt.UTC),
            }
        ).where(Document.id == uuid.UUID(request.document_id))
        return Extraction(ok=True, pages=pages, characters=len(text))

    @activity.defn
    async def index_document(self, request: IngestInput) -> Indexed:
        found = await self._key(request.document_id, Document.kind, Document.structure_sealed)
        if found is None:
            return Indexed(chunks=0, provider=self._embedder.provider)
        key, row = found
        opened = open_structure(key, row["structure_sealed"], request.document_id)
        pairs = chunks_with_questions(row["kind"], opened)
        queries = await self._embedder.embed([pair.query for pair in pairs])
        answers = await self._embedder.embed([pair.answer for pair in pairs])
        document_id = uuid.UUID(request.document_id)
        async with engine_finder().transaction():  # type: ignore[union-attr]
            await DocumentChunk.delete().where(DocumentChunk.document == document_id)
            for n, (pair, query_vector, answer_vector) in enumerate(
                zip(pairs, queries.vectors, answers.vectors, strict=True)
            ):
                await DocumentChunk.raw(
                    "INSERT INTO document_chunk (document, n, section, query_sealed, answer_sealed, query_embedding, "
                    "answer_embedding) VALUES ({}, {}, {}, {}, {}, {}::vector, {}::vector)",
                    document_id,
                    n,
                    pair.section,
                    seal(key, pair.query.encode(), request.document_id, f"query:{n}"),
                    seal(key, pair.answer.encode(), request.document_id, f"answer:{n}"),
                    vector_literal(query_vector),
                    vector_literal(answer_vector),
                )
            await Document.update(
                {
                    Document.status: "ready",
                    Document.chunks: len(pairs),
                    Document.embedding_provider: queries.provider,
                    Document.updated_at: dt.datetime.now(dt.UTC),
                }
            ).where(Document.id == document_id)
        return Indexed(chunks=len(pairs), provider=queries.provider)

    @activity.defn
    async def discard_document(self, request: IngestInput) -> None:
        """An unusable upload leaves nothing behind (its chunks go with it)."""
        await Document.delete().where(Document.id == uuid.UUID(request.document_id))


async def rewrap_keys(
    vault: Vault, table: type[Document] | type[MailMessage] | type[GmailAccount] | type[ImapAccount]
) -> tuple[int, int]:
    """Every data key in `table` (documents, mail messages, Gmail tokens, IMAP passwords) wrapped by the current
    master key; what they seal is untouched. Each key is bound to its row's primary key. Returns (re-wrapped,
    already current)."""
    rewrapped = current = 0
    row_key = table._meta.primary_key
    for row in await table.select(row_key, table.wrapped_key):
        wrapped = decode_wrapped(row["wrapped_key"])
        if wrapped.master == vault.current:
            current += 1
            continue
        fresh = vault.rewrap(wrapped, str(row[row_key._meta.name]))
        await table.update({table.wrapped_key: encode_wrapped(fresh)}).where(
            (row_key == row[row_key._meta.name]) & (table.wrapped_key == row["wrapped_key"])  # unless changed since
        )
        rewrapped += 1
    return rewrapped, current
