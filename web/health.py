"""Liveness and readiness, with each dependency's state."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Literal

import httpx
import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from redis.exceptions import RedisError

from activities.circuit import CircuitBreaker, CircuitPosition
from activities.llm import OFFLINE_PROVIDER
from schema.piccolo_conf import DB

CHECK_TIMEOUT_SECONDS = 2.0


class Dependency(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    ok: bool
    error: str | None = None


class ModelProvider(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The interviewer's LLM: which one, and its circuit breaker (none for the offline one, which runs in-process)."""

    provider: str
    circuit: CircuitPosition | Literal["none", "unknown"]
    recent_failures: int = 0
    retry_after_seconds: float | None = None


class Readiness(msgspec.Struct, kw_only=True):
    # Whether this API can serve: its own dependencies. An open LLM circuit does not make it unready (rooms,
    # transcripts and reports still work); AI requests get 503 meanwhile.
    ready: bool
    dependencies: list[Dependency]
    llm: ModelProvider


class HealthController(Controller):
    tags = ["health"]

    @get("/health", operation_id="health", opt={"exclude_from_auth": True})
    async def health(self) -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @get("/ready", operation_id="ready", opt={"exclude_from_auth": True})
    async def ready(self, state: State) -> Response[Readiness]:
        """Readiness: Postgres, Redis, Temporal and LiveKit each answer (503 with the failing ones otherwise).

        Also the LLM provider and its circuit breaker: `open` means AI requests are refused (503) for a while.
        """
        livekit_http = state.endpoints.livekit_url.replace("ws://", "http://").replace("wss://", "https://")
        checks: dict[str, Awaitable[object]] = {
            "postgres": DB.probe(),
            "redis": state.redis.ping(),
            "temporal": state.temporal.service_client.check_health(),
            "livekit": state.http.get(livekit_http),
        }
        results = await asyncio.gather(*(_check(name, check) for name, check in checks.items()))
        ready = all(d.ok for d in results)
        return Response(
            Readiness(ready=ready, dependencies=list(results), llm=await _llm(state.breaker)),
            status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE,
        )


async def _llm(breaker: CircuitBreaker | None) -> ModelProvider:
    if breaker is None:
        return ModelProvider(provider=OFFLINE_PROVIDER, circuit="none")
    try:
        circuit = await asyncio.wait_for(breaker.state(), CHECK_TIMEOUT_SECONDS)
    except (RedisError, TimeoutError):
        return ModelProvider(provider=breaker.provider, circuit="unknown")
    return ModelProvider(
        provider=circuit.provider,
        circuit=circuit.state,
        recent_failures=circuit.recent_failures,
        retry_after_seconds=circuit.retry_after_seconds,
    )


async def _check(name: str, check: Awaitable[object]) -> Dependency:
    try:
        result = await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)
        if isinstance(result, httpx.Response):
            result.raise_for_status()
    except Exception as exc:  # any failure means "not ready"; the reason is reported, not raised
        return Dependency(name=name, ok=False, error=f"{type(exc).__name__}: {exc}"[:200])
    return Dependency(name=name, ok=True)
