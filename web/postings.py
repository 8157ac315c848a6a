"""Job postings and the recommendations ranked from them.

Anyone signed in may import postings (a JSON or CSV file). A recruiter's or admin's postings are shared: every
candidate may see them and have them recommended. A candidate's own import is theirs alone: anyone else gets the
same 404 as for a posting that does not exist. Only the publisher (or an admin) deletes a posting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import Body, FromPath, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT, HTTP_422_UNPROCESSABLE_ENTITY
from temporalio.client import Schedule, ScheduleUpdate
from temporalio.service import RPCError, RPCStatusCode

from activities.digest import DEFAULT_HOUR, DEFAULT_WEEKDAY, digest_schedule, digest_schedule_id, weekday_and_hour
from activities.postings import (
    MAX_FILE_BYTES,
    PostingFileError,
    parse_postings,
    request_indexing,
    store_postings,
    unindexed_count,
)
from activities.recommendations import NoProfile, recommend
from schema.postings import (
    DigestSchedule,
    DigestScheduleChange,
    PostingImport,
    PostingPage,
    PostingView,
    Recommendations,
    Weekday,
)
from schema.tables import JobPosting
from web.accounts import Principal
from web.errors import ConflictException
from web.limits import MAIL_IMPORT, READS, WRITES, limited

SHARING_ROLES = ("recruiter", "admin")


class UnprocessablePostings(ClientException):
    status_code = HTTP_422_UNPROCESSABLE_ENTITY


@dataclass
class PostingUpload:
    """`file`: a JSON list of postings or a CSV file with a header row."""

    file: UploadFile


class PostingController(Controller):
    path = "/postings"
    tags = ["recommendations"]

    @post(
        "/import",
        status_code=HTTP_202_ACCEPTED,
        operation_id="importPostings",
        request_max_body_size=MAX_FILE_BYTES + 64 * 1024,
        guards=[limited(MAIL_IMPORT)],
    )
    async def import_postings(
        self,
        data: Annotated[PostingUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        state: State,
        request: Request[Principal, None, Any],
    ) -> PostingImport:
        """Import job postings (multipart `file`, up to 5 MiB and 5,000 postings): a JSON list of objects (or
        `{"postings": [...]}`) or a CSV file whose header names the columns. Each posting has `company`, `title`
        and `description`, and may have `id` (your own key for it), `location`, `url`, `posted_at` and `closes_at`
        (ISO dates). Importing again updates what changed (by `id`, else by company, title and url) and adds
        nothing twice. One bad posting and nothing is stored: the answer lists each bad row and why. Postings are
        then embedded in the background (`unindexed` says how many are still waiting)."""
        raw = await data.file.read()
        if len(raw) > MAX_FILE_BYTES:
            raise ClientException(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB: split it.")
        try:
            postings, ignored = await asyncio.to_thread(parse_postings, raw, data.file.filename)
        except PostingFileError as exc:
            raise UnprocessablePostings(str(exc), extra={"problems": exc.problems} if exc.problems else None) from exc
        shared = request.user.role in SHARING_ROLES
        added, updated, unchanged = await store_postings(request.user.id, shared, postings)
        workflow_id = await request_indexing(state.temporal, state.settings.interview_task_queue)
        unindexed = await unindexed_count(state.embedder.provider)
        return PostingImport(
            added=added,
            updated=updated,
            unchanged=unchanged,
            shared=shared,
            ignored_fields=ignored,
            unindexed=unindexed,
            workflow_id=workflow_id,
        )

    @get("/", operation_id="listPostings", guards=[limited(READS)])
    async def list_postings(
        self,
        state: State,
        request: Request[Principal, None, Any],
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="at most this many")] = 50,
        offset: Annotated[int, QueryParameter(ge=0, description="skip this many")] = 0,
    ) -> PostingPage:
        """The postings you imported, newest first."""
        mine = JobPosting.publisher == request.user.id
        rows = (
            await JobPosting.select(*_VIEW_COLUMNS)
            .where(mine)
            .order_by(JobPosting.created_at, ascending=False)
            .order_by(JobPosting.id)
            .limit(limit)
            .offset(offset)
        )
        provider = state.embedder.provider
        return PostingPage(
            postings=[_view(row, request.user, provider) for row in rows], total=await JobPosting.count().where(mine)
        )

    @get("/{posting_id:uuid}", operation_id="getPosting", guards=[limited(READS)])
    async def get_posting(
        self, posting_id: FromPath[uuid.UUID], state: State, request: Request[Principal, None, Any]
    ) -> PostingView:
        """One posting: a shared one, or one you imported."""
        row = await JobPosting.select(*_VIEW_COLUMNS).where(JobPosting.id == posting_id).first()
        if row is None or not (row["shared"] or row["publisher"] == request.user.id):
            raise NotFoundException(f"no posting {posting_id}")
        return _view(row, request.user, state.embedder.provider)

    @delete(
        "/{posting_id:uuid}", status_code=HTTP_204_NO_CONTENT, operation_id="deletePosting", guards=[limited(WRITES)]
    )
    async def delete_posting(self, posting_id: FromPath[uuid.UUID], request: Request[Principal, None, Any]) -> None:
        """Delete a posting you imported (admins: any); it is recommended to no one from now on."""
        query = JobPosting.delete().where(JobPosting.id == posting_id)
        if request.user.role != "admin":
            query = query.where(JobPosting.publisher == request.user.id)
        deleted = await query.returning(JobPosting.id)
        if not deleted:
            raise NotFoundException(f"no posting {posting_id} of yours")


class RecommendationController(Controller):
    tags = ["recommendations"]

    @get("/recommendations", operation_id="recommendJobs", guards=[limited(READS)])
    async def recommendations(
        self,
        state: State,
        request: Request[Principal, None, Any],
        limit: Annotated[int, QueryParameter(ge=1, le=50, description="at most this many")] = 10,
    ) -> Recommendations:
        """Postings for you, best first: ranked by how close each is to your newest resume and to the roles you
        applied for, with why. Companies that turned you down in the last 180 days
        (`RECOMMENDATIONS_SKIP_REJECTED_DAYS`), roles you already applied for and closed postings are left out.
        409 when there is nothing to rank against yet (no resume, no application)."""
        try:
            return await recommend(
                request.user.id,
                state.embedder,
                state.vault,
                limit=limit,
                skip_rejected_days=state.settings.recommendations_skip_rejected_days,
                now=dt.datetime.now(dt.UTC),
            )
        except NoProfile as exc:
            raise ConflictException(str(exc)) from None

    @get("/digest", operation_id="getDigestSchedule", guards=[limited(READS)])
    async def digest(self, state: State, request: Request[Principal, None, Any]) -> DigestSchedule:
        """When your weekly digest email goes out (made with your first mail import: Mondays at 08:00 UTC unless
        you set otherwise): new postings for you, your applications' week and the todos due in the next one."""
        try:
            return await _digest_view(state, str(request.user.id))
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise NotFoundException("no weekly digest yet: import mail, or set one with PUT") from None
            raise

    @put("/digest", operation_id="setDigestSchedule", guards=[limited(WRITES)])
    async def set_digest(
        self, data: DigestScheduleChange, state: State, request: Request[Principal, None, Any]
    ) -> DigestSchedule:
        """Set the weekday and hour (UTC) of your weekly digest, or pause it; what you leave out stays as it was."""
        owner = str(request.user.id)
        task_queue = state.settings.interview_task_queue

        def changed(weekday: Weekday, hour: int, paused: bool) -> Schedule:
            return digest_schedule(
                owner,
                task_queue,
                data.weekday or weekday,
                hour if data.hour is None else data.hour,
                paused=paused if data.paused is None else data.paused,
            )

        handle = state.temporal.get_schedule_handle(digest_schedule_id(owner))
        try:
            await handle.update(
                lambda current: ScheduleUpdate(
                    schedule=changed(
                        *weekday_and_hour(current.description.schedule), current.description.schedule.state.paused
                    )
                )
            )
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            first = changed(DEFAULT_WEEKDAY, DEFAULT_HOUR, False)
            await state.temporal.create_schedule(digest_schedule_id(owner), first)
        return await _digest_view(state, owner)


