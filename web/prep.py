"""Prep plans: an application invited to interview (by an email the sync read, or set by hand) gets a mock
interview for its role, planned from the user's resume and the job description naming the company, suggested
before the real interview (a `prep` todo, reminded like the others); the weaknesses its mock interviews show lead
the plan's focus. Only the application's owner sees the plan or practises from it."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.status_codes import HTTP_201_CREATED

from activities.todos import INTERVIEW_STATUSES, practise_by, when
from activities.vault import Vault, decode_wrapped, open_sealed
from schema.interview import CreateRoom, RoomCreated, WeaknessSummary
from schema.prep import PrepPlan, PrepRoom, StartPrepRoom
from schema.tables import ApplicationEvent, Document, InterviewReport, Room
from web.accounts import Principal
from web.applications import owned_application
from web.idempotency import OPT as IDEMPOTENT
from web.limits import READS, WRITES, limited
from web.rooms import start_room
from web.weaknesses import history_of, summarise

JD_CANDIDATES = 20  # newest job descriptions looked through for the company's name
FALLBACK_ROLE = "Software Engineer"  # when the application names no position


class PrepController(Controller):
    path = "/applications/{application_id:uuid}/prep"
    tags = ["applications"]

    @get("/", operation_id="getPrepPlan", guards=[limited(READS)])
    async def get_plan(
        self, application_id: FromPath[uuid.UUID], state: State, request: Request[Principal, None, Any]
    ) -> PrepPlan:
        """The prep plan of an application invited to interview: the mock interview to practise before the real
        one, the documents it is planned from, the mock interviews done so far with their scores, and what to
        focus on. 404 until the application has an interview invitation."""
        return await prep_plan(state.vault, application_id, request.user)

    @post(
        "/rooms",
        status_code=HTTP_201_CREATED,
        operation_id="startPrepRoom",
        guards=[limited(WRITES)],
        opt=IDEMPOTENT,
    )
    async def start_prep_room(
        self,
        application_id: FromPath[uuid.UUID],
        data: StartPrepRoom,
        state: State,
        request: Request[Principal, None, Any],
    ) -> RoomCreated:
        """Start the plan's mock interview: a practice room for the application's role, planned from the plan's
        resume and job description (or others of yours given here). Its report and weaknesses show on the plan."""
        if request.user.role != "candidate":
            raise PermissionDeniedException("mock interviews are practised from a candidate account")
        plan = await prep_plan(state.vault, application_id, request.user)
        resume = data.resume_id or (uuid.UUID(plan.resume_id) if plan.resume_id else None)
        jd = data.jd_id or (uuid.UUID(plan.jd_id) if plan.jd_id else None)
        room = CreateRoom(
            role=plan.role,
            difficulty=data.difficulty,
            duration_minutes=data.duration_minutes,
            resume_id=resume,
            jd_id=jd if resume else None,  # a job description plans only together with a resume
        )
        return await start_room(state, request.user, room, application=application_id)


async def prep_plan(vault: Vault, application_id: uuid.UUID, principal: Principal) -> PrepPlan:
    application = await owned_application(application_id, principal)
    invitations = (
        await ApplicationEvent.select(ApplicationEvent.interview_at)
        .where(
            (ApplicationEvent.application == application_id) & ApplicationEvent.status.is_in(list(INTERVIEW_STATUSES))
        )
        .order_by(ApplicationEvent.occurred_at)
    )
    if not invitations:
        raise NotFoundException("no prep plan yet: it comes with an interview invitation for this application")
    times = [event["interview_at"] for event in invitations if event["interview_at"] is not None]
    interview_at = times[-1] if times else None
    practise = practise_by(interview_at, dt.datetime.now(dt.UTC))
    rooms = await _rooms(application_id, principal.id)
    role = (application["position"] or FALLBACK_ROLE)[:80]
    focus = await _focus(principal.id, [uuid.UUID(room.room_id) for room in rooms])
    return PrepPlan(
        application_id=str(application_id),
        company=application["company"],
        position=application["position"],
        role=role,
        interview_at=interview_at.isoformat() if interview_at else None,
        practise_by=practise.isoformat() if practise else None,
        resume_id=await _latest_resume(principal.id),
        jd_id=await _jd_naming(vault, principal.id, application["company"]),
        rooms=rooms,
        focus=focus,
        next_step=_next_step(application_id, application["company"], role, rooms=rooms, focus=focus, practise=practise),
    )


async def _rooms(application_id: uuid.UUID, candidate: uuid.UUID) -> list[PrepRoom]:
    rows = (
        await Room.select(Room.id, Room.difficulty, Room.status, Room.created_at)
        .where((Room.application == application_id) & (Room.candidate == candidate))
        .order_by(Room.created_at)
    )
    reports = {
        row["room"]: row
        for row in await InterviewReport.select(InterviewReport.room, InterviewReport.body).where(
            InterviewReport.room.is_in([row["id"] for row in rows] or [uuid.uuid4()])
        )
    }
    plan_rooms = []
    for row in rows:
        report = reports.get(row["id"])
        body = msgspec.json.decode(report["body"]) if report else None
        plan_rooms.append(
            PrepRoom(
                room_id=str(row["id"]),
                workflow_id=str(row["id"]),
                difficulty=row["difficulty"],
                status=row["status"],
                created_at=row["created_at"].isoformat(),
                overall=body["overall"] if body else None,
                scored_by=body["provider"] if body else None,
            )
        )
    return plan_rooms


async def _focus(candidate: uuid.UUID, plan_rooms: list[uuid.UUID]) -> list[WeaknessSummary]:
    """Weaknesses seen in the plan's mock interviews first, then the candidate's others not already listed."""
    signals, interviews = await history_of(candidate)
    in_plan = summarise(
        [row for row in signals if row.room in plan_rooms], [room for room in interviews if room in plan_rooms]
    )
    listed = {weakness.category for weakness in in_plan}
    elsewhere = [weakness for weakness in summarise(signals, interviews) if weakness.category not in listed]
    return [*in_plan, *elsewhere]


async def _latest_resume(owner: uuid.UUID) -> str | None:
    row = (
        await Document.select(Document.id)
        .where((Document.owner == owner) & (Document.kind == "resume") & (Document.status == "ready"))
        .order_by(Document.created_at, ascending=False)
        .first()
    )
    return str(row["id"]) if row else None


async def _jd_naming(vault: Vault, owner: uuid.UUID, company: str) -> str | None:
    """The newest ready job description of the owner whose text names the company (as a whole word, any case)."""
    named = re.compile(rf"(?<!\w){re.escape(company)}(?!\w)", re.IGNORECASE)
    rows = (
        await Document.select(Document.id, Document.wrapped_key, Document.text_sealed)
        .where((Document.owner == owner) & (Document.kind == "jd") & (Document.status == "ready"))
        .order_by(Document.created_at, ascending=False)
        .limit(JD_CANDIDATES)
    )
    for row in rows:
        document_id = str(row["id"])
        key = vault.unwrap(decode_wrapped(row["wrapped_key"]), document_id)
        if named.search(open_sealed(key, row["text_sealed"], document_id, "text").decode()):
            return document_id
    return None


def _next_step(
    application_id: uuid.UUID,
    company: str,
    role: str,
    *,
    rooms: list[PrepRoom],
    focus: list[WeaknessSummary],
    practise: dt.datetime | None,
) -> str:
    by = f" by {when(practise)}" if practise else ""
    if not rooms:
        return f"Practise a mock {role} interview for {company}{by}: POST /applications/{application_id}/prep/rooms"
    if any(room.status == "active" for room in rooms):
        return "Finish the mock interview you started"
    if focus:
        return f"Practise again{by}, working on {focus[0].category.replace('_', ' ')}"
    return f"Practised: go over the report before your {company} interview"
