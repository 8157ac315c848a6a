"""A circuit breaker on a remote model provider, shared through Redis by every worker and the API.

After `failures` consecutive provider failures (timeouts, connection errors, 429s, 5xx) the circuit opens for
`cooldown` seconds: calls fail at once instead of piling up behind a sick provider, and the API answers new AI
requests with 503 and Retry-After. When the cooldown ends the circuit is half-open: the next call is a trial, and
one more failure opens it again while a success closes it. If Redis itself is unreachable the breaker lets calls
through: it protects the provider, it must not become a second way to fail.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

import msgspec
import openai
from redis.asyncio import Redis
from redis.exceptions import RedisError
from temporalio.exceptions import ApplicationError

logger = logging.getLogger(__name__)
T = TypeVar("T")
CircuitPosition = Literal["closed", "open", "half_open"]
# Failures that say the provider is unwell, as opposed to our request or key being wrong.
PROVIDER_FAILURES = (
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.RateLimitError,
    openai.InternalServerError,
    TimeoutError,
)


class CircuitState(msgspec.Struct, frozen=True, kw_only=True):
    provider: str
    state: CircuitPosition
    recent_failures: int
    retry_after_seconds: float | None = None


class CircuitBreaker:
    def __init__(self, redis: Redis, provider: str, *, failures: int, cooldown_seconds: float) -> None:
        self.provider = provider
        self._redis = redis
        self._threshold = failures
        self._cooldown_ms = max(1, round(cooldown_seconds * 1000))
        self._failures_key = f"llm-circuit:{provider}:failures"
        self._open_key = f"llm-circuit:{provider}:open"

    async def state(self) -> CircuitState:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._failures_key)
            pipe.pttl(self._open_key)
            failures_raw, open_ms = await pipe.execute()
        failures = int(failures_raw or 0)
        if open_ms > 0:
            return CircuitState(
                provider=self.provider, state="open", recent_failures=failures, retry_after_seconds=open_ms / 1000
            )
        position: CircuitPosition = "half_open" if failures >= self._threshold else "closed"
        return CircuitState(provider=self.provider, state=position, recent_failures=failures)

    async def call(self, make_call: Callable[[], Awaitable[T]]) -> T:
        """Run one provider call through the breaker; refuses at once (not retried) while the circuit is open."""
        try:
            current = await self.state()
        except RedisError as exc:
            logger.warning("circuit state unavailable, calling %s anyway: %s", self.provider, exc)
            return await make_call()
        if current.state == "open":
            raise ApplicationError(
                f"{self.provider} failed {current.recent_failures} times in a row; calls resume in "
                f"{current.retry_after_seconds:.0f} s",
                type="ProviderUnavailable",
                non_retryable=True,
            )
        try:
            result = await make_call()
        except PROVIDER_FAILURES:
            await self._failed()
            raise
        await self._succeeded(current)
        return result

    async def _failed(self) -> None:
        try:
            failures = int(await self._redis.incr(self._failures_key))
            # The count outlives the cooldown, so the first call after it is judged half-open.
            await self._redis.pexpire(self._failures_key, self._cooldown_ms * 2 + 60_000)
            if failures >= self._threshold:
                await self._redis.set(self._open_key, "1", px=self._cooldown_ms)
                logger.warning("circuit for %s opened after %d failures", self.provider, failures)
        except RedisError as exc:
            logger.warning("could not record a failure of %s: %s", self.provider, exc)

    async def _succeeded(self, before: CircuitState) -> None:
        if before.recent_failures == 0:
            return  # the common case costs no write
        try:
            await self._redis.delete(self._failures_key, self._open_key)
        except RedisError as exc:
            logger.warning("could not close the circuit for %s: %s", self.provider, exc)
