"""The API's two-level cache of hot reads (profile, recent interviews, a room's live state), against the real
Redis and two real API processes: a write is seen at once everywhere, a burst of misses loads once, and reads
work on without Redis."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
from redis.asyncio import Redis

from schema.cached_reads import CachedRead
from stack.cache import TwoLevelCache
from stack.services import Endpoints
from stack.settings import Settings
from stack.supervisor import ProcessSpec, Supervisor, free_port
from tests.conftest import await_report, isolated_api, service_env, sign_up
from tests.slow_link import slow_link
from tests.test_metrics import sample
from tests.test_rooms_api import answer, wait_for_opening

INTRO = (
    "I'm a backend engineer with five years of Python and Postgres behind payment APIs; lately I led our move to "
    "event-driven billing, which cut reconciliation time in half."
)
LINK_DELAY = 0.05  # seconds each way between the far process and Redis
PROFILE_LOCAL_SECONDS = 5.0  # schema/cached_reads.PROFILE: without invalidation, a process keeps its copy this long


@asynccontextmanager
async def another_api(settings: Settings, endpoints: Endpoints) -> AsyncIterator[httpx.AsyncClient]:
    """A second `mocki api` process on the session's Redis, Postgres and Temporal, as behind a load balancer."""
    port = free_port()
    supervisor = Supervisor(settings.data_dir / f"logs-{uuid.uuid4().hex[:8]}")
    env = service_env(settings, endpoints, MOCKI_API_PORT=str(port))
    supervisor.start(ProcessSpec("api", [sys.executable, "-m", "stack.cli", "api"], port, env=env))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        supervisor.stop()


async def profile_loads(client: httpx.AsyncClient) -> float:
    """How many profile reads this API process has taken to Postgres so far."""
    return sample((await client.get("/metrics")).text, "mocki_cache_reads_total", cache="profile", level="loader") or 0


async def test_a_name_changed_through_one_api_process_is_read_back_from_every_other_at_once(
    api: httpx.AsyncClient, settings: Settings, endpoints: Endpoints
) -> None:
    auth, _ = await sign_up(api, name="Grace")
    async with another_api(settings, endpoints) as other:
        for client in (api, other, api, other):  # both processes now hold the profile, and so does Redis
            assert (await client.get("/users/me", headers=auth)).json()["display_name"] == "Grace"

        changed = await api.patch("/users/me", json={"display_name": "Grace Hopper"}, headers=auth)
        assert changed.status_code == 200, changed.text
        assert changed.json()["display_name"] == "Grace Hopper"
        assert (await api.get("/users/me", headers=auth)).json()["display_name"] == "Grace Hopper"
        # The other process drops its copy when the invalidation reaches it (milliseconds): well before its own
        # copy would have expired.
        started = asyncio.get_running_loop().time()
        while (await other.get("/users/me", headers=auth)).json()["display_name"] != "Grace Hopper":
            assert asyncio.get_running_loop().time() - started < PROFILE_LOCAL_SECONDS / 5, "stale profile served"
            await asyncio.sleep(0.05)

    refused = await api.patch("/users/me", json={"display_name": ""}, headers=auth)
    assert refused.status_code == 400 and "display_name" in refused.text
    assert (await api.patch("/users/me", json={"display_name": "X", "role": "admin"}, headers=auth)).status_code == 400
    me = (await api.get("/users/me", headers=auth)).json()
    assert (me["display_name"], me["role"]) == ("Grace Hopper", "candidate")


async def test_a_burst_of_reads_of_an_uncached_profile_reads_postgres_once_across_processes(
    api: httpx.AsyncClient, settings: Settings, endpoints: Endpoints
) -> None:
    auth, email = await sign_up(api)
    async with another_api(settings, endpoints) as other:
        before = await profile_loads(api) + await profile_loads(other)
        burst = [client.get("/users/me", headers=auth) for client in (api, other) for _ in range(25)]
        answers = await asyncio.gather(*burst)
        assert {response.json()["email"] for response in answers} == {email}
        assert await profile_loads(api) + await profile_loads(other) - before == 1


