"""Rate limits through the running API: exact under concurrency, 429 with Retry-After, Redis-down policy."""

from __future__ import annotations

import asyncio
from collections import Counter

from httpx import AsyncClient as Client

from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import PASSWORD, isolated_api, sign_up
from workflows.worker import WorkerGroup


async def own_room(api: Client) -> tuple[str, dict[str, str]]:
    auth, _ = await sign_up(api)
    created = await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)
    assert created.status_code == 201, created.text
    return created.json()["room_id"], auth


async def burst(api: Client, room_id: str, auth: dict[str, str], count: int) -> list[tuple[int, dict[str, str], str]]:
    async def one(i: int) -> tuple[int, dict[str, str], str]:
        response = await api.post(f"/rooms/{room_id}/ai/message", json={"text": f"answer {i}"}, headers=auth)
        return response.status_code, dict(response.headers), response.text

    return await asyncio.gather(*(one(i) for i in range(count)))


async def test_exactly_ten_ai_requests_a_minute_per_user_however_many_arrive_at_once(
    worker: WorkerGroup, settings: Settings, endpoints: Endpoints
) -> None:
    async with isolated_api(settings, endpoints) as isolated:
        room_id, auth = await own_room(isolated.client)
        results = await burst(isolated.client, room_id, auth, 25)
        statuses = Counter(status for status, _, _ in results)
        assert statuses[429] == 15, statuses
        assert sum(n for status, n in statuses.items() if status != 429) == 10
        refused = next((headers, text) for status, headers, text in results if status == 429)
        assert 1 <= int(refused[0]["retry-after"]) <= 60
        assert "your AI requests allow 10 per 60 s" in refused[1]
        # Reads have their own, larger budget: the candidate can still follow the room.
        assert (await isolated.client.get(f"/rooms/{room_id}/ai/messages", headers=auth)).status_code == 200


async def test_fifty_ai_requests_a_minute_per_network_address_across_users(
    worker: WorkerGroup, settings: Settings, endpoints: Endpoints
) -> None:
    async with isolated_api(settings, endpoints) as isolated:
        rooms = [await own_room(isolated.client) for _ in range(6)]
        results = await asyncio.gather(*(burst(isolated.client, room, auth, 10) for room, auth in rooms))
        flat = [r for per_user in results for r in per_user]
        refused = [text for status, _, text in flat if status == 429]
        assert len(flat) - len(refused) == 50
        assert len(refused) == 10
        assert all("from your network address allow 50 per 60 s" in text for text in refused)


async def test_sign_in_attempts_are_limited_per_account(
    worker: WorkerGroup, settings: Settings, endpoints: Endpoints
) -> None:
    async with isolated_api(settings, endpoints) as isolated:
        _auth, email = await sign_up(isolated.client)
        statuses = [
            (await isolated.client.post("/auth/login", json={"email": email, "password": "wrong password"})).status_code
            for _ in range(12)
        ]
        assert statuses == [401] * 10 + [429] * 2
        # Even the right password waits now: the guesser must not learn it was right.
        right = await isolated.client.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert right.status_code == 429


async def test_with_redis_gone_ai_requests_are_refused_and_reads_still_answer(
    worker: WorkerGroup, settings: Settings, endpoints: Endpoints
) -> None:
    async with isolated_api(settings, endpoints) as isolated:
        room_id, auth = await own_room(isolated.client)
        assert (await isolated.client.get(f"/rooms/{room_id}", headers=auth)).status_code == 200
        isolated.redis.stop()
        message = await isolated.client.post(f"/rooms/{room_id}/ai/message", json={"text": "hi"}, headers=auth)
        assert message.status_code == 503, message.text
        assert "rate limiter is unavailable" in message.json()["detail"]
        assert message.headers["Retry-After"] == "5"
        keyed = await isolated.client.post(
            "/rooms", json={"role": "Backend Engineer"}, headers={**auth, "Idempotency-Key": "k1"}
        )
        assert keyed.status_code == 503
        assert "Idempotency-Key" in keyed.json()["detail"]
        for path in (f"/rooms/{room_id}", f"/rooms/{room_id}/ai/messages", "/users/me"):
            assert (await isolated.client.get(path, headers=auth)).status_code == 200, path
        ready = await isolated.client.get("/ready")
        assert ready.status_code == 503
        assert {d["name"]: d["ok"] for d in ready.json()["dependencies"]}["redis"] is False
