"""LiveKit join tokens: one room, one identity, a short join window, grants by the caller's relation."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import msgspec
from livekit import api as livekit

from agents import AGENT_NAME
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


# A dispatch younger than this whose agent has not joined yet is still on its way: do not send another.
AGENT_JOINING_SECONDS = 20


async def dispatch_interviewer(*, livekit_url: str, api_key: str, api_secret: str, room_id: uuid.UUID) -> None:
    """Make sure the voice interviewer (agents/worker.py) is in the room or on its way.

    A candidate who rejoins after the agent died (a crashed or restarted worker) gets a fresh one, which picks up the
    interview from its workflow; one who rejoins while the agent is there, or still joining, changes nothing.
    """
    http_url = livekit_url.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
    room = str(room_id)
    async with livekit.LiveKitAPI(http_url, api_key, api_secret) as lk:
        await lk.room.create_room(livekit.CreateRoomRequest(name=room))  # returns the room if it exists
        present = await lk.room.list_participants(livekit.ListParticipantsRequest(room=room))
        if any(p.kind == livekit.ParticipantInfo.Kind.AGENT for p in present.participants):
            return
        dispatches = [d for d in await lk.agent_dispatch.list_dispatch(room_name=room) if d.agent_name == AGENT_NAME]
        if any(time.time() - _seconds(d.state.created_at) < AGENT_JOINING_SECONDS for d in dispatches):
            return
        for stale in dispatches:  # their agent has gone
            await lk.agent_dispatch.delete_dispatch(stale.id, room)
        await lk.agent_dispatch.create_dispatch(livekit.CreateAgentDispatchRequest(agent_name=AGENT_NAME, room=room))


def _seconds(timestamp: int) -> float:
    """LiveKit's dispatch timestamps, in whichever unit the server used (s, ms or ns)."""
    if timestamp > 10**17:
        return timestamp / 1e9
    if timestamp > 10**11:
        return timestamp / 1e3
    return float(timestamp)
