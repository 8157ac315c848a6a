"""Finished job results, cached in Redis under `ai-result:{jobId}` for 24 hours and read before Temporal, and the
workflow run that accepted each job.

The entry names its room and its kind of job, so a job id presented under another room, or through another kind
of route, is not served from it. A cache that cannot
be reached is skipped: polling still works, from Temporal.
"""

from __future__ import annotations

import logging
import uuid
from typing import TypeVar

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
TTL_SECONDS = 24 * 3600
T = TypeVar("T")


class _Entry(msgspec.Struct):
    room_id: str
    kind: str  # message | hint | review: a job is only served by its own kind of route
    view: msgspec.Raw


def _key(job_id: uuid.UUID) -> str:
    return f"ai-result:{job_id}"


async def cached(redis: Redis, room_id: uuid.UUID, job_id: uuid.UUID, kind: str, view_type: type[T]) -> T | None:
    try:
        raw = await redis.get(_key(job_id))
    except RedisError as exc:
        logger.warning("result cache unavailable: %s", exc)
        return None
    if not isinstance(raw, bytes):
        return None
    entry = msgspec.msgpack.decode(raw, type=_Entry)
    if entry.room_id != str(room_id) or entry.kind != kind:
        return None
    return msgspec.msgpack.decode(entry.view, type=view_type)


async def remember(redis: Redis, room_id: uuid.UUID, job_id: uuid.UUID, kind: str, view: object) -> None:
    entry = _Entry(str(room_id), kind, msgspec.Raw(msgspec.msgpack.encode(view)))
    try:
        await redis.set(_key(job_id), msgspec.msgpack.encode(entry), ex=TTL_SECONDS)
    except RedisError as exc:
        logger.warning("result cache unavailable: %s", exc)


def _run_key(room_id: uuid.UUID, job_id: uuid.UUID) -> str:
    return f"job-run:{room_id}:{job_id}"


async def remember_run(redis: Redis, room_id: uuid.UUID, job_id: uuid.UUID, run_id: str | None) -> None:
    """Which run of the room's workflow accepted the job (runs change when an interview continues as new)."""
    if run_id is None:
        return
    try:
        await redis.set(_run_key(room_id, job_id), run_id, ex=TTL_SECONDS)
    except RedisError as exc:
        logger.warning("job run cache unavailable: %s", exc)


async def run_of(redis: Redis, room_id: uuid.UUID, job_id: uuid.UUID) -> str | None:
    """The run to poll; None (the latest run) when unknown."""
    try:
        raw = await redis.get(_run_key(room_id, job_id))
    except RedisError as exc:
        logger.warning("job run cache unavailable: %s", exc)
        return None
    return raw.decode() if isinstance(raw, bytes) else None