async def _digest_view(state: State, owner: str) -> DigestSchedule:
    description = await state.temporal.get_schedule_handle(digest_schedule_id(owner)).describe()
    weekday, hour = weekday_and_hour(description.schedule)
    paused = description.schedule.state.paused
    upcoming = description.info.next_action_times
    return DigestSchedule(
        schedule_id=digest_schedule_id(owner),
        weekday=weekday,
        hour=hour,
        paused=paused,
        next_run_at=upcoming[0].isoformat() if upcoming and not paused else None,
    )


_VIEW_COLUMNS = (
    JobPosting.id,
    JobPosting.publisher,
    JobPosting.shared,
    JobPosting.company,
    JobPosting.title,
    JobPosting.location,
    JobPosting.url,
    JobPosting.description,
    JobPosting.posted_at,
    JobPosting.closes_at,
    JobPosting.embedding_provider,
    JobPosting.created_at,
    JobPosting.updated_at,
)


def _view(row: dict[str, Any], user: Principal, provider: str) -> PostingView:
    def moment(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return PostingView(
        posting_id=str(row["id"]),
        company=row["company"],
        title=row["title"],
        location=row["location"],
        url=row["url"],
        description=row["description"],
        posted_at=moment(row["posted_at"]),
        closes_at=moment(row["closes_at"]),
        shared=row["shared"],
        mine=row["publisher"] == user.id,
        indexed=row["embedding_provider"] == provider,
        created_at=row["created_at"].isoformat(),
        updated_at=row["updated_at"].isoformat(),
    )
