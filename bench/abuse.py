"""Abuse protection, measured on the real API and Redis.

- Abuse simulation: 50 normal candidates and 10 abusive ones, each from its own loopback address (127.0.1.x, so
  per-address limits see 60 different clients), against POST /rooms/{id}/ai/message. Normal ones send 5 answers;
  abusive ones burst 60 at once. Counted: normal requests refused (goal 0) and abusive requests beyond their
  allowance that were refused (goal >= 98%).
- Limiter check latency: one RateLimiter.check (the whole Lua script, four windows) against local Redis.
- Replay filter false-positive rate: both windows filled to capacity, then fresh fingerprints checked.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
import uuid

import httpx
from redis.asyncio import Redis

from bench.foundation import fresh_app
from web.limits import AI_MESSAGE, RateLimiter
from web.replay import ReplayDetector

NORMAL_CLIENTS, NORMAL_REQUESTS = 50, 5
ABUSIVE_CLIENTS, ABUSIVE_REQUESTS = 10, 60
USER_ALLOWANCE = next(w.limit for w in AI_MESSAGE.windows if w.subject == "user")
LIMITER_SAMPLES = 5000
REPLAY_CAPACITY, REPLAY_PROBES = 100_000, 100_000
CONCURRENT_CHECKS = 50  # below the Redis client's connection pool size


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


async def _client(api_url: str, address: str) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=api_url, timeout=60, transport=httpx.AsyncHTTPTransport(local_address=address))
    email = f"abuse-{uuid.uuid4().hex[:10]}@bench.mocki.local"
    signup = await client.post(
        "/auth/signup", json={"email": email, "password": "bench passphrase", "display_name": "B"}
    )
    signup.raise_for_status()
    client.headers["Authorization"] = f"Bearer {signup.json()['access_token']}"
    room = await client.post("/rooms", json={"role": "Backend Engineer"})
    room.raise_for_status()
    return client, room.json()["room_id"]


async def _send(client: httpx.AsyncClient, room_id: str, count: int, *, spaced: float, resets: list[int]) -> list[int]:
    async def one(n: int) -> int:
        await asyncio.sleep(n * spaced)
        for attempt in range(3):
            try:
                response = await client.post(
                    f"/rooms/{room_id}/ai/message", json={"text": f"answer {n} {uuid.uuid4()}"}
                )
                return response.status_code
            except httpx.TransportError:
                # A reset connection is not an answer from the limiter: retry it, as a client would, and count it.
                resets.append(attempt)
        raise RuntimeError("a request failed three times at the transport level")

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def _simulate(api_url: str) -> tuple[str, str, str]:
    normal = [await _client(api_url, f"127.0.1.{i + 1}") for i in range(NORMAL_CLIENTS)]
    abusive = [await _client(api_url, f"127.0.1.{100 + i}") for i in range(ABUSIVE_CLIENTS)]
    resets: list[int] = []
    try:
        results = await asyncio.gather(
            *(_send(c, room, NORMAL_REQUESTS, spaced=0.5, resets=resets) for c, room in normal),
            *(_send(c, room, ABUSIVE_REQUESTS, spaced=0.0, resets=resets) for c, room in abusive),
        )
    finally:
        for client, _room in normal + abusive:
            await client.aclose()
    normal_refused = sum(status == 429 for statuses in results[:NORMAL_CLIENTS] for status in statuses)
    abusive_statuses = [status for statuses in results[NORMAL_CLIENTS:] for status in statuses]
    over_allowance = len(abusive_statuses) - ABUSIVE_CLIENTS * USER_ALLOWANCE
    abusive_refused = sum(status == 429 for status in abusive_statuses)
    blocked = abusive_refused / over_allowance
    return (
        "abuse burst: 10 abusive among 50 normal clients",
        f"{blocked:.1%} of abusive excess blocked, {normal_refused} normal refused",
        f"{abusive_refused}/{over_allowance} over-limit abusive requests got 429; "
        f"{NORMAL_CLIENTS * NORMAL_REQUESTS} normal requests; {len(resets)} connection resets retried",
    )


async def _limiter_latency(redis_url: str) -> tuple[str, str, str]:
    redis = Redis.from_url(redis_url)
    limiter = RateLimiter(redis, prefix=f"bench-{uuid.uuid4().hex[:6]}")
    samples = []
    for n in range(LIMITER_SAMPLES):
        subjects = {"user": f"u{n % 500}", "ip": f"10.0.{n % 50}.1", "global": "all", "room-user": f"r{n % 500}"}
        started = time.perf_counter()
        await limiter.check(AI_MESSAGE, subjects)
        samples.append((time.perf_counter() - started) * 1000)
    await redis.aclose()
    return (
        "limiter check (Lua, 4 windows), local Redis",
        f"p50 {statistics.median(samples):.2f} ms, p99 {percentile(samples, 0.99):.2f} ms",
        f"{LIMITER_SAMPLES} sequential checks, client round trip included",
    )


async def _checks(detector: ReplayDetector, label: str, count: int) -> list[bool]:
    seen: list[bool] = []
    for start in range(0, count, CONCURRENT_CHECKS):
        batch = range(start, min(count, start + CONCURRENT_CHECKS))
        seen += await asyncio.gather(*(detector.seen_before(f"{label}-{n}".encode()) for n in batch))
    return seen


async def _set_bits(redis: Redis, detector: ReplayDetector, key: str, label: str, count: int) -> None:
    for start in range(0, count, 5000):
        async with redis.pipeline(transaction=False) as pipe:
            for n in range(start, min(count, start + 5000)):
                for bit in detector.positions(f"{label}-{n}".encode()):
                    pipe.setbit(key, bit, 1)
            await pipe.execute()
    await redis.expire(key, 3 * detector.window_seconds)


async def _probe(redis: Redis, detector: ReplayDetector, keys: list[str], count: int) -> list[bool]:
    """Would each never-sent fingerprint be reported as seen? The detector's own test, without adding."""
    hits: list[bool] = []
    for start in range(0, count, 2000):
        async with redis.pipeline(transaction=False) as pipe:
            batch = [detector.positions(f"probe-{n}".encode()) for n in range(start, min(count, start + 2000))]
            for positions in batch:
                for key in keys:
                    for bit in positions:
                        pipe.getbit(key, bit)
            bits = await pipe.execute()
        width = len(keys) * detector.hashes
        for i in range(len(batch)):
            row = bits[i * width : (i + 1) * width]
            hits.append(any(all(row[k * detector.hashes : (k + 1) * detector.hashes]) for k in range(len(keys))))
    return hits


