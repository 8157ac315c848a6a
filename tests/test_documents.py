"""Resumes and job descriptions through the real API, worker, Postgres + pgvector: upload, structure, chunks and
vectors, delete; every bad input refused with its reason and nothing kept; no resume plaintext in the database."""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile
from typing import Any

import httpx
from pypdf import PdfReader, PdfWriter

from schema.tables import Document, DocumentChunk
from stack.sample_documents import JOB_DESCRIPTION, RESUME, docx, pdf
from tests.conftest import sign_up
from tests.test_rooms_api import wait_for_opening

MARKER = "Quillfeatherbright"  # a word that appears in the test resume and nowhere else


async def upload(
    api: httpx.AsyncClient, auth: dict[str, str], content: bytes, name: str = "cv.pdf", kind: str = "resume"
) -> httpx.Response:
    return await api.post(
        "/documents", data={"kind": kind}, files={"file": (name, content, "application/pdf")}, headers=auth
    )


async def ready(api: httpx.AsyncClient, auth: dict[str, str], document_id: str) -> dict[str, Any]:
    for _ in range(150):
        view = await api.get(f"/documents/{document_id}", headers=auth)
        assert view.status_code == 200, view.text
        if view.json()["status"] == "ready":
            return view.json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.2)
    raise AssertionError(f"document {document_id} was not indexed: {view.json()}")


async def documents_stored() -> int:
    return await Document.count()


async def test_a_resume_pdf_is_read_structured_and_embedded_and_only_its_owner_sees_it(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    accepted = await upload(api, auth, pdf(RESUME), name="Ada_Lovelace_CV.pdf")
    assert accepted.status_code == 202, accepted.text
    document_id = accepted.json()["document_id"]
    view = await ready(api, auth, document_id)
    assert view["kind"] == "resume" and view["content_type"] == "application/pdf" and view["pages"] == 1
    assert view["filename"] == "Ada_Lovelace_CV.pdf"
    structure = view["structure"]
    assert [s["name"] for s in structure["sections"]] == [
        "header",
        "summary",
        "experience",
        "projects",
        "education",
        "skills",
    ]
    assert structure["positions"][0] == {
        "title": "Senior Backend Engineer",
        "company": "Acme Payments",
        "start": 2019,
        "end": None,
    }
    assert {"python", "postgres", "kafka", "redis"} <= set(structure["skills"]) and structure["seniority"] == "senior"
    assert view["chunks"] == 7 and view["embedding_provider"] == "local:all-MiniLM-L6-v2"
    rows = await DocumentChunk.raw(
        "SELECT section, vector_dims(query_embedding) AS q, vector_dims(answer_embedding) AS a, "
        "query_embedding <=> answer_embedding AS apart FROM document_chunk WHERE document = {} ORDER BY n",
        uuid.UUID(document_id),
    )
    assert [r["section"] for r in rows][2:4] == ["experience", "experience"]  # one chunk per position
    assert all(r["q"] == r["a"] == 384 for r in rows) and all(r["apart"] > 0 for r in rows)  # two vectors each

    listed = (await api.get("/documents", headers=auth)).json()["items"]
    assert [(d["document_id"], d["filename"], d["status"]) for d in listed] == [
        (document_id, "Ada_Lovelace_CV.pdf", view["status"])
    ]
    assert listed[0]["structure"] is None  # the list leaves the structure to GET /documents/{id}
    assert (await api.get("/documents", params={"kind": "jd"}, headers=auth)).json()["items"] == []
    assert (await api.get("/documents", params={"kind": "cv"}, headers=auth)).status_code == 400

    stranger, _ = await sign_up(api)
    assert (await api.get("/documents", headers=stranger)).json()["items"] == []
    for method in ("GET", "DELETE"):
        refused = await api.request(method, f"/documents/{document_id}", headers=stranger)
        assert refused.status_code == 404, refused.text  # the same answer as for no document at all
    assert (await api.get(f"/documents/{uuid.uuid4()}", headers=auth)).status_code == 404
    assert (await api.get(f"/documents/{document_id}")).status_code == 401

    assert (await api.delete(f"/documents/{document_id}", headers=auth)).status_code == 204
    assert (await api.get(f"/documents/{document_id}", headers=auth)).status_code == 404
    assert await DocumentChunk.count().where(DocumentChunk.document == uuid.UUID(document_id)) == 0


async def test_a_job_description_as_docx_or_pasted_text_is_read_as_one(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api, role="recruiter")
    as_docx = await upload(api, auth, docx(JOB_DESCRIPTION), name="role.docx", kind="jd")
    pasted = await api.post("/documents", files={"kind": (None, "jd"), "text": (None, JOB_DESCRIPTION)}, headers=auth)
    assert as_docx.status_code == pasted.status_code == 202, (as_docx.text, pasted.text)
    views = [await ready(api, auth, r.json()["document_id"]) for r in (as_docx, pasted)]
    assert views[0]["structure"] == views[1]["structure"]
    assert [s["name"] for s in views[0]["structure"]["sections"]][1:] == [
        "summary",
        "responsibilities",
        "requirements",
        "nice_to_have",
    ]
    assert views[1]["content_type"] == "text/plain" and views[1]["filename"] is None
    assert views[0]["structure"]["seniority"] == "senior"  # "5+ years", and the title says so


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(RESUME))))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(612, 792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b" " * (64 * 1024 * 1024))  # 64 MiB of nothing, ~64 KiB packed
    return out.getvalue()


