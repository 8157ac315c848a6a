"""Resumes and job descriptions: upload (sealed at once), status and structure, delete. Only the owner sees or
deletes a document; anyone else gets the same 404 as for a document that does not exist."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, NotFoundException, ServiceUnavailableException
from litestar.params import Body, FromPath, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT, HTTP_422_UNPROCESSABLE_ENTITY
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from activities.documents import MAX_UPLOAD_BYTES, UnusableDocument, sniff
from activities.ingest import open_structure
from activities.matching import IncomparableDocuments, match_documents
from activities.priority import priority_of
from activities.vault import Vault, decode_wrapped, encode_wrapped, open_sealed, seal
from schema.documents import (
    ChunkView,
    DocumentAccepted,
    DocumentKind,
    DocumentList,
    DocumentView,
    IngestInput,
    MatchReport,
)
from schema.tables import Document, DocumentChunk
from web.accounts import Principal
from web.errors import ConflictException
from web.limits import DOCUMENT_UPLOAD, READS, limited
from workflows.ingest import DocumentIngestWorkflow, ingest_workflow_id

MAX_FILENAME_CHARS = 200
MAX_LISTED = 100
UPLOAD_BODY_BYTES = MAX_UPLOAD_BYTES + 256 * 1024  # the form's own framing and fields around the file


class UnprocessableDocument(ClientException):
    status_code = HTTP_422_UNPROCESSABLE_ENTITY


@dataclass
class DocumentUpload:
    """`kind` and either `file` (PDF, DOCX, text or Markdown) or `text` (a job description pasted as text)."""

    kind: str
    file: UploadFile | None = None
    text: str | None = None


class DocumentController(Controller):
    path = "/documents"
    tags = ["documents"]

    @post(
        "/",
        status_code=HTTP_202_ACCEPTED,
        operation_id="uploadDocument",
        request_max_body_size=UPLOAD_BODY_BYTES,
        guards=[limited(DOCUMENT_UPLOAD)],
    )
    async def upload(
        self,
        data: Annotated[DocumentUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        state: State,
        request: Request[Principal, None, Any],
    ) -> DocumentAccepted:
        """Upload a resume or a job description (multipart: `kind` = resume | jd, and `file`, or `text` for a
        pasted job description). It is read at once: a file that cannot be used is refused with 422 and the
        reason, and nothing of it is kept. Then its chunks are embedded: `GET /documents/{id}` shows when."""
        kind = _kind(data.kind)
        content, filename = await _content(data, kind)
        try:
            content_type = sniff(content)
        except UnusableDocument as unusable:
            raise UnprocessableDocument(str(unusable)) from None
        vault: Vault = state.vault
        document_id = str(uuid.uuid4())
        data_key, wrapped = vault.new_data_key(document_id)
        now = dt.datetime.now(dt.UTC)
        await Document.insert(
            Document(
                id=document_id,
                owner=request.user.id,
                kind=kind,
                status="extracting",
                filename_sealed=seal(data_key, filename.encode(), document_id, "filename") if filename else None,
                content_type=content_type,
                bytes=len(content),
                wrapped_key=encode_wrapped(wrapped),
                original_sealed=seal(data_key, content, document_id, "original"),
                created_at=now,
                updated_at=now,
            )
        )
        client: Client = state.temporal
        start = WithStartWorkflowOperation(
            DocumentIngestWorkflow.run,
            IngestInput(document_id=document_id),
            id=ingest_workflow_id(document_id),
            task_queue=state.settings.interview_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            priority=await priority_of(request.user.id),
        )
        try:
            extraction = await client.execute_update_with_start_workflow(
                DocumentIngestWorkflow.extraction, start_workflow_operation=start
            )
        except BaseException:
            await Document.delete().where(Document.id == document_id)  # nothing half-stored
            raise
        if not extraction.ok:  # the workflow has discarded it
            if extraction.temporary:
                raise ServiceUnavailableException(f"{extraction.reason}; try again shortly")
            raise UnprocessableDocument(f"This document cannot be used: {extraction.reason}.")
        return DocumentAccepted(document_id=document_id, status="indexing")

    @get("/", operation_id="listDocuments", guards=[limited(READS)])
    async def list_documents(
        self,
        state: State,
        request: Request[Principal, None, Any],
        kind: Annotated[
            DocumentKind | None, QueryParameter(description="only resumes or only job descriptions")
        ] = None,
    ) -> DocumentList:
        """Your documents, newest first, with their status (structure: GET /documents/{id})."""
        query = Document.select().where(Document.owner == request.user.id)
        if kind is not None:
            query = query.where(Document.kind == kind)
        rows = await query.order_by(Document.created_at, ascending=False).limit(MAX_LISTED)
        return DocumentList(items=[_view(row, state.vault, with_structure=False) for row in rows])

    @get("/{document_id:uuid}", operation_id="getDocument", guards=[limited(READS)])
    async def get_document(
        self, document_id: FromPath[uuid.UUID], state: State, request: Request[Principal, None, Any]
    ) -> DocumentView:
        """The document's status and, once read, its structure: sections, positions, skills, seniority."""
        return _view(await _owned(document_id, request.user), state.vault, with_structure=True)

    @get("/{document_id:uuid}/chunks/{n:int}", operation_id="getDocumentChunk", guards=[limited(READS)])
    async def chunk(
        self, document_id: FromPath[uuid.UUID], n: FromPath[int], state: State, request: Request[Principal, None, Any]
    ) -> ChunkView:
        """One chunk of your document, as retrieval sees it: the text and the question it answers. Questions
        planned from your documents cite chunks by this number."""
        document = await _owned(document_id, request.user)
        row = (
            await DocumentChunk.select(DocumentChunk.section, DocumentChunk.query_sealed, DocumentChunk.answer_sealed)
            .where((DocumentChunk.document == document_id) & (DocumentChunk.n == n))
            .first()
        )
        if row is None:
            raise NotFoundException(f"document {document_id} has no chunk {n}")
        vault: Vault = state.vault
        key = vault.unwrap(decode_wrapped(document["wrapped_key"]), str(document_id))
        return ChunkView(
            document_id=str(document_id),
            chunk=n,
            section=row["section"],
            question=open_sealed(key, row["query_sealed"], str(document_id), f"query:{n}").decode(),
            text=open_sealed(key, row["answer_sealed"], str(document_id), f"answer:{n}").decode(),
        )

    @get("/{resume_id:uuid}/match/{jd_id:uuid}", operation_id="matchResumeToJob", guards=[limited(READS)])
    async def match(
        self,
        resume_id: FromPath[uuid.UUID],
        jd_id: FromPath[uuid.UUID],
        state: State,
        request: Request[Principal, None, Any],
    ) -> MatchReport:
        """How the resume meets the job description: each requirement covered, partly covered or missing, with the
        resume chunk that shows it; required skills covered and missing; a score; what to practise first."""
        resume, jd = await _owned(resume_id, request.user), await _owned(jd_id, request.user)
        if resume["kind"] != "resume" or jd["kind"] != "jd":
            raise ClientException("match a resume (first) with a job description (second)")
        for row in (resume, jd):
            if row["status"] != "ready":
                raise ConflictException(f"document {row['id']} is still being read ({row['status']}); try shortly")
        vault: Vault = state.vault
        try:
            return await match_documents(vault, resume, jd, this_year=dt.datetime.now(dt.UTC).year)
        except IncomparableDocuments as incomparable:
            raise ConflictException(str(incomparable)) from None

    @delete(
        "/{document_id:uuid}", status_code=HTTP_204_NO_CONTENT, operation_id="deleteDocument", guards=[limited(READS)]
    )
    async def delete_document(self, document_id: FromPath[uuid.UUID], request: Request[Principal, None, Any]) -> None:
        """Delete the document with its text, chunks and vectors."""
        await _owned(document_id, request.user)
        await Document.delete().where(Document.id == document_id)


