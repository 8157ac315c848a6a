"""Liveness and readiness, with each dependency's state."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import httpx
import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from schema.tables import Room

CHECK_TIMEOUT_SECONDS = 2.0


class Dependency(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    ok: bool
    error: str | None = None


class Readiness(msgspec.Struct, kw_only=True):
    ready: bool
    dependencies: list[Dependency]


class HealthController(Controller):
    tags = ["health"]

    @get("/health", operation_id="health", opt={"exclude_from_auth": True})
    async def health(self) -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @get("/ready", operation_id="ready", opt={"exclude_from_auth": True})
    async def ready(self, state: State) -> Response[Readiness]:
        """Readiness: Postgres, Redis, Temporal and LiveKit each answer (503 with the failing ones otherwise)."""
        livekit_http = state.endpoints.livekit_url.replace("ws://", "http://").replace("wss://", "https://")
        checks: dict[str, Awaitable[object]] = {
            "postgres": Room.raw("SELECT 1"),
            "redis": state.redis.ping(),
            "temporal": state.temporal.service_client.check_health(),
            "livekit": state.http.get(livekit_http),
        }
        results = await asyncio.gather(*(_check(name, check) for name, check in checks.items()))
        ready = all(d.ok for d in results)
        return Response(
            Readiness(ready=ready, dependencies=list(results)),
            status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE,
        )


async def _check(name: str, check: Awaitable[object]) -> Dependency:
    try:
        result = await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)
        if isinstance(result, httpx.Response):
            result.raise_for_status()
    except Exception as exc:  # any failure means "not ready"; the reason is reported, not raised
        return Dependency(name=name, ok=False, error=f"{type(exc).__name__}: {exc}"[:200])
    return Dependency(name=name, ok=True)