def zipfile_with(name: str, body: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, body)
    return out.getvalue()


BAD_UPLOADS = [
    ("a password-protected PDF", encrypted_pdf(), "password-protected"),
    ("a truncated PDF", pdf(RESUME)[:300], "damaged"),
    ("an image-only PDF", blank_pdf(2), "no text layer"),
    ("a 31-page PDF", pdf("Page text that is long enough to count as a text layer.", pages=31), "31 pages"),
    ("a PNG named .pdf", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not a PDF, a DOCX or UTF-8 text"),
    ("a DOCX zip bomb", zip_bomb(), "zip bomb"),
    ("a zip that is not a DOCX", zipfile_with("notes.txt", b"hello"), "not a Word document"),
    ("an empty file", b"", "empty"),
    ("6 MiB of text", b"a" * (6 * 1024 * 1024), "limit"),
]


async def test_unusable_uploads_are_refused_with_their_reason_and_nothing_is_kept(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    before = await documents_stored()
    for what, content, reason in BAD_UPLOADS:
        refused = await upload(api, auth, content)
        assert refused.status_code in (413, 422), (what, refused.status_code, refused.text)
        if refused.status_code == 422:
            assert reason in refused.json()["detail"], (what, refused.json())
    assert await documents_stored() == before
    malformed = [
        ({"kind": "cv"}, {"file": ("cv.pdf", pdf(RESUME), "application/pdf")}, "resume or jd"),
        ({"kind": "resume"}, {"text": (None, RESUME)}, "only a job description"),
        ({"kind": "jd"}, {"other": (None, "x")}, "either `file`"),
    ]
    for fields, files, reason in malformed:
        response = await api.post("/documents", data=fields, files=files, headers=auth)
        assert response.status_code == 400 and reason in response.json()["detail"], response.text
    assert await documents_stored() == before


async def test_the_database_holds_no_resume_plaintext(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    resume = RESUME.replace("careful tests", f"careful tests at {MARKER}")
    accepted = await upload(api, auth, pdf(resume), name=f"{MARKER}.pdf")
    assert accepted.status_code == 202, accepted.text
    view = await ready(api, auth, accepted.json()["document_id"])
    assert MARKER in str(view["structure"])  # its owner reads it back
    # An interview planned from it quotes names from the resume, never its sentences.
    room = await api.post("/rooms", json={"role": "Backend Engineer", "resume_id": view["document_id"]}, headers=auth)
    assert room.status_code == 201, room.text
    opening = await wait_for_opening(api, room.json()["room_id"], auth)
    assert opening["grounded_in"] and "Acme Payments" in opening["text"]
    tables = await Document.raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    for table in (row["tablename"] for row in tables):
        # A row as text shows bytea as hex: look for the word both ways, in every column of every table.
        found = await Document.raw(
            f'SELECT count(*) AS n FROM "{table}" t WHERE t::text ILIKE {{}} OR t::text ILIKE {{}}',  # noqa: S608
            f"%{MARKER}%",
            f"%{MARKER.encode().hex()}%",
        )
        assert found[0]["n"] == 0, f"{table} holds resume plaintext"


async def test_uploads_have_a_budget_of_their_own(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api, role="recruiter")
    pasted = {"kind": (None, "jd"), "text": (None, JOB_DESCRIPTION)}
    for _ in range(20):
        assert (await api.post("/documents", files=pasted, headers=auth)).status_code == 202
    refused = await api.post("/documents", files=pasted, headers=auth)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0, refused.text
    assert "document uploads" in refused.json()["detail"], refused.json()
