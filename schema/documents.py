"""Resumes and job descriptions: what the API returns and what the ingest workflow passes between activities."""

from __future__ import annotations

from typing import Literal

import msgspec

DocumentKind = Literal["resume", "jd"]
DocumentStatus = Literal["extracting", "indexing", "ready"]
Coverage = Literal["covered", "partly", "missing"]


class Section(msgspec.Struct, frozen=True, kw_only=True):
    name: str  # experience | projects | education | skills | summary | responsibilities | requirements | ...
    text: str


class Position(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    company: str
    start: int
    end: int | None  # None: to the present


class DocumentStructure(msgspec.Struct, frozen=True, kw_only=True):
    sections: list[Section]
    positions: list[Position]
    skills: list[str]
    seniority: str | None
    years: list[int]


class QueryAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A chunk of the document (the answer) and the question it answers; both are embedded."""

    section: str
    query: str
    answer: str


class IngestInput(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str


class Extraction(msgspec.Struct, frozen=True, kw_only=True):
    """How extraction went: the reason when the document cannot be used (then nothing of it is kept)."""

    ok: bool
    reason: str | None = None
    temporary: bool = False  # not the document's fault: the same upload may work later
    pages: int = 0
    characters: int = 0


class Indexed(msgspec.Struct, frozen=True, kw_only=True):
    chunks: int
    provider: str  # the embedding model


class DocumentView(msgspec.Struct, kw_only=True):
    document_id: str
    kind: DocumentKind
    status: DocumentStatus
    filename: str | None
    content_type: str
    bytes: int
    pages: int | None
    created_at: str
    structure: DocumentStructure | None = None  # once extracted (decrypted for its owner)
    chunks: int | None = None  # once indexed
    embedding_provider: str | None = None


class DocumentList(msgspec.Struct, kw_only=True):
    items: list[DocumentView]  # newest first


class ChunkView(msgspec.Struct, kw_only=True):
    document_id: str
    chunk: int
    section: str
    question: str  # the question the chunk answers, embedded beside it for retrieval
    text: str


class DocumentAccepted(msgspec.Struct, kw_only=True):
    document_id: str
    status: DocumentStatus


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """The resume chunk closest to a requirement (its number in `GET /documents/{id}` order, its section)."""

    chunk: int
    section: str
    excerpt: str
    similarity: float  # cosine of the two chunks' embeddings


class RequirementMatch(msgspec.Struct, frozen=True, kw_only=True):
    requirement: str
    section: str  # requirements | nice_to_have
    chunk: int  # the requirement's chunk of the job description
    status: Coverage
    skills_covered: list[str]
    skills_missing: list[str]
    evidence: Evidence | None  # None when nothing in the resume comes close
    reason: str


class MatchReport(msgspec.Struct, frozen=True, kw_only=True):
    resume_id: str
    jd_id: str
    score: int  # 0..100: required items count fully, nice-to-haves a quarter
    required_skills_covered: list[str]
    required_skills_missing: list[str]
    requirements: list[RequirementMatch]
    focus_topics: list[str]  # what a mock interview for this job should probe first
    seniority: dict[str, str | None]  # {"resume": ..., "jd": ...}
    provider: str  # how it was judged: the embedding model, and rules
