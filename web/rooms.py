"""Rooms and the AI interviewer's conversation: the REST front door of InterviewWorkflow."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

import aiohttp
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import (
    ClientException,
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, Parameter, QueryParameter
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_422_UNPROCESSABLE_ENTITY,
)
from livekit import api as livekit
from temporalio.client import (
    Client,
    WorkflowHandle,
)
from temporalio.service import RPCError

from activities.circuit import CircuitBreaker
from activities.priority import priority_of
from activities.question_bank import VISIBLE_QUESTION
from schema.cached_reads import ROOM_STATE, room_state_key
from schema.interview import (
    AskHint,
    Citation,
    CodeReview,
    CreateRoom,
    Hint,
    HintJobView,
    InterviewerReply,
    InterviewReport,
    InterviewStart,
    InterviewState,
    JobAccepted,
    JobView,
    ReviewJobView,
    RoomCreated,
    RoomList,
    RoomSummary,
    RoomView,
    SendMessage,
    SubmitCode,
    SwitchInterviewer,
    TranscriptEntry,
    TranscriptPage,
    VoiceTurnMetrics,
)
from schema.tables import AppUser, Document, Question, ReplyAudio, Room, RoomInterviewer, TranscriptTurn
from schema.tables import InterviewReport as ReportRow
from stack.cache import TwoLevelCache
from stack.services import Endpoints
from stack.settings import Settings
from web import jobs
from web.accounts import Principal, normalise_email
from web.auth import signed_in_account
from web.errors import RETRY_AFTER_SECONDS, ConflictException, room_gone
from web.guards import Relation, capabilities_of, direct_relation, requires
from web.idempotency import OPT as IDEMPOTENT
from web.limits import AI_MESSAGE, CODE_REVIEW, HINT, READS, limited
from web.media import JoinGrant, dispatch_interviewer, join_grant
from web.questions import reader
from web.replay import ReplayDetector
from workflows.interview import InterviewWorkflow

MAX_WAIT_SECONDS = 30
DEFAULT_PAGE, MAX_PAGE = 50, 200
MAX_SEQ = 2**31 - 1  # turn numbers are Postgres integers
SIGNAL_POLLS, SIGNAL_POLL_SECONDS = 40, 0.025


class RoomController(Controller):
    path = "/rooms"
    tags = ["rooms"]

    @post("/", status_code=HTTP_201_CREATED, operation_id="createRoom", opt=IDEMPOTENT)
    async def create_room(
        self, data: JSONBody[CreateRoom], state: State, request: Request[Principal, None, Any]
    ) -> RoomCreated:
        """Create an interview room and start its interview workflow (workflow id = room id).

        A candidate creates their own practice room. A recruiter (or admin) creates one for a candidate's
        account (`candidate_email`) and may assign recruiters as interviewers (`interviewer_emails`).
        """
        return await start_room(state, request.user, data)

    @get("/", guards=[limited(READS)], operation_id="listRooms")
    async def list_rooms(
        self,
        request: Request[Principal, None, Any],
        status: Annotated[
            Literal["active", "ended"] | None, QueryParameter(description="only active or only ended rooms")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    ) -> RoomList:
        """Your rooms, newest first: those you are the candidate of, created (recruiters) or interview in; an
        admin sees every room."""
        return await list_rooms_of(request.user, status, limit)

    @get("/{room_id:uuid}", guards=[requires("room:view"), limited(READS)], operation_id="getRoom")
    async def get_room(
        self, room_id: FromPath[uuid.UUID], state: State, request: Request[Principal, None, Any]
    ) -> RoomView:
        """The room, with the interview's stage and progress, and what you may do in it."""
        return await _room_view(state, request.state.room, request.state.room_relation)

    @post(
        "/{room_id:uuid}/ai/message",
        guards=[requires("ai:message"), limited(AI_MESSAGE)],
        status_code=HTTP_202_ACCEPTED,
        operation_id="sendAiMessage",
        opt=IDEMPOTENT,
    )
    async def send_message(
        self,
        room_id: FromPath[uuid.UUID],
        data: JSONBody[SendMessage],
        state: State,
        request: Request[Principal, None, Any],
    ) -> JobAccepted:
        """Give the candidate's answer to the AI interviewer. Poll the returned job for its reply.

        The same answer sent twice within about ten seconds is refused as a duplicate (409) unless the request
        carries an `Idempotency-Key`, which is how a client says what it means to repeat.
        """
        _require_active(request)
        _refuse_in_peer_room(request, "the AI does not interview in a peer room; ask for hints and reviews instead")
        await _refuse_while_provider_down(state.breaker)
        if "idempotency-key" not in request.headers:
            fingerprint = f"{request.user.id}\0{room_id}\0{data.text}".encode()
            replays: ReplayDetector = state.replays
            if await replays.seen_before(fingerprint):
                raise ConflictException(
                    "the same answer arrived moments ago, so this looks like a duplicate; to send it again on "
                    "purpose, add an Idempotency-Key header"
                )
        return await jobs.start(state.temporal, state.redis, room_id, InterviewWorkflow.candidate_message, data)

    @get(
        "/{room_id:uuid}/ai/message/{job_id:uuid}",
        guards=[requires("ai:message"), limited(READS)],
        operation_id="getAiMessage",
    )
    async def get_message(
        self,
        room_id: FromPath[uuid.UUID],
        job_id: FromPath[uuid.UUID],
        state: State,
        wait: Annotated[int, QueryParameter(ge=0, le=MAX_WAIT_SECONDS, description="seconds to long-poll")] = 0,
    ) -> Response[JobView]:
        """The state of a message job: running, completed with the interviewer's reply, or failed.

        Finished results are kept for 24 hours and served from the cache.
        """
        return await jobs.poll(
            state.temporal,
            state.redis,
            room_id,
            job_id,
            kind="message",
            wait=wait,
            breaker=state.breaker,
            result_type=InterviewerReply,
            view_type=JobView,
        )

    @post(
        "/{room_id:uuid}/ai/hint",
        guards=[requires("code:submit"), limited(HINT)],
        status_code=HTTP_202_ACCEPTED,
        operation_id="requestAiHint",
        opt=IDEMPOTENT,
    )
    async def request_hint(
        self,
        room_id: FromPath[uuid.UUID],
        data: JSONBody[AskHint],
        state: State,
        request: Request[Principal, None, Any],
    ) -> JobAccepted:
        """The next hint for the coding question: 1 a nudge, 2 the approach, 3 close to the solution."""
        _require_active(request)
        await _refuse_while_provider_down(state.breaker)
        return await jobs.start(state.temporal, state.redis, room_id, InterviewWorkflow.request_hint, data)

    @get(
        "/{room_id:uuid}/ai/hint/{job_id:uuid}",
        guards=[requires("code:submit"), limited(READS)],
        operation_id="getAiHint",
    )
    async def get_hint(
        self,
        room_id: FromPath[uuid.UUID],
        job_id: FromPath[uuid.UUID],
        state: State,
        wait: Annotated[int, QueryParameter(ge=0, le=MAX_WAIT_SECONDS, description="seconds to long-poll")] = 0,
    ) -> Response[HintJobView]:
        """A hint job: running, completed with the hint, or failed."""
        return await jobs.poll(
            state.temporal,
            state.redis,
            room_id,
            job_id,
            kind="hint",
            wait=wait,
            breaker=state.breaker,
            result_type=Hint,
            view_type=HintJobView,
        )

    @post(
        "/{room_id:uuid}/ai/review",
        guards=[requires("code:submit"), limited(CODE_REVIEW)],
        status_code=HTTP_202_ACCEPTED,
        operation_id="requestAiReview",
        opt=IDEMPOTENT,
    )
    async def request_review(
        self,
        room_id: FromPath[uuid.UUID],
        data: JSONBody[SubmitCode],
        state: State,
        request: Request[Principal, None, Any],
    ) -> JobAccepted:
        """Submit code for the current coding question: its tests really run, then a review with evidence."""
        _require_active(request)
        return await jobs.start(state.temporal, state.redis, room_id, InterviewWorkflow.submit_code, data)

    @get(
        "/{room_id:uuid}/ai/review/{job_id:uuid}",
        guards=[requires("code:submit"), limited(READS)],
        operation_id="getAiReview",
    )
    async def get_review(
        self,
        room_id: FromPath[uuid.UUID],
        job_id: FromPath[uuid.UUID],
        state: State,
        wait: Annotated[int, QueryParameter(ge=0, le=MAX_WAIT_SECONDS, description="seconds to long-poll")] = 0,
    ) -> Response[ReviewJobView]:
        """A review job: running, completed with the review (tests, findings, line suggestions, score), or failed."""
        return await jobs.poll(
            state.temporal,
            state.redis,
            room_id,
            job_id,
            kind="review",
            wait=wait,
            breaker=state.breaker,
            result_type=CodeReview,
            view_type=ReviewJobView,
        )

    @post(
        "/{room_id:uuid}/interviewer",
        guards=[requires("interviewer:switch")],
        status_code=HTTP_200_OK,
        operation_id="switchInterviewer",
    )
    async def switch_interviewer(
        self,
        room_id: FromPath[uuid.UUID],
        data: JSONBody[SwitchInterviewer],
        state: State,
        request: Request[Principal, None, Any],
    ) -> RoomView:
        """Hand the interview to a person (`human`: the AI keeps the transcript and stays silent) or back to the AI."""
        _require_active(request)
        _refuse_in_peer_room(request, "people always interview in a peer room; there is no AI interviewer to switch")
        try:
            await _handle(state.temporal, room_id).signal(InterviewWorkflow.switch_interviewer, data)
        except RPCError as exc:
            raise room_gone(exc) from exc
        await _signal_applied(state, room_id, lambda live: live.interviewer == data.mode)
        view = await _room_view(state, request.state.room, request.state.room_relation)
        # A query right after a signal may still see the mode before it: signals apply in order, so say the new one.
        return msgspec.structs.replace(view, interviewer=data.mode)

    @post("/{room_id:uuid}/join", guards=[requires("room:join"), limited(READS)], operation_id="joinRoom")
    async def join_room(
        self, room_id: FromPath[uuid.UUID], state: State, request: Request[Principal, None, Any]
    ) -> JoinGrant:
        """A LiveKit token for this room only, valid to join for 10 minutes, identity = your user id.

        Candidates and interviewers may speak; recruiters and admins join as hidden observers. A candidate joining
        an ai room brings the voice interviewer into it.
        """
        _require_active(request)
        me = await signed_in_account(request.user, AppUser.display_name)
        settings: Settings = state.settings
        endpoints: Endpoints = state.endpoints
        if request.state.room_relation == "candidate" and request.state.room["mode"] == "ai":
            # The AI interviewer joins the candidate's room (once; a rejoin finds it there).
            try:
                await dispatch_interviewer(
                    livekit_url=endpoints.livekit_url,
                    api_key=settings.livekit_api_key,
                    api_secret=settings.livekit_api_secret,
                    room_id=room_id,
                )
            except (aiohttp.ClientError, livekit.TwirpError) as exc:
                raise ServiceUnavailableException(
                    "the voice interviewer cannot be reached right now; try again shortly, or answer in text",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                ) from exc
        return join_grant(
            url=settings.livekit_public_url or endpoints.livekit_url,
            api_key=settings.livekit_api_key,
            api_secret=settings.livekit_api_secret,
            room_id=room_id,
            user_id=request.user.id,
            display_name=me["display_name"],
            relation=request.state.room_relation,
        )

    @get(
        "/{room_id:uuid}/ai/messages",
        guards=[requires("transcript:read"), limited(READS)],
        operation_id="listAiMessages",
    )
    async def list_messages(
        self,
        room_id: FromPath[uuid.UUID],
        cursor: Annotated[
            int, QueryParameter(ge=-1, le=MAX_SEQ, description="last seq already read; -1 for the start")
        ] = -1,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    ) -> TranscriptPage:
        """The room's transcript, oldest first. Turn numbers only grow, so a cursor never skips or repeats."""
        rows = (
            await TranscriptTurn.select(
                TranscriptTurn.seq,
                TranscriptTurn.speaker,
                TranscriptTurn.stage,
                TranscriptTurn.text,
                TranscriptTurn.question_id,
                TranscriptTurn.created_at,
                TranscriptTurn.voice,
                TranscriptTurn.grounded_in,
            )
            .where((TranscriptTurn.room == room_id) & (TranscriptTurn.seq > cursor))
            .order_by(TranscriptTurn.seq)
            .limit(limit + 1)
        )
        items = [
            TranscriptEntry(
                **{
                    **row,
                    "created_at": row["created_at"].isoformat(),
                    "voice": msgspec.json.decode(row["voice"], type=VoiceTurnMetrics) if row["voice"] else None,
                    "grounded_in": msgspec.json.decode(row["grounded_in"], type=Citation)
                    if row["grounded_in"]
                    else None,
                }
            )
            for row in rows[:limit]
        ]
        return TranscriptPage(items=items, next_cursor=items[-1].seq if len(rows) > limit else None)

    @get(
        "/{room_id:uuid}/ai/messages/{seq:int}/audio",
        guards=[requires("transcript:read"), limited(READS)],
        operation_id="getAiMessageAudio",
        responses={200: ResponseSpec(data_container=bytes, media_type="audio/wav", description="the spoken reply")},
    )
    async def get_message_audio(
        self, room_id: FromPath[uuid.UUID], seq: Annotated[int, Parameter(ge=0, le=MAX_SEQ)]
    ) -> Response[bytes]:
        """An interviewer reply spoken (WAV), for messages sent with `"speak": true`."""
        row = (
            await ReplyAudio.select(ReplyAudio.wav)
            .where((ReplyAudio.room == room_id) & (ReplyAudio.seq == seq))
            .first()
        )
        if row is None:
            raise NotFoundException(f'turn {seq} of this room has no audio (send messages with "speak": true)')
        return Response(content=bytes(row["wav"]), media_type="audio/wav")

    @post(
        "/{room_id:uuid}/end",
        guards=[requires("room:end")],
        status_code=HTTP_202_ACCEPTED,
        operation_id="endRoom",
        opt=IDEMPOTENT,
    )
    async def end_room(
        self, room_id: FromPath[uuid.UUID], state: State, request: Request[Principal, None, Any]
    ) -> RoomView:
        """End the interview; the report is written in the background (GET .../report)."""
        _require_active(request)
        try:
            await _handle(state.temporal, room_id).signal(InterviewWorkflow.end)
        except RPCError as exc:
            raise room_gone(exc) from exc
        # Ended from now on for every reader; the workflow writes the report and stamps it again.
        await Room.update({Room.status: "ended", Room.ended_at: dt.datetime.now(dt.UTC)}).where(Room.id == room_id)
        await _signal_applied(state, room_id, lambda live: live.ended)
        ended = {**request.state.room, "status": "ended"}
        return await _room_view(state, ended, request.state.room_relation)

    @get("/{room_id:uuid}/report", guards=[requires("report:read"), limited(READS)], operation_id="getReport")
    async def get_report(self, room_id: FromPath[uuid.UUID], request: Request[Principal, None, Any]) -> InterviewReport:
        """The interview report: scores per dimension with evidence, strengths, weaknesses, provider."""
        row = request.state.room
        report = await ReportRow.select(ReportRow.body).where(ReportRow.room == room_id).first()
        if report is None:
            if row["status"] == "active":
                raise ConflictException("the interview is still running; end the room first")
            raise NotFoundException("the report is being written; try again in a moment")
        return msgspec.json.decode(report["body"], type=InterviewReport)


