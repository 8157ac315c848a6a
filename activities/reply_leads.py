"""A reply's spoken opening, handed from the model's activity to the voice agent while the model still writes.

Temporal gives the agent an update's result only once the whole turn is done, and a remote model takes seconds to
write a scored evaluation. Its acknowledgement comes first, so the activity publishes it on a Redis channel named
after the update the agent started; the agent listens there and speaks it at once. The workflow still records the
whole reply; the agent then says what follows the part already spoken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
SUBSCRIBED_WITHIN_SECONDS = 1.0


def reply_lead_channel(update_id: str) -> str:
    return f"mocki:reply-lead:{update_id}"


class ReplyLeads:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def publish(self, update_id: str, text: str) -> None:
        try:
            await self._redis.publish(reply_lead_channel(update_id), text)
        except RedisError:  # the voice then waits for the whole reply, as it would without a lead
            log.warning("could not hand the reply's opening to the voice", exc_info=True)


@asynccontextmanager
async def listening_for_lead(redis: Redis, update_id: str) -> AsyncIterator[asyncio.Future[str | None]]:
    """Subscribed before it yields (start the update inside): the future holds the first lead published for
    `update_id`, or None when Redis cannot be reached."""
    pubsub = redis.pubsub()
    lead: asyncio.Future[str | None]
    try:
        await pubsub.subscribe(reply_lead_channel(update_id))
        await pubsub.get_message(timeout=SUBSCRIBED_WITHIN_SECONDS)  # the server's confirmation
        lead = asyncio.ensure_future(_first_message(pubsub))
    except (RedisError, OSError):
        log.warning("not listening for the reply's opening: Redis unreachable", exc_info=True)
        lead = asyncio.get_running_loop().create_future()
        lead.set_result(None)
    try:
        yield lead
    finally:
        lead.cancel()
        with contextlib.suppress(RedisError, OSError):
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


async def _first_message(pubsub: PubSub) -> str | None:
    try:
        async for message in pubsub.listen():
            if message["type"] == "message":
                return bytes(message["data"]).decode()
    except (RedisError, OSError):
        log.warning("stopped listening for the reply's opening: Redis went away", exc_info=True)
    return None