def _kind(kind: str) -> DocumentKind:
    if kind == "resume":
        return "resume"
    if kind == "jd":
        return "jd"
    raise ClientException("`kind` must be resume or jd")


async def _content(data: DocumentUpload, kind: DocumentKind) -> tuple[bytes, str | None]:
    if (data.file is None) == (data.text is None):
        raise ClientException("send either `file` (the document) or `text` (a pasted job description), not both")
    if data.text is not None:
        if kind != "jd":
            raise ClientException("only a job description may be pasted as text; upload a resume as a file")
        return data.text.encode(), None
    assert data.file is not None
    content = await data.file.read()
    return content, data.file.filename[:MAX_FILENAME_CHARS] if data.file.filename else None


async def _owned(document_id: uuid.UUID, principal: Principal) -> dict[str, Any]:
    row = await Document.select().where((Document.id == document_id) & (Document.owner == principal.id)).first()
    if row is None:
        raise NotFoundException("no such document")
    return row


def _view(row: dict[str, Any], vault: Vault, *, with_structure: bool) -> DocumentView:
    document_id = str(row["id"])
    key = vault.unwrap(decode_wrapped(row["wrapped_key"]), document_id)
    sealed_name, sealed_structure = row["filename_sealed"], row["structure_sealed"]
    filename = None if sealed_name is None else open_sealed(key, sealed_name, document_id, "filename").decode()
    structure = open_structure(key, sealed_structure, document_id) if with_structure and sealed_structure else None
    return DocumentView(
        document_id=document_id,
        kind=row["kind"],
        status=row["status"],
        filename=filename,
        content_type=row["content_type"],
        bytes=row["bytes"],
        pages=row["pages"],
        created_at=row["created_at"].isoformat(),
        structure=structure,
        chunks=row["chunks"],
        embedding_provider=row["embedding_provider"],
    )
