"""The two-level cache (stack/cache.py): one read's latency from Postgres, Redis and the process's own LRU, then the
requests/s of two hot endpoints with the cache on and off, on the stack as `mocki up` runs it.

The load: wrk on core 1 against an API process pinned to core 0 (`taskset`), rotating over USERS accounts (and
their rooms) so no per-user read limit (600/min) is reached. The data services, worker and Temporal are not pinned:
without the cache, each room poll is a Temporal query that the interview worker answers.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from redis.asyncio import Redis

from bench.abuse import percentile
from bench.foundation import fresh_app
from bench.mail_sync import signed_up
from schema.accounts import UserView
from schema.cached_reads import PROFILE, CachedRead
from stack import database
from stack.cache import TwoLevelCache
from stack.cli import child_env
from stack.services import Endpoints
from stack.settings import Settings
from stack.supervisor import ProcessSpec, Supervisor, free_port
from web.accounts import Principal
from web.profile import profile_from_database

READS = 3_000
USERS = 300
LOAD_SECONDS, WARM_UP_SECONDS = 15, 3
CONNECTIONS = 32
SERVER_CORE, LOAD_CORE = "0", "1"

Row = tuple[str, str, str]


async def _timed(read: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """p50 and p99 in microseconds of READS reads, after 200 to warm up."""
    for _ in range(200):
        await read()
    samples = []
    for _ in range(READS):
        started = time.perf_counter()
        await read()
        samples.append((time.perf_counter() - started) * 1e6)
    return percentile(samples, 0.5), percentile(samples, 0.99)


async def _read_levels(endpoints: Endpoints, user_id: str) -> list[Row]:
    db = database.bind(endpoints.database_url)
    await db.start_connection_pool()
    redis = Redis.from_url(endpoints.redis_url)
    cache = TwoLevelCache(redis)

    principal = Principal(id=uuid.UUID(user_id), role="candidate")

    async def from_postgres() -> UserView:
        return await profile_from_database(principal)

    redis_only = CachedRead("bench", local_seconds=0.0, redis_seconds=300)  # the local copy expires at once
    key = f"bench-profile:{uuid.uuid4().hex}"
    levels = {
        "Postgres": from_postgres,
        "Redis": lambda: cache.get(redis_only, key, UserView, from_postgres),
        "local LRU": lambda: cache.get(PROFILE, key, UserView, from_postgres),
    }
    rows = []
    try:
        for level, read in levels.items():
            p50, p99 = await _timed(read)
            rows.append((f"profile read from {level}: p50 / p99", f"{p50:.1f} / {p99:.1f} µs", f"{READS} reads"))
    finally:
        await redis.aclose()
        await db.close_connection_pool()
    return rows


async def _accounts(api_url: str) -> tuple[list[tuple[str, str]], str]:
    """USERS accounts with a planned room each: (their Authorization header, their room), and one user's id."""
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        semaphore = asyncio.Semaphore(8)

        async def one(n: int) -> tuple[str, str]:
            async with semaphore:
                _, auth = await signed_up(http, f"cache{n}")
                created = await http.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)
                assert created.status_code == 201, created.text
                return auth["Authorization"], created.json()["room_id"]

        accounts = await asyncio.gather(*(one(n) for n in range(USERS)))
        me = (await http.get("/users/me", headers={"Authorization": accounts[0][0]})).json()
        for token, room in accounts:  # every room planned, so each poll reads a settled state
            for _ in range(200):
                if (await http.get(f"/rooms/{room}", headers={"Authorization": token})).json()["stage"] is not None:
                    break
                await asyncio.sleep(0.05)
    return list(accounts), me["id"]


@contextmanager
def _pinned_api(settings: Settings, endpoints: Endpoints, *, cache: bool) -> Iterator[str]:
    port = free_port()
    env = child_env(settings, endpoints, MOCKI_API_PORT=str(port), MOCKI_CACHE="on" if cache else "off")
    supervisor = Supervisor(settings.data_dir / "logs" / f"bench-cache-{'on' if cache else 'off'}")
    argv = ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "stack.cli", "api"]
    supervisor.start(ProcessSpec("api", argv, port, env=env))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        supervisor.stop()


def _wrk(url: str, targets: list[tuple[str, str]], folder: Path, seconds: int) -> tuple[float, str, str, int]:
    """wrk's requests/s, p50, p99 and count of non-2xx answers, rotating over (path, Authorization) targets."""
    script = folder / "targets.lua"
    entries = ",\n".join(f'{{"{path}", "{token}"}}' for path, token in targets)
    script.write_text(
        f"local targets = {{\n{entries}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i % #targets + 1\n"
        '  return wrk.format("GET", targets[i][1], {["Authorization"] = targets[i][2]})\nend\n'
    )
    command = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    out = subprocess.run([*command, "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"\s50%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rate, p50, p99, int(failed.group(1)) if failed else 0


def _throughput(settings: Settings, endpoints: Endpoints, accounts: list[tuple[str, str]]) -> list[Row]:
    rows = []
    endpoints_under_load = {
        "GET /users/me": [("/users/me", token) for token, _ in accounts],
        "GET /rooms/{id}": [(f"/rooms/{room}", token) for token, room in accounts],
    }
    with tempfile.TemporaryDirectory() as folder:
        for name, targets in endpoints_under_load.items():
            rates = {}
            for cache in (False, True):
                with _pinned_api(settings, endpoints, cache=cache) as url:
                    _wrk(url, targets, Path(folder), WARM_UP_SECONDS)  # connections, first reads, caches filled
                    rate, p50, p99, failed = _wrk(url, targets, Path(folder), LOAD_SECONDS)
                rates[cache] = rate
                label = "on" if cache else "off"
                rows.append(
                    (f"{name}, cache {label}: requests/s", f"{rate:.0f}", f"p50 {p50}, p99 {p99}, non-2xx {failed}")
                )
            rows.append((f"{name}: with the cache / without", f"{rates[True] / rates[False]:.1f}x", ""))
    return rows


def run() -> list[Row]:
    with fresh_app() as (settings, endpoints, api_url):
        print(f"signing up {USERS} accounts, each with a room...", flush=True)
        accounts, user_id = asyncio.run(_accounts(api_url))
        print("timing the read at each level...", flush=True)
        rows = asyncio.run(_read_levels(endpoints, user_id))
        print(f"loading the API ({LOAD_SECONDS} s per run, server on core {SERVER_CORE}, wrk on {LOAD_CORE})...")
        rows += _throughput(settings, endpoints, accounts)
    return rows
