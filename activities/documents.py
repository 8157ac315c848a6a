"""Text out of what candidates and recruiters upload: PDF (pypdf), DOCX (its XML, read with the zip's sizes
checked first), plain text and Markdown. Every refusal says why, in words a person can act on.

The content type is decided by the bytes, never by the file name or the declared type.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Literal
from xml.etree import ElementTree

from pypdf import PdfReader
from pypdf.errors import PdfReadError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PDF_PAGES = 30
MAX_TEXT_CHARS = 200_000  # about 60 pages of prose: no resume or job description is longer
MIN_TEXT_CHARS = 40  # less than this from a PDF: its pages are pictures of text
# A DOCX is a zip: its parts are inflated only once the zip's own directory says they are of a sane size.
MAX_DOCX_INFLATED_BYTES = 20 * 1024 * 1024
MAX_DOCX_RATIO = 100
DOCX_BODY = "word/document.xml"
_WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

ContentType = Literal[
    "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "text/plain"
]
PDF: ContentType = "application/pdf"
DOCX: ContentType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT: ContentType = "text/plain"


class UnusableDocument(ValueError):
    """The upload cannot be read as a document; the message says why (shown to the person as it is)."""


def sniff(data: bytes) -> ContentType:
    """What the bytes are: PDF, DOCX or UTF-8 text; anything else is refused."""
    if not data:
        raise UnusableDocument("the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UnusableDocument(f"the file is {len(data) // 1024} KiB; the limit is {MAX_UPLOAD_BYTES // 1024} KiB")
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return DOCX
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnusableDocument("the file is not a PDF, a DOCX or UTF-8 text (judged by its content)") from None
    if "\x00" in text:
        raise UnusableDocument("the file is binary, not text: upload a PDF, a DOCX or a text file")
    return TEXT


def extract_text(data: bytes) -> tuple[ContentType, str, int]:
    """The document's text, its content type and its page count (1 for DOCX and text). Blocking: run in a thread."""
    kind = sniff(data)
    if kind == PDF:
        text, pages = _pdf_text(data)
    elif kind == DOCX:
        text, pages = _docx_text(data), 1
    else:
        text, pages = data.decode("utf-8"), 1
    text = _tidy(text)
    if len(text) > MAX_TEXT_CHARS:
        raise UnusableDocument(f"the document holds {len(text)} characters of text; the limit is {MAX_TEXT_CHARS}")
    if not text:
        raise UnusableDocument("the document has no text")
    return kind, text, pages


def _pdf_text(data: bytes) -> tuple[str, int]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnusableDocument("the PDF is password-protected: save an unprotected copy and upload that")
        pages = len(reader.pages)
        if pages > MAX_PDF_PAGES:
            raise UnusableDocument(f"the PDF has {pages} pages; the limit is {MAX_PDF_PAGES}")
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except UnusableDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise UnusableDocument("the PDF is damaged and cannot be read") from exc
    if len(_tidy(text)) < MIN_TEXT_CHARS:
        raise UnusableDocument("the PDF has no text layer (scanned pages?): upload the original or a text version")
    return text, pages


def _docx_text(data: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise UnusableDocument("the DOCX is damaged and cannot be read") from exc
    inflated = sum(entry.file_size for entry in entries)
    packed = max(1, sum(entry.compress_size for entry in entries))
    if inflated > MAX_DOCX_INFLATED_BYTES or inflated / packed > MAX_DOCX_RATIO:
        raise UnusableDocument("the DOCX inflates to far more than a document holds (a zip bomb?); refused")
    if DOCX_BODY not in archive.namelist():
        raise UnusableDocument("the zip is not a Word document (no word/document.xml)")
    try:
        body = archive.read(DOCX_BODY)
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:  # entity expansion is the XML form of a bomb
            raise UnusableDocument("the DOCX declares XML entities; refused")
        root = ElementTree.fromstring(body)  # noqa: S314 - no DTD (refused above), and expat fetches nothing
    except UnusableDocument:
        raise
    except (zipfile.BadZipFile, ElementTree.ParseError, ValueError) as exc:
        raise UnusableDocument("the DOCX is damaged and cannot be read") from exc
    paragraphs = [
        "".join(node.text or "" for node in paragraph.iter(f"{_WORD}t")) for paragraph in root.iter(f"{_WORD}p")
    ]
    return "\n".join(paragraphs)


def _tidy(text: str) -> str:
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.replace("\r", "\n").split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
