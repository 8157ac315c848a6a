"""Job postings: read from an imported JSON or CSV file, stored once per publisher and posting, and embedded (in
batches, by the one PostingIndexWorkflow) so recommendations can rank them.

A file is taken whole or not at all: one bad row and nothing is stored, and the error names every bad row (up to
a limit) so the user fixes the file once.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec
from piccolo.engine import engine_finder
from temporalio import activity
from temporalio.client import Client

from activities.embeddings import Embedder
from activities.ingest import vector_literal
from schema.postings import PostingBatch, PostingFields, PostingIndexInput
from schema.tables import JobPosting

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_POSTINGS = 5_000
MAX_DESCRIPTION_CHARS = 20_000
MAX_PROBLEMS_LISTED = 20
INDEX_BATCH = 64
POSTING_INDEX_WORKFLOW_ID = "posting-index"
FIELDS = ("id", "company", "title", "description", "location", "url", "posted_at", "closes_at")
REQUIRED = ("company", "title", "description")
_LIMITS = {"id": 200, "company": 200, "title": 200, "location": 200, "url": 2000, "description": MAX_DESCRIPTION_CHARS}


class PostingFileError(ValueError):
    """The file cannot be imported; `problems` says where and why."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def parse_postings(raw: bytes, filename: str | None) -> tuple[list[PostingFields], list[str]]:
    """The postings in a JSON file (a list of objects, or {"postings": [...]}) or a CSV file with a header row,
    and the fields the file had that a posting does not. Raises PostingFileError."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PostingFileError(f"The file is not UTF-8 text (byte {exc.start} cannot be read).") from exc
    if not text.strip():
        raise PostingFileError("The file is empty: upload a JSON or CSV file of postings.")
    name = (filename or "").lower()
    is_json = name.endswith(".json") or (not name.endswith(".csv") and text.lstrip()[:1] in "[{")
    records, where = (_json_records(text), "item") if is_json else (_csv_records(text), "row")
    if not records:
        raise PostingFileError("The file holds no postings.")
    if len(records) > MAX_POSTINGS:
        raise PostingFileError(f"The file holds {len(records)} postings; import at most {MAX_POSTINGS} at a time.")
    ignored = sorted({key for _, record in records for key in record} - set(FIELDS))
    postings: list[PostingFields] = []
    problems: list[str] = []
    first_seen: dict[str, int] = {}
    for number, record in records:
        try:
            posting = _checked(record)
        except ValueError as exc:
            problems.append(f"{where} {number}: {exc}")
            continue
        if (earlier := first_seen.setdefault(posting.source_ref, number)) != number:
            problems.append(f"{where} {number}: the same posting as {where} {earlier} (same id, or company/title/url)")
            continue
        postings.append(posting)
    if problems:
        listed = problems[:MAX_PROBLEMS_LISTED]
        more = f" (and {len(problems) - len(listed)} more)" if len(problems) > len(listed) else ""
        raise PostingFileError(
            f"{len(problems)} of the file's {len(records)} postings cannot be imported{more}; nothing was stored. "
            "Fix them and import the file again.",
            listed,
        )
    return postings, ignored


def _json_records(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PostingFileError(
            f"The file is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from exc
    if isinstance(document, dict) and isinstance(document.get("postings"), list):
        document = document["postings"]
    if not isinstance(document, list):
        raise PostingFileError('A JSON file of postings is a list of objects, or {"postings": [...]}.')
    records = []
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            raise PostingFileError(f"item {number} is not an object with company, title and description.")
        records.append((number, {str(key).strip().lower(): value for key, value in item.items()}))
    return records


def _csv_records(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower().replace(" ", "_") for column in next(reader)]
        missing = [column for column in REQUIRED if column not in header]
        if missing:
            raise PostingFileError(
                f"The CSV header has no {', '.join(missing)} column: the first row names the columns "
                f"({', '.join(FIELDS)})."
            )
        records = []
        # Row numbers as a spreadsheet shows them: the header is row 1.
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                raise PostingFileError(f"row {number} has {len(row)} cells but the header names {len(header)}.")
            records.append((number, dict(zip(header, row, strict=False))))
    except csv.Error as exc:
        raise PostingFileError(f"The file is not valid CSV: {exc}.") from exc
    return records


def _checked(record: dict[str, Any]) -> PostingFields:
    values: dict[str, str | None] = {}
    for field in FIELDS:
        value = record.get(field)
        if isinstance(value, int | float) and not isinstance(value, bool) and field == "id":
            value = str(value)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{field} must be text")
        value = " ".join(value.split()) if value and field != "description" else (value or "").strip()
        if len(value) > _LIMITS.get(field, 200):
            raise ValueError(f"{field} is longer than {_LIMITS.get(field, 200)} characters")
        values[field] = value or None
    for field in REQUIRED:
        if not values[field]:
            raise ValueError(f"{field} is missing")
    url = values["url"]
    if url and not url.lower().startswith(("https://", "http://")):
        raise ValueError(f"url {url[:80]!r} is not an http(s) link")
    company, title, description = str(values["company"]), str(values["title"]), str(values["description"])
    return PostingFields(
        source_ref=values["id"] or _digest("\n".join((company.casefold(), title.casefold(), url or ""))),
        company=company,
        title=title,
        description=description,
        location=values["location"],
        url=url,
        posted_at=_moment("posted_at", values["posted_at"]),
        closes_at=_moment("closes_at", values["closes_at"]),
    )


def _moment(field: str, value: str | None) -> dt.datetime | None:
    """An ISO date or date-time; without a time zone it is read as UTC."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field} {value[:40]!r} is not a date like 2026-12-31 or 2026-12-31T17:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _content_sha256(posting: PostingFields) -> str:
    return hashlib.sha256(msgspec.json.encode(posting)).hexdigest()


