"""Documents the team wrote, made into real files: a resume and a job description as PDF (a text layer, as word
processors write them), DOCX and text. Used by the demo and the tests; no third-party writer needed."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

RESUME = """Ada Lovelace
ada@example.com

Summary
Backend engineer who likes queues, payments and careful tests.

Experience
Senior Backend Engineer at Acme Payments (2019 - present)
- Built the card settlement service in Python and Postgres, 40 million payments a month.
- Moved retries from cron jobs to Kafka consumers with idempotency keys; duplicate charges fell to zero.
Backend Engineer at Lumen Health (2016 - 2019)
- Wrote the appointment reminder pipeline on Redis queues and Celery.

Projects
Ledgerline: an open-source double-entry ledger in Go with a gRPC API.

Education
BSc Computer Science, University of London (2012 - 2016)

Skills
Python, Go, Postgres, Redis, Kafka, Docker, Kubernetes, AWS
"""

JOB_DESCRIPTION = """Senior Backend Engineer, Payments Platform

About the role
You will own the services that move money for our merchants.

Responsibilities
- Design and run high-volume payment APIs in Python.
- Keep our Postgres and Kafka pipelines correct under retries.

Requirements
- 5+ years building backend services.
- Python, Postgres, Kafka, distributed systems, system design.

Nice to have
- Go, Kubernetes, Terraform.
"""


def pdf(text: str, *, pages: int = 1) -> bytes:
    """A PDF whose every page shows `text` in Helvetica (one line of text per line)."""
    lines = text.split("\n")
    content = "BT /F1 10 Tf 12 TL 50 760 Td " + " ".join(f"({_pdf_string(line)}) Tj T*" for line in lines) + " ET"
    stream = content.encode("latin-1", "replace")
    page_ids = [5 + n for n in range(pages)]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % i for i in page_ids) + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        *(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents 4 0 R >>"
            for _ in page_ids
        ),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def docx(text: str) -> bytes:
    """A minimal Word document with one paragraph per line of `text`."""
    paragraphs = "".join(f"<w:p><w:r><w:t>{escape(line)}</w:t></w:r></w:p>" for line in text.split("\n"))
    body = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{paragraphs}</w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types '
            'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", body)
    return out.getvalue()


def _pdf_string(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