async def _room_view(state: State, row: dict[str, Any], relation: Relation) -> RoomView:
    room_id = row["id"]
    live = await _query_state(state, room_id)
    return RoomView(
        room_id=str(room_id),
        workflow_id=str(room_id),
        role=str(row["role"]),
        candidate_name=str(row["candidate_name"]),
        mode=row["mode"],
        status=str(row["status"]),
        stage=live.stage if live else None,
        stage_seconds_left=_seconds_until(live.stage_deadline) if live and live.stage_deadline else None,
        difficulty=live.difficulty if live else row["difficulty"],
        questions_asked=live.questions_asked if live else 0,
        questions_planned=live.questions_planned if live else 0,
        interviewer=live.interviewer if live else "ai",
        your_relation=relation,
        your_capabilities=list(capabilities_of(relation)),
        resume_id=str(row["resume"]) if row["resume"] else None,
        jd_id=str(row["jd"]) if row["jd"] else None,
    )


async def _require_coding_question(principal: Principal, question_id: str) -> None:
    """An active coding question the room's creator may see in the bank (shared, their own, or any for an admin)."""
    found = await Question.raw(
        "SELECT 1 FROM question q WHERE q.id = {} AND q.stage = 'coding' AND q.retired_at IS NULL AND "  # noqa: S608
        + VISIBLE_QUESTION,
        question_id,
        *reader(principal),
    )
    if not found:
        raise ClientException(
            f"no coding question in the bank has the id {question_id!r}", status_code=HTTP_422_UNPROCESSABLE_ENTITY
        )


