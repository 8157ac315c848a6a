"""Structs of accounts and sign-in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schema.common import Body, Email

Role = Literal["candidate", "recruiter", "admin"]
SelfServiceRole = Literal["candidate", "recruiter"]  # admins are made with `mocki users create`

Password = Annotated[str, msgspec.Meta(min_length=10, max_length=256)]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
OpaqueToken = Annotated[str, msgspec.Meta(min_length=16, max_length=200)]


class Signup(Body):
    email: Email
    password: Password
    display_name: DisplayName
    role: SelfServiceRole = "candidate"


class Login(Body):
    email: Email
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class RefreshRequest(Body):
    refresh_token: OpaqueToken


class TokenResponse(msgspec.Struct, kw_only=True):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int  # seconds


class UserView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    email: str
    display_name: str
    role: Role


class UpdateProfile(Body):
    display_name: DisplayName


class InterviewSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One finished interview of the candidate's, for their dashboard."""

    room_id: str
    workflow_id: str  # = room id: the interview's workflow in the Temporal Web UI
    role: str
    started_at: datetime
    ended_at: datetime | None
    overall: float  # 0..5
    answered: int
    scored_by: str  # the provider that scored it; an offline score says so


class RecentInterviews(msgspec.Struct, frozen=True, kw_only=True):
    interviews: list[InterviewSummary]  # newest first
