"""LiveKit join tokens: one room, one identity, a short join window, grants by the caller's relation."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from livekit import api as livekit

from web.guards import Relation

JOIN_WINDOW = dt.timedelta(minutes=10)


class JoinGrant(msgspec.Struct, kw_only=True):
    url: str  # the LiveKit server to connect to
    token: str
    room: str  # the LiveKit room: the interview room's id, fixed by the token
    identity: str  # the caller's user id
    role: str  # candidate | interviewer | observer
    can_publish: bool
    expires_at: str


def join_grant(
    *,
    url: str,
    api_key: str,
    api_secret: str,
    room_id: uuid.UUID,
    user_id: uuid.UUID,
    display_name: str,
    relation: Relation,
) -> JoinGrant:
    # Candidates and interviewers speak; recruiters and admins watch, unseen by the others.
    role = {"candidate": "candidate", "interviewer": "interviewer"}.get(relation, "observer")
    speaks = role != "observer"
    grants = livekit.VideoGrants(
        room_join=True,
        room=str(room_id),
        can_publish=speaks,
        can_publish_data=speaks,
        can_subscribe=True,
        hidden=not speaks,
    )
    token = (
        livekit.AccessToken(api_key, api_secret)
        .with_identity(str(user_id))
        .with_name(display_name)
        .with_ttl(JOIN_WINDOW)
        .with_attributes({"role": role})
        .with_grants(grants)
        .to_jwt()
    )
    expires = dt.datetime.now(dt.UTC) + JOIN_WINDOW
    return JoinGrant(
        url=url,
        token=token,
        room=str(room_id),
        identity=str(user_id),
        role=role,
        can_publish=speaks,
        expires_at=expires.isoformat(timespec="seconds"),
    )


async def dispatch_interviewer(*, livekit_url: str, api_key: str, api_secret: str, room_id: uuid.UUID) -> None:
    """Ask LiveKit to send the voice interviewer (agents/worker.py) into the room, unless it already has."""
    from agents.worker import AGENT_NAME

    http_url = livekit_url.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
    async with livekit.LiveKitAPI(http_url, api_key, api_secret) as lk:
        await lk.room.create_room(livekit.CreateRoomRequest(name=str(room_id)))  # returns the room if it exists
        dispatches = await lk.agent_dispatch.list_dispatch(room_name=str(room_id))
        if not any(d.agent_name == AGENT_NAME for d in dispatches):
            await lk.agent_dispatch.create_dispatch(
                livekit.CreateAgentDispatchRequest(agent_name=AGENT_NAME, room=str(room_id))
            )