async def test_recent_interviews_show_the_last_three_finished_newest_first_as_soon_as_each_report_is_written(
    api: httpx.AsyncClient,
) -> None:
    auth, _ = await sign_up(api)
    assert (await api.get("/users/me/interviews", headers=auth)).json() == {"interviews": []}
    rooms = []
    for role in ("Backend Engineer", "Data Engineer", "Backend Engineer", "Frontend Engineer"):
        room = (await api.post("/rooms", json={"role": role}, headers=auth)).json()["room_id"]
        await wait_for_opening(api, room, auth)
        assert (await api.post(f"/rooms/{room}/end", headers=auth)).status_code == 202
        report = await await_report(api, room, auth)
        rooms.append((room, role))
        # The worker invalidates the cached list (read just before) right after it writes the report, so the list
        # shows it at once, give or take that one step (a CI run under load once read between the two). Without the
        # invalidation the stale list would stand for minutes, so a second's grace still catches a missed one.
        recent = await _recent_once_it_has(api, auth, room)
        assert recent[0]["room_id"] == room and recent[0]["overall"] == report["overall"]
        assert recent[0]["scored_by"] == report["provider"] and recent[0]["workflow_id"] == room

    recent = (await api.get("/users/me/interviews", headers=auth)).json()["interviews"]
    assert [(item["room_id"], item["role"]) for item in recent] == rooms[::-1][:3]
    other, _ = await sign_up(api)
    assert (await api.get("/users/me/interviews", headers=other)).json() == {"interviews": []}


async def _recent_once_it_has(api: httpx.AsyncClient, auth: dict[str, str], room: str) -> list[dict[str, Any]]:
    for _ in range(20):
        recent: list[dict[str, Any]] = (await api.get("/users/me/interviews", headers=auth)).json()["interviews"]
        if recent and recent[0]["room_id"] == room:
            break
        await asyncio.sleep(0.05)
    return recent


