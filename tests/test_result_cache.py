"""Finished message jobs are kept in Redis for 24 hours under ai-result:{jobId}, and polls read them first."""

from __future__ import annotations

import msgspec
from httpx import AsyncClient as Client
from redis.asyncio import Redis

from stack.services import Endpoints
from tests.conftest import sign_up


async def test_a_finished_job_is_cached_for_a_day_and_served_from_the_cache(api: Client, endpoints: Endpoints) -> None:
    auth, _ = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    job_id = (await api.post(f"/rooms/{room_id}/ai/message", json={"text": "Hi, I'm Ada."}, headers=auth)).json()[
        "job_id"
    ]
    done = (await api.get(f"/rooms/{room_id}/ai/message/{job_id}", params={"wait": 20}, headers=auth)).json()
    assert done["status"] == "completed"

    redis = Redis.from_url(endpoints.redis_url)
    key = f"ai-result:{job_id}"
    ttl = await redis.ttl(key)
    assert 24 * 3600 - 60 < ttl <= 24 * 3600
    # Change what the cache holds: the next poll shows it, so it was read before Temporal.
    entry = msgspec.msgpack.decode(await redis.get(key))
    entry["view"]["result"]["text"] = "served from the cache"
    await redis.set(key, msgspec.msgpack.encode(entry), keepttl=True)
    again = (await api.get(f"/rooms/{room_id}/ai/message/{job_id}", headers=auth)).json()
    assert again["result"]["text"] == "served from the cache"

    # The same job id asked for under another room of the same user is not served from this room's entry.
    other = (await api.post("/rooms", json={"role": "Data Engineer"}, headers=auth)).json()["room_id"]
    elsewhere = await api.get(f"/rooms/{other}/ai/message/{job_id}", headers=auth)
    assert elsewhere.status_code == 404
    await redis.aclose()
