"""The job-application tracker: import mail (`.eml` / `.mbox`), run the email sync, and read and edit the
applications it builds. Only the owner sees or changes an application; anyone else gets the same 404 as for one
that does not exist."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post, put
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import Body, FromPath, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_422_UNPROCESSABLE_ENTITY
from temporalio.client import Client, ScheduleDescription, ScheduleUpdate, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities import sync_requests
from activities.applications import ADDED_BY_HAND, SET_BY_HAND, refresh_status, store_messages
from activities.digest import ensure_digest_schedule
from activities.mail_parse import parse_mailbox
from activities.sync_requests import email_sync_schedule_id, email_sync_workflow_id
from schema.applications import (
    ApplicationChange,
    ApplicationPage,
    ApplicationView,
    EventView,
    ImportReport,
    NewApplication,
    SyncSchedule,
    SyncScheduleChange,
    SyncStarted,
)
from schema.tables import Application, ApplicationEvent, MailMessage
from web.accounts import Principal
from web.limits import MAIL_IMPORT, READS, WRITES, limited

log = logging.getLogger(__name__)
MAX_MAILBOX_BYTES = 20 * 1024 * 1024
UPLOAD_BODY_BYTES = MAX_MAILBOX_BYTES + 256 * 1024


class UnprocessableMail(ClientException):
    status_code = HTTP_422_UNPROCESSABLE_ENTITY


@dataclass
class MailUpload:
    """`file`: one email (.eml) or a mailbox (.mbox)."""

    file: UploadFile


class ApplicationController(Controller):
    path = "/applications"
    tags = ["applications"]

    @post(
        "/import",
        status_code=HTTP_202_ACCEPTED,
        operation_id="importMail",
        request_max_body_size=UPLOAD_BODY_BYTES,
        guards=[limited(MAIL_IMPORT)],
    )
    async def import_mail(
        self,
        data: Annotated[MailUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        state: State,
        request: Request[Principal, None, Any],
    ) -> ImportReport:
        """Import job-application emails without connecting a mailbox: one `.eml` or a whole `.mbox` export
        (multipart `file`, up to 20 MiB). Each message is stored sealed, once (by Message-ID: importing the same
        file again adds nothing), and the email sync analyses them; a message that cannot be read is listed with
        the reason and the rest are still taken."""
        raw = await data.file.read()
        if not raw.strip():
            raise UnprocessableMail("The file is empty: upload an .eml email or an .mbox mailbox.")
        if len(raw) > MAX_MAILBOX_BYTES:
            raise ClientException(
                f"The file is larger than {MAX_MAILBOX_BYTES // (1024 * 1024)} MiB: split the mailbox."
            )
        parsed, unreadable = await asyncio.to_thread(parse_mailbox, raw)  # parsing blocks: not on the loop
        reasons = [f"message {u.position}: {u.reason}" for u in unreadable]
        if not parsed:
            raise UnprocessableMail(f"No email could be read from this file ({'; '.join(reasons[:3])}).")
        owner = str(request.user.id)
        imported, duplicates = await store_messages(state.vault, owner, parsed, "upload")
        workflow_id = await request_sync(state, owner)
        return ImportReport(
            imported=imported,
            duplicates=duplicates,
            unreadable=reasons,
            workflow_id=workflow_id,
        )

    @post("/sync", status_code=HTTP_202_ACCEPTED, operation_id="syncMail", guards=[limited(WRITES)])
    async def sync(self, state: State, request: Request[Principal, None, Any]) -> SyncStarted:
        """Analyse everything imported and not yet analysed (the sync also runs after every import). Returns the
        sync's workflow id and how many messages it still has to take in; `GET /applications/sync` shows progress."""
        owner = str(request.user.id)
        workflow_id = await request_sync(state, owner)
        return SyncStarted(workflow_id=workflow_id, pending=await _pending(request.user))

    @get("/sync", operation_id="getMailSync", guards=[limited(READS)])
    async def sync_state(self, state: State, request: Request[Principal, None, Any]) -> SyncStarted:
        """How many imported messages the email sync has still to analyse and merge (0: the applications are
        up to date), and whether it is still at work (then todos, reminders and emails follow)."""
        workflow_id = email_sync_workflow_id(str(request.user.id))
        return SyncStarted(
            workflow_id=workflow_id,
            pending=await _pending(request.user),
            running=await _running(state.temporal, workflow_id),
        )

    @get("/sync/schedule", operation_id="getMailSyncSchedule", guards=[limited(READS)])
    async def sync_schedule(self, state: State, request: Request[Principal, None, Any]) -> SyncSchedule:
        """How often your email sync runs by itself (made with your first import: every 15 minutes unless you set
        otherwise), whether it is paused, and when it runs next."""
        owner = str(request.user.id)
        try:
            description = await state.temporal.get_schedule_handle(email_sync_schedule_id(owner)).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise NotFoundException("no sync schedule yet: import mail, or set one with PUT") from None
            raise
        return _schedule_view(owner, description)

    @put("/sync/schedule", operation_id="setMailSyncSchedule", guards=[limited(WRITES)])
    async def set_sync_schedule(
        self, data: SyncScheduleChange, state: State, request: Request[Principal, None, Any]
    ) -> SyncSchedule:
        """Set how often your email sync runs by itself (5 minutes to a day), or pause it."""
        owner = str(request.user.id)
        schedule = sync_requests.sync_schedule(
            owner, state.settings.interview_task_queue, dt.timedelta(minutes=data.every_minutes), paused=data.paused
        )
        handle = state.temporal.get_schedule_handle(email_sync_schedule_id(owner))
        try:
            await handle.update(lambda _current: ScheduleUpdate(schedule=schedule))
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            await state.temporal.create_schedule(email_sync_schedule_id(owner), schedule)
        return _schedule_view(owner, await handle.describe())

    @get("/", operation_id="listApplications", guards=[limited(READS)])
    async def list_applications(
        self,
        request: Request[Principal, None, Any],
        archived: Annotated[bool, QueryParameter(description="include archived applications")] = False,
    ) -> ApplicationPage:
        """Your applications, most recently changed first."""
        query = Application.select().where(Application.owner == request.user.id)
        if not archived:
            query = query.where(Application.archived.eq(False))
        rows = await query.order_by(Application.updated_at, ascending=False)
        return ApplicationPage(items=[_view(row) for row in rows])

    @get("/{application_id:uuid}", operation_id="getApplication", guards=[limited(READS)])
    async def get_application(
        self, application_id: FromPath[uuid.UUID], request: Request[Principal, None, Any]
    ) -> ApplicationView:
        """One application with its timeline, oldest event first: each email's status, what to do next and by
        when, and which classifier read it."""
        return await _detail(application_id, request.user)

    @post("/", status_code=HTTP_201_CREATED, operation_id="createApplication", guards=[limited(WRITES)])
    async def create_application(self, data: NewApplication, request: Request[Principal, None, Any]) -> ApplicationView:
        """Track an application by hand (one the mail does not show). Emails about the same company and position
        join it."""
        now = dt.datetime.now(dt.UTC)
        application_id = uuid.uuid4()
        await Application.insert(
            Application(
                id=application_id,
                owner=request.user.id,
                company=data.company.strip(),
                position=data.position.strip() if data.position else None,
                status=data.status,
                source="manual",
                created_at=now,
                updated_at=now,
            )
        )
        # Where it started, not an override: emails about it still move it forward from here.
        await _manual_event(application_id, data.status, now, summary="Added by hand", provider=ADDED_BY_HAND)
        return await _detail(application_id, request.user)

    @patch("/{application_id:uuid}", operation_id="changeApplication", guards=[limited(WRITES)])
    async def change_application(
        self, application_id: FromPath[uuid.UUID], data: ApplicationChange, request: Request[Principal, None, Any]
    ) -> ApplicationView:
        """Correct the company or position, set the status (recorded on the timeline as a manual step), or
        archive / unarchive it."""
        await owned_application(application_id, request.user)
        now = dt.datetime.now(dt.UTC)
        changes: dict[Any, Any] = {Application.updated_at: now}
        if data.company is not None:
            changes[Application.company] = data.company.strip()
        if data.position is not None:
            changes[Application.position] = data.position.strip()
        if data.archived is not None:
            changes[Application.archived] = data.archived
        await Application.update(changes).where(Application.id == application_id)
        if data.status is not None:  # what the user says is the latest word, even backwards
            await _manual_event(application_id, data.status, now, summary="Set by hand", provider=SET_BY_HAND)
            await refresh_status(application_id, now)
        return await _detail(application_id, request.user)


