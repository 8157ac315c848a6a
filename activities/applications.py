"""Side effects of the job-application tracker: store imported emails (sealed, once per Message-ID), analyse each,
and merge the analyses into applications and their timelines.

Every step is idempotent by message: a message is stored once per owner, an analysis is rewritten identically on a
retry, and a message's event is inserted once per application (unique), so a retried or doubled sync changes
nothing twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from piccolo.engine import engine_finder
from temporalio import activity

from activities.mail_classifier import EmailAnalysis
from activities.mail_fields import same_company
from activities.mail_llm import MODEL_FAILURES, EmailReader
from activities.mail_parse import ParsedEmail
from activities.todos import notify_status, todos_from_event
from activities.vault import Vault, decode_wrapped, encode_wrapped, open_sealed, seal
from schema.applications import ALWAYS_APPLIES, PROGRESS, MessageBatch, MessageRef, Pending, SyncInput
from schema.tables import Application, ApplicationEvent, MailMessage

SEALED_PURPOSE = "message"
# Timeline events not read from an email, by their provider: a status the user set (it overrides, even backwards)
# and the status an application was added by hand with (a starting point: emails still move it forward).
SET_BY_HAND, ADDED_BY_HAND = "manual", "manual:added"


async def store_messages(
    vault: Vault, owner: str, messages: list[ParsedEmail], source: str, external_ids: list[str | None] | None = None
) -> tuple[int, int]:
    """Keeps each message not already stored for `owner` (same Message-ID), sealed; `external_ids` are the
    mailbox's own ids (Gmail's, IMAP's UIDVALIDITY:UID), noted on the stored row even when it was stored before.
    Returns (stored, duplicates)."""
    stored = 0
    now = dt.datetime.now(dt.UTC)
    for message, external_id in zip(messages, external_ids or [None] * len(messages), strict=True):
        message_id = str(uuid.uuid4())
        data_key, wrapped = vault.new_data_key(message_id)
        sealed = seal(data_key, msgspec.json.encode(message), message_id, SEALED_PURPOSE)
        rows = await MailMessage.raw(
            "INSERT INTO mail_message "
            "(id, owner, message_id, source, sent_at, wrapped_key, sealed, created_at, external_id) "
            "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT (owner, message_id) DO UPDATE "
            "SET external_id = coalesce(mail_message.external_id, excluded.external_id) "
            "RETURNING id = {} AS inserted",
            uuid.UUID(message_id),
            uuid.UUID(owner),
            message.message_id,
            source,
            message.sent_at,
            encode_wrapped(wrapped),
            sealed,
            now,
            external_id,
            uuid.UUID(message_id),
        )
        stored += rows[0]["inserted"]
    return stored, len(messages) - stored


def status_after(events: list[tuple[dt.datetime, str, bool]]) -> str:
    """An application's status from its timeline of (when, status, set by hand): forward only (an older or lesser
    email never moves it back), except what an email says otherwise (an offer, a rejection, a withdrawal) and what
    the user set by hand."""
    status: str | None = None
    for _, step, by_hand in sorted(events):
        if status is None or by_hand or step in ALWAYS_APPLIES or PROGRESS[step] >= PROGRESS[status]:
            status = step
    return status or "applied"


class MailActivities:
    def __init__(self, vault: Vault, reader: EmailReader) -> None:
        self._vault = vault
        self._reader = reader

    @activity.defn
    async def pending_messages(self, request: SyncInput) -> Pending:
        rows = (
            await MailMessage.select(MailMessage.id, MailMessage.analysed_at)
            .where((MailMessage.owner == uuid.UUID(request.owner)) & MailMessage.applied_at.is_null())
            .order_by(MailMessage.sent_at, MailMessage.created_at)
        )
        return Pending(
            to_analyse=[str(row["id"]) for row in rows if row["analysed_at"] is None],
            to_apply=[str(row["id"]) for row in rows],
        )

    @activity.defn
    async def analyse_messages(self, request: MessageBatch) -> int:
        """Analyses a batch of messages one after another, each written as soon as it is read, so a retry goes on
        where the last attempt stopped; returns how many are about an application. A batch per activity keeps a
        sync of thousands of messages fast and its history short (see workflows/email_sync.py).

        A message the model fails on does not stop the others: the attempt fails at the end and the next one asks
        again for those left, so each message has the model's every attempt to itself, as it had alone."""
        about, failed = 0, []
        for done, message in enumerate(request.messages):
            try:
                about += await self._analyse(message, skip_analysed=True)
            except MODEL_FAILURES as error:
                failed.append(error)
            activity.heartbeat(done + 1)
        if failed:
            raise failed[0]
        return about

    @activity.defn
    async def analyse_message(self, request: MessageRef) -> bool:
        """One message, rewritten if analysed before: what syncs recorded before batches still schedule."""
        return await self._analyse(request.message, skip_analysed=False)

    async def _analyse(self, message_id: str, *, skip_analysed: bool) -> bool:
        """Reads the sealed message and writes its analysis; returns whether it is about an application."""
        found = MailMessage.select(MailMessage.wrapped_key, MailMessage.sealed, MailMessage.analysis).where(
            MailMessage.id == uuid.UUID(message_id)
        )
        row = await found.first()
        if row is None:  # deleted meanwhile
            return False
        if skip_analysed and row["analysis"] is not None:
            return msgspec.json.decode(jsonb_bytes(row["analysis"]), type=EmailAnalysis).about_application
        key = self._vault.unwrap(decode_wrapped(row["wrapped_key"]), message_id)
        message = msgspec.json.decode(open_sealed(key, row["sealed"], message_id, SEALED_PURPOSE), type=ParsedEmail)
        analysis = await self._reader.analyse(message, attempt=activity.info().attempt)
        await MailMessage.update(
            {
                MailMessage.analysis: msgspec.json.encode(analysis).decode(),
                MailMessage.analysed_at: dt.datetime.now(dt.UTC),
            }
        ).where(MailMessage.id == uuid.UUID(message_id))
        return analysis.about_application

    @activity.defn
    async def apply_analyses(self, request: SyncInput) -> int:
        """Merges every analysed, unmerged message of the owner into applications, oldest email first, in one
        transaction (one sync per owner runs at a time). Returns how many applications were created or moved."""
        owner = uuid.UUID(request.owner)
        changed: set[uuid.UUID] = set()
        # (application, status): the latest such email's next step and when it was sent
        latest: dict[tuple[uuid.UUID, str], tuple[str, dt.datetime]] = {}
        async with engine_finder().transaction():  # type: ignore[union-attr]
            rows = (
                await MailMessage.select(
                    MailMessage.id, MailMessage.analysis, MailMessage.sent_at, MailMessage.created_at
                )
                .where(
                    (MailMessage.owner == owner)
                    & MailMessage.applied_at.is_null()
                    & MailMessage.analysed_at.is_not_null()
                )
                .order_by(MailMessage.sent_at, MailMessage.created_at)
            )
            applications = await Application.select().where(Application.owner == owner)
            status_before = {application["id"]: application["status"] for application in applications}
            now = dt.datetime.now(dt.UTC)
            for row in rows:
                analysis = msgspec.json.decode(jsonb_bytes(row["analysis"]), type=EmailAnalysis)
                application_id = None
                if analysis.about_application and analysis.status and analysis.company:
                    application = _merge_target(applications, analysis)
                    if application is None:
                        application = await _create(owner, analysis, now)
                        applications.append(application)
                    await _improve_names(application, analysis)
                    application_id = application["id"]
                    sent = row["sent_at"] or row["created_at"]
                    inserted = await ApplicationEvent.raw(
                        "INSERT INTO application_event (id, application, message, status, occurred_at, summary, "
                        "deadline, interview_at, provider, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
                        "ON CONFLICT (application, message) DO NOTHING RETURNING id",
                        uuid.uuid4(),
                        application_id,
                        row["id"],
                        analysis.status,
                        sent,
                        analysis.next_step,
                        analysis.deadline,
                        analysis.interview_at,
                        analysis.provider,
                        now,
                    )
                    if inserted:
                        await todos_from_event(owner, application, inserted[0]["id"], analysis, sent=sent, now=now)
                    changed.add(application_id)
                    latest[(application_id, analysis.status)] = (analysis.next_step, sent)
                await MailMessage.update({MailMessage.applied_at: now, MailMessage.application: application_id}).where(
                    MailMessage.id == row["id"]
                )
            for application in applications:
                if application["id"] in changed:
                    status = await refresh_status(application["id"], now)
                    if status != status_before.get(application["id"]) and (application["id"], status) in latest:
                        next_step, sent = latest[(application["id"], status)]
                        await notify_status(owner, application, status, next_step=next_step, sent=sent, now=now)
        return len(changed)


