"""Idempotency-Key: a key runs its request once, however many copies arrive and whenever."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from httpx import AsyncClient as Client

from schema.tables import AppUser, Room, TranscriptTurn
from tests.conftest import sign_up


async def candidate_id(email: str) -> uuid.UUID:
    row = await AppUser.select(AppUser.id).where(AppUser.email == email).first()
    assert row is not None
    return row["id"]  # type: ignore[no-any-return]


async def test_twenty_identical_room_creations_make_one_room_and_nineteen_replays(api: Client) -> None:
    auth, email = await sign_up(api)
    headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
    body = {"role": "Backend Engineer", "difficulty": "hard"}
    responses = await asyncio.gather(*(api.post("/rooms", json=body, headers=headers) for _ in range(20)))
    assert Counter(r.status_code for r in responses) == {201: 20}
    assert len({r.json()["room_id"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 19
    assert await Room.count().where(Room.candidate == await candidate_id(email)) == 1
    # A day's worth of later retries still get the same answer.
    later = await api.post("/rooms", json=body, headers=headers)
    assert later.json()["room_id"] == responses[0].json()["room_id"]


async def test_twenty_identical_answers_are_one_turn(api: Client) -> None:
    auth, _ = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    headers = {**auth, "Idempotency-Key": "answer-1"}
    body = {"text": "I have five years of experience building payment systems."}
    responses = await asyncio.gather(
        *(api.post(f"/rooms/{room_id}/ai/message", json=body, headers=headers) for _ in range(20))
    )
    assert Counter(r.status_code for r in responses) == {202: 20}, [r.text for r in responses]
    assert len({r.json()["job_id"] for r in responses}) == 1
    job_id = responses[0].json()["job_id"]
    done = await api.get(f"/rooms/{room_id}/ai/message/{job_id}", params={"wait": 20}, headers=auth)
    assert done.json()["status"] == "completed"
    candidate_turns = await TranscriptTurn.count().where(
        (TranscriptTurn.room == room_id) & (TranscriptTurn.speaker == "candidate")
    )
    assert candidate_turns == 1


async def test_a_key_reused_with_another_body_is_refused(api: Client) -> None:
    auth, _ = await sign_up(api)
    headers = {**auth, "Idempotency-Key": "same-key"}
    first = await api.post("/rooms", json={"role": "Backend Engineer"}, headers=headers)
    assert first.status_code == 201
    other = await api.post("/rooms", json={"role": "Data Engineer"}, headers=headers)
    assert other.status_code == 422
    assert "different request body" in other.json()["detail"]


async def test_a_refused_request_frees_its_key_for_the_corrected_retry(api: Client) -> None:
    auth, _ = await sign_up(api)
    headers = {**auth, "Idempotency-Key": "fix-and-retry"}
    bad = await api.post("/rooms", json={"role": "Backend Engineer", "difficulty": "expert"}, headers=headers)
    assert bad.status_code == 400
    good = await api.post("/rooms", json={"role": "Backend Engineer", "difficulty": "easy"}, headers=headers)
    assert good.status_code == 201
    assert "idempotent-replayed" not in good.headers


async def test_keys_belong_to_their_caller(api: Client) -> None:
    alice, _ = await sign_up(api)
    bob, _ = await sign_up(api)
    key = {"Idempotency-Key": "shared-by-accident"}
    a = await api.post("/rooms", json={"role": "Backend Engineer"}, headers={**alice, **key})
    b = await api.post("/rooms", json={"role": "Backend Engineer"}, headers={**bob, **key})
    assert a.status_code == b.status_code == 201
    assert a.json()["room_id"] != b.json()["room_id"]
    assert "idempotent-replayed" not in b.headers


async def test_a_malformed_key_is_a_400(api: Client) -> None:
    auth, _ = await sign_up(api)
    response = await api.post(
        "/rooms", json={"role": "Backend Engineer"}, headers={**auth, "Idempotency-Key": "x" * 201}
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
