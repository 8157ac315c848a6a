"""Joining a room's call: a LiveKit token for that room only, short-lived, with grants by relation."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from httpx import AsyncClient as Client
from livekit import api as livekit_api
from livekit import rtc

from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import recruiter_room, sign_up


async def test_each_relation_gets_a_token_for_this_room_only_with_its_grants(api: Client, settings: Settings) -> None:
    room_id, candidate, recruiter, interviewer = await recruiter_room(api)
    seen = {}
    for name, headers in (("candidate", candidate), ("interviewer", interviewer), ("recruiter", recruiter)):
        response = await api.post(f"/rooms/{room_id}/join", headers=headers)
        assert response.status_code == 201, response.text
        grant = response.json()
        claims = jwt.decode(grant["token"], settings.livekit_api_secret, algorithms=["HS256"])
        me = (await api.get("/users/me", headers=headers)).json()
        assert claims["sub"] == me["id"] == grant["identity"]
        assert claims["video"]["room"] == room_id == grant["room"]
        assert claims["video"]["roomJoin"] is True
        assert claims["exp"] - claims["nbf"] <= 600
        assert dt.datetime.fromisoformat(grant["expires_at"]) <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
        seen[name] = (grant["role"], claims["video"].get("canPublish", True), claims["video"].get("hidden", False))
    assert seen == {
        "candidate": ("candidate", True, False),
        "interviewer": ("interviewer", True, False),
        "recruiter": ("observer", False, True),
    }


async def test_strangers_and_anonymous_callers_get_no_token(api: Client) -> None:
    room_id, _candidate, _recruiter, _interviewer = await recruiter_room(api)
    stranger, _ = await sign_up(api)
    assert (await api.post(f"/rooms/{room_id}/join", headers=stranger)).status_code == 404
    assert (await api.post(f"/rooms/{room_id}/join")).status_code == 401


async def test_the_token_really_joins_its_room_on_livekit_and_only_that_room(
    api: Client, settings: Settings, endpoints: Endpoints
) -> None:
    room_id, candidate, _recruiter, _interviewer = await recruiter_room(api)
    other_room, _, _, _ = await recruiter_room(api)
    grant = (await api.post(f"/rooms/{room_id}/join", headers=candidate)).json()
    room = rtc.Room()
    await room.connect(grant["url"], grant["token"])
    try:
        assert room.name == room_id
        assert room.local_participant.identity == grant["identity"]
        http_url = endpoints.livekit_url.replace("ws://", "http://")
        async with livekit_api.LiveKitAPI(http_url, settings.livekit_api_key, settings.livekit_api_secret) as lk:
            here = await lk.room.list_participants(livekit_api.ListParticipantsRequest(room=room_id))
            assert [p.identity for p in here.participants] == [grant["identity"]]
            there = await lk.room.list_participants(livekit_api.ListParticipantsRequest(room=other_room))
            assert there.participants == []
    finally:
        await room.disconnect()
    forged = livekit_api.AccessToken("devkey", "a-different-secret-of-at-least-32-chars").with_identity("x")
    forged_token = forged.with_grants(livekit_api.VideoGrants(room_join=True, room=room_id)).to_jwt()
    with pytest.raises(rtc.ConnectError):
        await rtc.Room().connect(grant["url"], forged_token)


async def test_an_ended_room_cannot_be_joined(api: Client) -> None:
    auth, _ = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    assert (await api.post(f"/rooms/{room_id}/end", headers=auth)).status_code == 202
    ended = await api.post(f"/rooms/{room_id}/join", headers=auth)
    assert ended.status_code == 409
    assert "ended" in ended.json()["detail"]