async def start_room(
    state: State, principal: Principal, data: CreateRoom, *, application: uuid.UUID | None = None
) -> RoomCreated:
    """Creates the room and starts its interview workflow (workflow id = room id); `application`: the job
    application it is a mock interview for (web/prep.py)."""
    candidate, interviewers = await _participants(principal, data)
    if data.coding_question_id:
        await _require_coding_question(principal, data.coding_question_id)
    await _require_documents(principal, data)
    room_id = str(uuid.uuid4())
    await Room.insert(
        Room(
            id=room_id,
            role=data.role,
            difficulty=data.difficulty,
            mode=data.mode,
            status="active",
            candidate_name=candidate["display_name"],
            candidate=candidate["id"],
            recruiter=None if principal.role == "candidate" else principal.id,
            created_at=dt.datetime.now(dt.UTC),
            resume=data.resume_id,
            jd=data.jd_id,
            application=application,
        )
    )
    if interviewers:
        await RoomInterviewer.insert(*(RoomInterviewer(room=room_id, interviewer=i) for i in interviewers))
    client: Client = state.temporal
    try:
        await client.start_workflow(
            InterviewWorkflow.run,
            InterviewStart(
                room_id=room_id,
                role=data.role,
                candidate_name=candidate["display_name"],
                difficulty=data.difficulty,
                model_retry_seconds=state.settings.model_retry_seconds,
                mode=data.mode,
                duration_minutes=data.duration_minutes,
                coding_question_id=data.coding_question_id,
                history_event_limit=state.settings.history_event_limit,
                resume_id=str(data.resume_id) if data.resume_id else None,
                jd_id=str(data.jd_id) if data.jd_id else None,
                documents_owner=str(principal.id) if data.resume_id or data.jd_id else None,
            ),
            priority=await priority_of(candidate["id"]),
            id=room_id,
            task_queue=state.settings.interview_task_queue,
        )
    except BaseException:
        await Room.delete().where(Room.id == room_id)  # no room without its workflow
        raise
    return RoomCreated(room_id=room_id, workflow_id=room_id)


