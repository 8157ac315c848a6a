"""A reply's opening travels from the model's activity to the voice agent over Redis, and its absence never
holds a turn up."""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis

from activities.reply_leads import ReplyLeads, listening_for_lead
from stack.services import Endpoints
from stack.supervisor import free_port


async def test_the_listener_gets_the_opening_published_for_its_update_only(endpoints: Endpoints) -> None:
    redis = Redis.from_url(endpoints.redis_url)
    mine, other = f"voice-{uuid.uuid4()}", f"voice-{uuid.uuid4()}"
    try:
        async with listening_for_lead(redis, mine) as lead:
            await ReplyLeads(redis).publish(other, "Not for you.")
            await ReplyLeads(redis).publish(mine, "Thanks, that covers it.")
            await ReplyLeads(redis).publish(mine, "A retried call's opening.")
            assert await asyncio.wait_for(lead, 5) == "Thanks, that covers it."
    finally:
        await redis.aclose()


async def test_with_redis_unreachable_there_is_no_opening_and_nothing_fails() -> None:
    gone = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        await ReplyLeads(gone).publish("voice-x", "Thanks.")  # logged, not raised: the turn goes on
        async with listening_for_lead(gone, "voice-x") as lead:
            assert await asyncio.wait_for(lead, 5) is None
    finally:
        await gone.aclose()