async def store_postings(publisher: uuid.UUID, shared: bool, postings: Iterable[PostingFields]) -> tuple[int, int, int]:
    """Adds new postings and updates changed ones (which are embedded again), in one transaction. Returns
    (added, updated, unchanged)."""
    added = updated = unchanged = 0
    now = dt.datetime.now(dt.UTC)
    async with engine_finder().transaction():  # type: ignore[union-attr]
        for posting in postings:
            rows = await JobPosting.raw(
                "INSERT INTO job_posting (id, publisher, shared, source_ref, company, title, location, url, "
                "description, posted_at, closes_at, content_sha256, created_at, updated_at) "
                "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
                "ON CONFLICT (publisher, source_ref) DO UPDATE SET shared = EXCLUDED.shared, "
                "company = EXCLUDED.company, title = EXCLUDED.title, location = EXCLUDED.location, url = EXCLUDED.url, "
                "description = EXCLUDED.description, posted_at = EXCLUDED.posted_at, closes_at = EXCLUDED.closes_at, "
                "content_sha256 = EXCLUDED.content_sha256, embedding = NULL, title_embedding = NULL, "
                "embedding_provider = NULL, updated_at = EXCLUDED.updated_at "
                "WHERE job_posting.content_sha256 <> EXCLUDED.content_sha256 OR job_posting.shared <> EXCLUDED.shared "
                "RETURNING (xmax = 0) AS inserted",
                uuid.uuid4(),
                publisher,
                shared,
                posting.source_ref,
                posting.company,
                posting.title,
                posting.location,
                posting.url,
                posting.description,
                posting.posted_at,
                posting.closes_at,
                _content_sha256(posting),
                now,
                now,
            )
            if not rows:
                unchanged += 1
            elif rows[0]["inserted"]:
                added += 1
            else:
                updated += 1
    return added, updated, unchanged


async def unindexed_count(provider: str, *, visible_to: uuid.UUID | None = None) -> int:
    """Postings not yet embedded by `provider`: everyone's, or those `visible_to` may see (shared, or theirs)."""
    rows = await JobPosting.raw(
        "SELECT count(*) AS n FROM job_posting WHERE (embedding IS NULL OR embedding_provider <> {}) "
        "AND (CAST({} AS uuid) IS NULL OR shared OR publisher = {})",
        provider,
        visible_to,
        visible_to,
    )
    return int(rows[0]["n"])


def embedded_text(title: str, description: str) -> str:
    # The model reads 256 tokens: the title and the start of the description say what the job is.
    return f"{title}\n{description}"


async def request_indexing(client: Client, task_queue: str) -> str:
    """Starts the PostingIndexWorkflow, or tells the running one that there is more to embed."""
    await client.start_workflow(
        "PostingIndexWorkflow",
        PostingIndexInput(),
        id=POSTING_INDEX_WORKFLOW_ID,
        task_queue=task_queue,
        start_signal="more",
    )
    return POSTING_INDEX_WORKFLOW_ID


class PostingActivities:
    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    @activity.defn
    async def index_postings(self, _: PostingIndexInput) -> PostingBatch:
        """Embeds the oldest postings not yet embedded by the current model, a batch at a time: title and
        description (compared with the resume), and the title alone (compared with the roles applied for)."""
        provider = self._embedder.provider
        rows = await JobPosting.raw(
            "SELECT id, title, description, content_sha256 FROM job_posting "
            "WHERE embedding IS NULL OR embedding_provider <> {} ORDER BY created_at, id LIMIT {}",
            provider,
            INDEX_BATCH,
        )
        if rows:
            texts = [embedded_text(row["title"], row["description"]) for row in rows]
            embeddings = await self._embedder.embed(texts + [row["title"] for row in rows])
            whole, titles = embeddings.vectors[: len(rows)], embeddings.vectors[len(rows) :]
            for row, vector, title_vector in zip(rows, whole, titles, strict=True):
                # A posting changed since it was read is left for the next batch, with its new text.
                await JobPosting.raw(
                    "UPDATE job_posting SET embedding = {}::vector, title_embedding = {}::vector, "
                    "embedding_provider = {} WHERE id = {} AND content_sha256 = {}",
                    vector_literal(vector),
                    vector_literal(title_vector),
                    embeddings.provider,
                    row["id"],
                    row["content_sha256"],
                )
        return PostingBatch(indexed=len(rows), remaining=await unindexed_count(provider))