async def _replay_false_positives(redis_url: str) -> tuple[str, str, str]:
    redis = Redis.from_url(redis_url)
    prefix = f"bench-replay-{uuid.uuid4().hex[:6]}"
    # Same sizing as the API's detector; a long window so that filling it does not outlast it.
    detector = ReplayDetector(redis, prefix=prefix, capacity=REPLAY_CAPACITY, window_seconds=3600)
    # Both windows filled to capacity: the previous one directly (its key is the prefix and the previous time
    # bucket), the current one through the detector itself ...
    now, _micros = await redis.time()
    bucket = int(now) // detector.window_seconds
    await _set_bits(redis, detector, f"{prefix}:{bucket - 1}", "previous", REPLAY_CAPACITY)
    fill_positives = sum(await _checks(detector, "current", REPLAY_CAPACITY))
    # ... then fingerprints never sent are looked up read-only, so probing does not overfill the filter.
    probes = await _probe(redis, detector, [f"{prefix}:{bucket}", f"{prefix}:{bucket - 1}"], REPLAY_PROBES)
    later, _micros = await redis.time()
    await redis.aclose()
    if int(later) // detector.window_seconds != bucket:
        raise RuntimeError("the measurement crossed a window boundary; run it again")
    rate = sum(probes) / REPLAY_PROBES
    return (
        "replay Bloom filter false positives",
        f"{rate:.3%} with both windows full",
        f"{detector.bits} bits x {detector.hashes} hashes per window, {REPLAY_CAPACITY} per window; "
        f"{fill_positives} false hits while filling",
    )


def run() -> list[tuple[str, str, str]]:
    with fresh_app() as (_settings, endpoints, api_url):
        # The limiter is timed first, on a quiet stack: after the burst the worker is busy for a while.
        print("timing the limiter...", flush=True)
        latency = asyncio.run(_limiter_latency(endpoints.redis_url))
        print("running the abuse simulation...", flush=True)
        simulation = asyncio.run(_simulate(api_url))
        print("measuring the replay filter...", flush=True)
        replay = asyncio.run(_replay_false_positives(endpoints.redis_url))
    return [simulation, latency, replay]