async def _require_documents(principal: Principal, data: CreateRoom) -> None:
    """The resume and job description to plan from: the caller's own, of the right kind, and read."""
    for document_id, kind, field in ((data.resume_id, "resume", "resume_id"), (data.jd_id, "jd", "jd_id")):
        if document_id is None:
            continue
        row = (
            await Document.select(Document.kind, Document.status)
            .where((Document.id == document_id) & (Document.owner == principal.id))
            .first()
        )
        if row is None:
            raise NotFoundException(f"{field}: you have no document {document_id}")
        if row["kind"] != kind:
            raise ClientException(f"{field}: document {document_id} is a {row['kind']}, not a {kind}")
        if row["status"] != "ready":
            raise ConflictException(f"{field}: document {document_id} is still being read; try again once it is ready")
    if data.jd_id and not data.resume_id:
        raise ClientException("a job description plans the interview together with a resume: give resume_id too")


def _seconds_until(iso_time: str) -> int:
    return round((dt.datetime.fromisoformat(iso_time) - dt.datetime.now(dt.UTC)).total_seconds())


async def _participants(principal: Principal, data: CreateRoom) -> tuple[dict[str, Any], list[uuid.UUID]]:
    """The room's candidate account and assigned interviewers, checked against who is asking."""
    if principal.role == "candidate":
        if data.candidate_email or data.interviewer_emails:
            raise PermissionDeniedException(
                "candidates create their own practice rooms: leave out candidate_email and interviewer_emails"
            )
        return await signed_in_account(principal, AppUser.id, AppUser.display_name), []
    if not data.candidate_email:
        raise ClientException("name the candidate's account: candidate_email")
    candidate = (
        await AppUser.select(AppUser.id, AppUser.display_name)
        .where((AppUser.email == normalise_email(data.candidate_email)) & (AppUser.role == "candidate"))
        .first()
    )
    if candidate is None:
        raise ClientException(
            "no candidate account has that email; ask the candidate to sign up first",
            status_code=HTTP_422_UNPROCESSABLE_ENTITY,
        )
    emails = sorted({normalise_email(e) for e in data.interviewer_emails})
    interviewers = (
        await AppUser.select(AppUser.id, AppUser.email).where(
            AppUser.email.is_in(emails) & AppUser.role.is_in(["recruiter", "admin"])
        )
        if emails
        else []
    )
    missing = sorted(set(emails) - {row["email"] for row in interviewers})
    if missing:
        raise ClientException(
            f"these are not recruiter accounts, so they cannot interview: {', '.join(missing)}",
            status_code=HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return candidate, [row["id"] for row in interviewers]


def _handle(client: Client, room_id: uuid.UUID) -> WorkflowHandle[InterviewWorkflow, object]:
    return client.get_workflow_handle_for(InterviewWorkflow.run, str(room_id))


def _refuse_in_peer_room(request: Request[Principal, None, Any], reason: str) -> None:
    if request.state.room["mode"] == "peer":
        raise ConflictException(reason)


def _require_active(request: Request[Principal, None, Any]) -> None:
    """The room row the guard read: refuse actions in an ended interview."""
    if request.state.room["status"] != "active":
        raise ConflictException("this interview has ended")


async def _refuse_while_provider_down(breaker: CircuitBreaker | None) -> None:
    """New AI work is refused while the provider's circuit is open, instead of queueing behind a sick provider."""
    retry_after = await jobs.provider_paused_for(breaker)
    if retry_after is not None:
        raise ServiceUnavailableException(
            f"the AI provider is failing, so the AI interviewer has paused; try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


async def list_rooms_of(principal: Principal, status: str | None, limit: int) -> RoomList:
    query = Room.select(
        Room.id, Room.role, Room.candidate_name, Room.mode, Room.status, Room.created_at, Room.ended_at,
        Room.candidate, Room.recruiter,
    )  # fmt: skip
    if principal.role != "admin":
        assigned = await RoomInterviewer.select(RoomInterviewer.room).where(RoomInterviewer.interviewer == principal.id)
        mine = (Room.candidate == principal.id) | (Room.recruiter == principal.id)
        if assigned:
            mine = mine | Room.id.is_in([row["room"] for row in assigned])
        query = query.where(mine)
    if status is not None:
        query = query.where(Room.status == status)
    rows = await query.order_by(Room.created_at, ascending=False).limit(limit)
    # Every part in a room may read its report (web/guards.py), so the list shows each written report's score.
    ended = [row["id"] for row in rows if row["status"] != "active"]
    reports = (
        await ReportRow.raw(
            "SELECT room, (body->>'overall')::float AS overall, provider FROM interview_report WHERE room = ANY({})",
            ended,
        )
        if ended
        else []
    )
    scores = {row["room"]: (row["overall"], row["provider"]) for row in reports}
    return RoomList(items=[_summary(row, principal, scores.get(row["id"])) for row in rows])


def _summary(row: dict[str, Any], principal: Principal, score: tuple[float, str] | None) -> RoomSummary:
    # Listed rooms are ones the caller has a part in: any other part is an assignment.
    relation = direct_relation(principal, row) or "interviewer"
    return RoomSummary(
        room_id=str(row["id"]),
        workflow_id=str(row["id"]),
        role=row["role"],
        candidate_name=row["candidate_name"],
        mode=row["mode"],
        status=row["status"],
        created_at=row["created_at"].isoformat(),
        ended_at=row["ended_at"].isoformat() if row["ended_at"] else None,
        your_relation=relation,
        overall=round(score[0], 2) if score else None,
        scored_by=score[1] if score else None,
    )


def _planned(live: InterviewState) -> bool:
    """Until its plan is in, a room's state changes with nothing recorded (in a peer room) to invalidate it."""
    return live.stage is not None or live.ended


async def _signal_applied(state: State, room_id: uuid.UUID, applied: Callable[[InterviewState], bool]) -> None:
    """A query right after a signal may not see it yet, and a poller may have cached what it saw: wait (briefly)
    until the workflow shows the signal applied, then drop every cached copy of the room's state."""
    handle = _handle(state.temporal, room_id)
    for _ in range(SIGNAL_POLLS):
        try:
            if applied(await handle.query(InterviewWorkflow.state)):
                break
        except RPCError:
            break  # no worker answers now: the cached state still goes
        await asyncio.sleep(SIGNAL_POLL_SECONDS)
    cache: TwoLevelCache = state.cache
    await cache.invalidate(room_state_key(room_id))


async def _query_state(state: State, room_id: uuid.UUID) -> InterviewState | None:
    """The interview's live state, through the cache: rooms are polled, and each query is a worker's task."""
    cache: TwoLevelCache = state.cache

    async def query() -> InterviewState:
        return await _handle(state.temporal, room_id).query(InterviewWorkflow.state)

    try:
        return await cache.get(ROOM_STATE, room_state_key(room_id), InterviewState, query, keep=_planned)
    except RPCError:
        return None  # no worker to answer, or the workflow is gone: the room row still answers