async def refresh_status(application_id: uuid.UUID, now: dt.datetime) -> str:
    """Recomputes the application's status from its whole timeline (so the order emails arrive in does not
    matter)."""
    events = await ApplicationEvent.select(
        ApplicationEvent.occurred_at, ApplicationEvent.status, ApplicationEvent.provider
    ).where(ApplicationEvent.application == application_id)
    status = status_after(
        [(event["occurred_at"], event["status"], event["provider"] == SET_BY_HAND) for event in events]
    )
    await Application.update({Application.status: status, Application.updated_at: now}).where(
        Application.id == application_id
    )
    return status


def jsonb_bytes(value: Any) -> bytes:
    """A JSONB column's value as JSON bytes (asyncpg gives its text; a default may be a Python value)."""
    return value.encode() if isinstance(value, str) else msgspec.json.encode(value)


def _merge_target(applications: list[dict[str, Any]], analysis: EmailAnalysis) -> dict[str, Any] | None:
    """The application this email is about: same company (written either way) and same position; an email that
    names no position joins the company's most recently updated application."""
    assert analysis.company is not None
    at_company = [
        application
        for application in applications
        if not application["archived"] and same_company(application["company"], analysis.company)
    ]
    if analysis.position:
        wanted = analysis.position.casefold()
        for application in at_company:
            if (application["position"] or "").casefold() == wanted:
                return application
        untitled = [application for application in at_company if application["position"] is None]
        return untitled[0] if untitled else None
    return max(at_company, key=lambda application: application["updated_at"], default=None)


async def _create(owner: uuid.UUID, analysis: EmailAnalysis, now: dt.datetime) -> dict[str, Any]:
    row = {
        "id": uuid.uuid4(),
        "owner": owner,
        "company": analysis.company,
        "position": analysis.position,
        "status": analysis.status,
        "archived": False,
        "source": "email",
        "created_at": now,
        "updated_at": now,
    }
    await Application.insert(Application(**row))  # type: ignore[arg-type]
    return row


async def _improve_names(application: dict[str, Any], analysis: EmailAnalysis) -> None:
    """A name taken from a domain ("Tailspin") gives way to the full one ("Tailspin Toys"); a missing position is
    filled in when an email names it."""
    changes: dict[Any, Any] = {}
    if analysis.company and len(analysis.company) > len(application["company"]):
        changes[Application.company] = application["company"] = analysis.company
    if analysis.position and application["position"] is None:
        changes[Application.position] = application["position"] = analysis.position
    if changes:
        await Application.update(changes).where(Application.id == application["id"])
