"""Rate limits: sliding windows in Redis, all of a request's windows checked and counted in one Lua script.

A request is counted in every window or in none, so a refused request never uses up anyone's quota. Redis's own
clock is used, so every API process agrees on time. When Redis cannot be reached, requests that cost model calls
are refused (fail closed) and reads go through (fail open).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from redis.asyncio import Redis
from redis.exceptions import RedisError

from web.accounts import Principal

logger = logging.getLogger(__name__)

SLIDING_WINDOWS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[1]
local retry_ms, blocked = 0, 0
for i = 1, #KEYS do
  local window = tonumber(ARGV[2 * i])
  local limit = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    -- a slot frees when the (count - limit + 1)-th oldest entry leaves the window
    local entry = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    local wait = tonumber(entry[2]) + window - now
    if wait > retry_ms then retry_ms, blocked = wait, i end
  end
end
if blocked > 0 then return {0, retry_ms, blocked} end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 * i]))
end
return {1, 0, 0}
"""


@dataclass(frozen=True)
class Window:
    """At most `limit` requests per `seconds` for one subject (a user, an IP, a room, everyone)."""

    name: str  # says whose quota ran out, in the 429 message
    subject: str  # "user" | "ip" | "global" | "room-user"
    limit: int
    seconds: int


@dataclass(frozen=True)
class Policy:
    name: str
    windows: tuple[Window, ...]
    fail_closed: bool  # True where a request costs model calls


# The numbers: AI endpoints 10/min per user and 50/min per IP, a 500/min model-call budget shared by
# every worker, and 20 messages/min per user per room.
AI_MESSAGE = Policy(
    "ai-message",
    (
        Window("your AI requests", "user", 10, 60),
        Window("AI requests from your network address", "ip", 50, 60),
        Window("the service's AI budget", "global", 500, 60),
        Window("your messages in this room", "room-user", 20, 60),
    ),
    fail_closed=True,
)
# Running code costs CPU on the workers rather than model calls; a budget of its own.
CODE_REVIEW = Policy(
    "code-review",
    (Window("your code reviews", "user", 10, 60), Window("the service's code-running budget", "global", 120, 60)),
    fail_closed=True,
)
# Hints: 3 per 5 minutes per user per room (issue 4), and they count as AI requests.
HINT = Policy(
    "hint",
    (
        Window("your hints in this room", "room-user", 3, 300),
        Window("your AI requests", "user", 10, 60),
        Window("the service's AI budget", "global", 500, 60),
    ),
    fail_closed=True,
)
# Each upload is parsed and embedded: a budget of its own, not a read's.
DOCUMENT_UPLOAD = Policy(
    "document-upload",
    (Window("your document uploads", "user", 20, 3600), Window("the service's document budget", "global", 120, 60)),
    fail_closed=True,
)
# An import is parsed and every message analysed; a manual sync only analyses what is stored.
MAIL_IMPORT = Policy(
    "mail-import",
    (Window("your mail imports", "user", 30, 3600), Window("the service's mail import budget", "global", 120, 60)),
    fail_closed=True,
)
WRITES = Policy("writes", (Window("your changes", "user", 120, 60),), fail_closed=False)
READS = Policy("reads", (Window("your requests", "user", 600, 60),), fail_closed=False)
# Google's redirect back after consent carries no access token: limited by address (each one costs a token
# exchange with Google).
GMAIL_CALLBACK = Policy(
    "gmail-callback", (Window("Gmail connections from your network address", "ip", 30, 60),), fail_closed=True
)
# Guessing passwords costs argon2 time: a few tries a minute per account.
SIGN_IN = Policy("sign-in", (Window("sign-in attempts for this account", "email", 10, 60),), fail_closed=True)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds
    window: Window | None = None


class RateLimiter:
    def __init__(self, redis: Redis, prefix: str = "rl", per_ip_per_minute: int | None = None) -> None:
        self._redis = redis
        self._script = redis.register_script(SLIDING_WINDOWS)
        self._prefix = prefix
        self._per_ip_per_minute = per_ip_per_minute  # the deployment's own per-address limit, when set

    def _windows(self, policy: Policy) -> tuple[Window, ...]:
        if self._per_ip_per_minute is None:
            return policy.windows
        return tuple(
            dataclasses.replace(w, limit=self._per_ip_per_minute) if w.subject == "ip" and w.seconds == 60 else w
            for w in policy.windows
        )

    async def check(self, policy: Policy, subjects: dict[str, str]) -> Decision:
        """Count one request against every window of `policy`; raises RedisError when Redis is unreachable."""
        windows = self._windows(policy)
        keys = [f"{self._prefix}:{policy.name}:{w.subject}:{w.seconds}:{subjects[w.subject]}" for w in windows]
        args: list[str | int] = [uuid.uuid4().hex]
        for window in windows:
            args += [window.seconds * 1000, window.limit]
        allowed, retry_ms, blocked = await self._script(keys=keys, args=args)
        if allowed:
            return Decision(True)
        return Decision(False, retry_ms / 1000, windows[int(blocked) - 1])


def _subjects(connection: ASGIConnection[Any, Any, Any, Any], key: str | None) -> dict[str, str]:
    principal: Principal | None = connection.scope.get("user")
    user = str(principal.id) if principal else "anonymous"
    room = connection.path_params.get("room_id")
    return {
        "user": user,
        "ip": connection.client.host if connection.client else "unknown",
        "global": "all",
        "room-user": f"{room}:{user}",
        "email": key or "",
    }


async def enforce(connection: ASGIConnection[Any, Any, Any, Any], policy: Policy, email: str | None = None) -> None:
    limiter: RateLimiter = connection.app.state.limiter
    try:
        decision = await limiter.check(policy, _subjects(connection, email))
    except (RedisError, OSError) as exc:
        if not policy.fail_closed:
            logger.warning("rate limiter unavailable; letting %s through: %s", policy.name, exc)
            return
        logger.warning("rate limiter unavailable; refusing %s: %s", policy.name, exc)
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            detail="requests that use the AI are paused while the rate limiter is unavailable; try again shortly",
            headers={"Retry-After": "5"},
        ) from None
    if not decision.allowed:
        assert decision.window is not None
        seconds = max(1, math.ceil(decision.retry_after))
        window = decision.window
        raise TooManyRequestsException(
            detail=f"too many requests: {window.name} allow {window.limit} per {window.seconds} s; "
            f"try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )


def limited(policy: Policy) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A route guard applying `policy`; put it after the guards that decide who may call the route at all."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        await enforce(connection, policy)

    return guard