async def test_a_polled_room_shows_the_next_question_as_soon_as_the_answer_is_handled(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    room = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    opening = await wait_for_opening(api, room, auth)
    for _ in range(3):  # cached in this process and in Redis for a few seconds from here
        asked = (await api.get(f"/rooms/{room}", headers=auth)).json()["questions_asked"]
    reply = await answer(api, room, auth, INTRO)
    assert reply["question_id"] != opening["question_id"]  # the interview moved on to its next question
    assert (await api.get(f"/rooms/{room}", headers=auth)).json()["questions_asked"] == asked + 1


async def test_reads_and_writes_go_on_when_redis_is_gone(settings: Settings, endpoints: Endpoints) -> None:
    async with isolated_api(settings, endpoints) as app:
        auth, email = await sign_up(app.client, name="Ada")
        assert (await app.client.get("/users/me", headers=auth)).json()["display_name"] == "Ada"
        app.redis.stop()
        changed = await app.client.patch("/users/me", json={"display_name": "Ada L."}, headers=auth)
        assert changed.status_code == 200, changed.text
        me = await app.client.get("/users/me", headers=auth)
        assert me.status_code == 200 and me.json() == changed.json() and me.json()["email"] == email


async def test_a_load_overtaken_by_a_write_stores_nothing(endpoints: Endpoints) -> None:
    """A reader that loaded the old value before a write's invalidation must not put it back in any level."""
    read = CachedRead("test", local_seconds=60, redis_seconds=60)
    key = f"test:{uuid.uuid4().hex}"
    redis = Redis.from_url(endpoints.redis_url)
    cache = TwoLevelCache(redis)
    stored = ["old"]
    loading, invalidated = asyncio.Event(), asyncio.Event()

    async def slow_load() -> str:
        value = stored[0]
        loading.set()
        await invalidated.wait()  # the writer changes the value and invalidates while this load is in flight
        return value

    async def writer() -> None:
        await loading.wait()
        stored[0] = "new"
        await cache.invalidate(key)
        invalidated.set()

    async def load() -> str:
        return stored[0]

    try:
        overtaken, _ = await asyncio.gather(cache.get(read, key, str, slow_load), writer())
        assert overtaken == "old"  # that reader began before the write
        assert await cache.get(read, key, str, load) == "new"  # neither level kept the old value
        assert await redis.get(f"cache:{key}") is not None  # and this load was stored
    finally:
        await redis.aclose()


async def test_processes_missing_the_same_key_together_load_it_once(endpoints: Endpoints) -> None:
    """Two processes' caches (each with its own local level) on one Redis: while the first loads a key, the second
    waits for its value instead of loading too; if the first's load fails, the second loads it itself."""
    read = CachedRead("test", local_seconds=60, redis_seconds=60)
    redis = Redis.from_url(endpoints.redis_url)
    first, second = TwoLevelCache(redis), TwoLevelCache(redis)

    async def race(first_outcome: str | Exception) -> tuple[list[str], object, object]:
        key, loads, loading, release = f"test:{uuid.uuid4().hex}", [], asyncio.Event(), asyncio.Event()

        async def first_load() -> str:
            loads.append("first")
            loading.set()
            await release.wait()
            if isinstance(first_outcome, Exception):
                raise first_outcome
            return first_outcome

        async def second_load() -> str:
            loads.append("second")
            return "second's value"

        async def second_read() -> str:
            await loading.wait()  # the first holds the key's lock now
            reading = asyncio.ensure_future(second.get(read, key, str, second_load))
            await asyncio.sleep(0.3)
            release.set()
            return await reading

        first_value, second_value = await asyncio.gather(
            first.get(read, key, str, first_load), second_read(), return_exceptions=True
        )
        return loads, first_value, second_value

    try:
        assert await race("first's value") == (["first"], "first's value", "first's value")
        failure = ConnectionError("the database went away")
        assert await race(failure) == (["first", "second"], failure, "second's value")
    finally:
        await redis.aclose()


async def test_a_reader_cancelled_mid_load_leaves_the_readers_waiting_on_it_to_load(endpoints: Endpoints) -> None:
    """A request that goes away (its client hung up) while loading a key does not fail the requests waiting on it."""
    read = CachedRead("test", local_seconds=60, redis_seconds=60)
    key = f"test:{uuid.uuid4().hex}"
    redis = Redis.from_url(endpoints.redis_url)
    cache = TwoLevelCache(redis)
    loading = asyncio.Event()

    async def never_done() -> str:
        loading.set()
        await asyncio.Event().wait()
        return "unreachable"

    async def load() -> str:
        return "value"

    try:
        leaving = asyncio.ensure_future(cache.get(read, key, str, never_done))
        await loading.wait()
        waiting = asyncio.ensure_future(cache.get(read, key, str, load))
        await asyncio.sleep(0.05)  # the second reader now waits on the first's load
        leaving.cancel()
        assert await waiting == "value"
        assert leaving.cancelled()
    finally:
        await redis.aclose()


async def test_a_process_far_from_redis_reads_the_value_a_nearby_process_is_loading_instead_of_loading_it_too(
    endpoints: Endpoints,
) -> None:
    """The far process misses while the near one loads; by the time its next command reaches Redis the near one has
    stored the value and let go of the lock. It must still read that value, not take the free lock and load again
    (a burst across two API processes once loaded a profile twice this way)."""
    read = CachedRead("test", local_seconds=60, redis_seconds=60)
    key = f"test:{uuid.uuid4().hex}"
    redis_url = urlsplit(endpoints.redis_url)
    loads: list[str] = []
    loading = asyncio.Event()

    async def near_load() -> str:
        loads.append("near")
        loading.set()
        await asyncio.sleep(LINK_DELAY * 2)  # over by the time the far process's second command arrives
        return "value"

    async def far_load() -> str:
        loads.append("far")
        return "value"

    async def far_read() -> str:
        await loading.wait()
        return await far.get(read, key, str, far_load)

    near_redis = Redis.from_url(endpoints.redis_url)
    near = TwoLevelCache(near_redis)
    try:
        async with slow_link(redis_url.hostname or "127.0.0.1", redis_url.port or 6379, LINK_DELAY) as port:
            far_redis = Redis.from_url(f"redis://127.0.0.1:{port}/0")
            far = TwoLevelCache(far_redis)
            try:
                await far_redis.ping()  # connected before the race starts
                assert await asyncio.gather(near.get(read, key, str, near_load), far_read()) == ["value", "value"]
                assert loads == ["near"]
            finally:
                await far_redis.aclose()
    finally:
        await near_redis.aclose()
