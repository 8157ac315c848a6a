"""Who may do what to which room.

A caller's relation to a room (its candidate, its owning recruiter, an assigned interviewer, or an admin) grants
capabilities; every room route names the capability it needs. A caller with no relation gets the same 404 as
for a room that does not exist, so room ids cannot be probed.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from schema.tables import Room, RoomInterviewer
from web.accounts import Principal

Relation = Literal["candidate", "recruiter", "interviewer", "admin"]
Capability = Literal[
    "room:view",
    "room:join",
    "transcript:read",
    "ai:message",
    "code:submit",
    "room:end",
    "report:read",
    "interviewer:switch",
]

CAPABILITIES: dict[Relation, frozenset[Capability]] = {
    "candidate": frozenset(
        {"room:view", "room:join", "transcript:read", "ai:message", "code:submit", "room:end", "report:read"}
    ),
    "recruiter": frozenset(
        {"room:view", "room:join", "transcript:read", "room:end", "report:read", "interviewer:switch"}
    ),
    "interviewer": frozenset({"room:view", "room:join", "transcript:read", "report:read", "interviewer:switch"}),
    # Admins support every room, but the answers in it are the candidate's alone.
    "admin": frozenset({"room:view", "room:join", "transcript:read", "room:end", "report:read", "interviewer:switch"}),
}
DESCRIPTIONS: dict[Capability, str] = {
    "room:view": "see this room",
    "room:join": "join this room's call",
    "transcript:read": "read this room's transcript",
    "ai:message": "answer the AI interviewer (only the candidate may)",
    "code:submit": "submit code for review (only the candidate may)",
    "room:end": "end this interview",
    "report:read": "read this room's report",
    "interviewer:switch": "hand the interview between the AI and a person",
}

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


async def room_access(principal: Principal, room_id: uuid.UUID) -> tuple[dict[str, Any], Relation] | None:
    """The room's row and the caller's relation to it; None when the room is missing or not theirs."""
    room = await Room.select().where(Room.id == room_id).first()
    if room is None:
        return None
    relation = direct_relation(principal, room)
    if relation is not None:
        return room, relation
    assigned = await RoomInterviewer.exists().where(
        (RoomInterviewer.room == room_id) & (RoomInterviewer.interviewer == principal.id)
    )
    return (room, "interviewer") if assigned else None


def direct_relation(principal: Principal, room: dict[str, Any]) -> Relation | None:
    """The caller's part in a room that its row alone decides (an admin is that first, then its candidate, then
    its recruiter); None: only an assignment can make them its interviewer."""
    if principal.role == "admin":
        return "admin"
    if room["candidate"] == principal.id:
        return "candidate"
    if room["recruiter"] == principal.id:
        return "recruiter"
    return None


def capabilities_of(relation: Relation) -> list[Capability]:
    return sorted(CAPABILITIES[relation])


def requires(capability: Capability) -> Guard:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        room_id = connection.path_params["room_id"]
        access = await room_access(principal, room_id)
        if access is None:
            raise NotFoundException(f"no room {room_id}")
        room, relation = access
        if capability not in CAPABILITIES[relation]:
            raise PermissionDeniedException(f"as this room's {relation} you may not {DESCRIPTIONS[capability]}")
        # The handler uses the row read here rather than reading it again.
        connection.state.room = room
        connection.state.room_relation = relation

    return guard
