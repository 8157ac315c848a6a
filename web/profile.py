"""The signed-in account: its profile and its latest interviews, both hot reads served through the two-level cache
(stack/cache.py) and invalidated by whatever changes them."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, get, patch
from litestar.datastructures import State
from litestar.params import JSONBody

from schema.accounts import InterviewSummary, RecentInterviews, UpdateProfile, UserView
from schema.cached_reads import PROFILE, RECENT_INTERVIEWS, profile_key, recent_interviews_key
from schema.tables import AppUser
from schema.tables import InterviewReport as ReportRow
from stack.cache import TwoLevelCache
from web.accounts import Principal
from web.auth import signed_in_account
from web.limits import READS, limited

RECENT_COUNT = 3


class _Scores(msgspec.Struct):
    overall: float
    answered: int


_scores = msgspec.json.Decoder(_Scores)


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @get("/me", operation_id="me", guards=[limited(READS)])
    async def me(self, state: State, request: Request[Principal, None, Any]) -> UserView:
        """The signed-in account."""
        return await _profile(state.cache, request.user)

    @patch("/me", operation_id="updateMe", guards=[limited(READS)])
    async def update_me(
        self, data: JSONBody[UpdateProfile], state: State, request: Request[Principal, None, Any]
    ) -> UserView:
        """Change the account's display name (rooms made before keep the name they were made with)."""
        await signed_in_account(request.user, AppUser.id)
        await AppUser.update({AppUser.display_name: data.display_name}).where(AppUser.id == request.user.id)
        await state.cache.invalidate(profile_key(request.user.id))
        return await _profile(state.cache, request.user)

    @get("/me/interviews", operation_id="myRecentInterviews", guards=[limited(READS)])
    async def recent_interviews(self, state: State, request: Request[Principal, None, Any]) -> RecentInterviews:
        """Your last three finished interviews as the candidate, newest first, with their overall scores."""
        cache: TwoLevelCache = state.cache
        user = request.user.id
        return await cache.get(
            RECENT_INTERVIEWS, recent_interviews_key(user), RecentInterviews, lambda: _recent_interviews(user)
        )


async def _profile(cache: TwoLevelCache, principal: Principal) -> UserView:
    return await cache.get(PROFILE, profile_key(principal.id), UserView, lambda: profile_from_database(principal))


async def profile_from_database(principal: Principal) -> UserView:
    """The profile as Postgres has it: what the cache holds (and `python -m bench cache` times)."""
    row = await signed_in_account(principal, AppUser.id, AppUser.email, AppUser.display_name, AppUser.role)
    return UserView(id=str(row["id"]), email=row["email"], display_name=row["display_name"], role=row["role"])


async def _recent_interviews(user: uuid.UUID) -> RecentInterviews:
    rows = (
        await ReportRow.select(
            ReportRow.room.id.as_alias("room_id"),
            ReportRow.room.role.as_alias("role"),
            ReportRow.room.created_at.as_alias("started_at"),
            ReportRow.room.ended_at.as_alias("ended_at"),
            ReportRow.body,
            ReportRow.provider,
        )
        .where(ReportRow.room.candidate == user)
        .order_by(ReportRow.room.created_at, ascending=False)
        .limit(RECENT_COUNT)
    )
    summaries = []
    for row in rows:
        scores = _scores.decode(row["body"])
        summaries.append(
            InterviewSummary(
                room_id=str(row["room_id"]),
                workflow_id=str(row["room_id"]),
                role=row["role"],
                started_at=row["started_at"],
                ended_at=row["ended_at"],
                overall=scores.overall,
                answered=scores.answered,
                scored_by=row["provider"],
            )
        )
    return RecentInterviews(interviews=summaries)