async def request_sync(state: State, owner: str) -> str:
    """Starts the owner's email sync (or asks the running one to look again), and their sync schedule and weekly
    digest when they have none yet."""
    client: Client = state.temporal
    task_queue = state.settings.interview_task_queue
    workflow_id = await sync_requests.request_sync(client, task_queue, owner)
    every = dt.timedelta(minutes=state.settings.mail_sync_every_minutes)
    await sync_requests.ensure_schedule(client, task_queue, owner, every)
    await ensure_digest_schedule(client, task_queue, owner)
    return workflow_id


def _schedule_view(owner: str, description: ScheduleDescription) -> SyncSchedule:
    intervals = description.schedule.spec.intervals
    upcoming = description.info.next_action_times
    return SyncSchedule(
        schedule_id=email_sync_schedule_id(owner),
        every_minutes=int(intervals[0].every.total_seconds() // 60) if intervals else 0,
        paused=description.schedule.state.paused,
        next_run_at=upcoming[0].isoformat() if upcoming and not description.schedule.state.paused else None,
    )


async def _running(client: Client, workflow_id: str) -> bool | None:
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # never synced
            return False
        log.warning("could not ask Temporal about the email sync: %s", exc.message)
        return None
    return description.status == WorkflowExecutionStatus.RUNNING


async def _pending(principal: Principal) -> int:
    pending = await MailMessage.count().where((MailMessage.owner == principal.id) & MailMessage.applied_at.is_null())
    return int(pending)


async def _manual_event(
    application_id: uuid.UUID, status: str, now: dt.datetime, *, summary: str, provider: str
) -> None:
    await ApplicationEvent.insert(
        ApplicationEvent(
            id=uuid.uuid4(),
            application=application_id,
            status=status,
            occurred_at=now,
            summary=summary,
            provider=provider,
            created_at=now,
        )
    )


async def _detail(application_id: uuid.UUID, principal: Principal) -> ApplicationView:
    row = await owned_application(application_id, principal)
    events = (
        await ApplicationEvent.select()
        .where(ApplicationEvent.application == application_id)
        .order_by(ApplicationEvent.occurred_at)
    )
    return _view(row, [_event(event) for event in events])


async def owned_application(application_id: uuid.UUID, principal: Principal) -> dict[str, Any]:
    """The caller's application; anyone else's is the same 404 as one that does not exist."""
    row = (
        await Application.select()
        .where((Application.id == application_id) & (Application.owner == principal.id))
        .first()
    )
    if row is None:
        raise NotFoundException("no such application")
    return row


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _event(row: dict[str, Any]) -> EventView:
    return EventView(
        status=row["status"],
        occurred_at=row["occurred_at"].isoformat(),
        summary=row["summary"],
        deadline=_iso(row["deadline"]),
        interview_at=_iso(row["interview_at"]),
        provider=row["provider"],
        from_email=row["message"] is not None,
    )


def _view(row: dict[str, Any], events: list[EventView] | None = None) -> ApplicationView:
    return ApplicationView(
        application_id=str(row["id"]),
        company=row["company"],
        position=row["position"],
        status=row["status"],
        archived=row["archived"],
        source=row["source"],
        created_at=row["created_at"].isoformat(),
        updated_at=row["updated_at"].isoformat(),
        events=events,
    )
