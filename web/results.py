"""Finished job results, cached in Redis under `ai-result:{jobId}` for 24 hours and read before Temporal.

The entry names its room, so a job id presented under another room is not served from it. A cache that cannot
be reached is skipped: polling still works, from Temporal.
"""

from __future__ import annotations

import logging
import uuid

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from schema.interview import JobView

logger = logging.getLogger(__name__)
TTL_SECONDS = 24 * 3600


class _Entry(msgspec.Struct):
    room_id: str
    view: JobView


def _key(job_id: uuid.UUID) -> str:
    return f"ai-result:{job_id}"


async def cached(redis: Redis, room_id: uuid.UUID, job_id: uuid.UUID) -> JobView | None:
    try:
        raw = await redis.get(_key(job_id))
    except RedisError as exc:
        logger.warning("result cache unavailable: %s", exc)
        return None
    if not isinstance(raw, bytes):
        return None
    entry = msgspec.msgpack.decode(raw, type=_Entry)
    return entry.view if entry.room_id == str(room_id) else None


async def remember(redis: Redis, room_id: uuid.UUID, view: JobView) -> None:
    try:
        await redis.set(
            _key(uuid.UUID(view.job_id)), msgspec.msgpack.encode(_Entry(str(room_id), view)), ex=TTL_SECONDS
        )
    except RedisError as exc:
        logger.warning("result cache unavailable: %s", exc)
