"""`Idempotency-Key` on the POSTs that create or cost something: a key runs its request once, ever.

The first request with a key claims it in Redis (SET NX) and runs; a successful response is stored for 24 hours
(an error frees the key: our errors change nothing, so the request may be retried). Requests with the same key
wait for that response and get it back with `Idempotent-Replayed: true`; a different body under the same key is
refused. Keys belong to the caller (the
signed-in user, else the network address) and to the route. Responses of routes marked `idempotent` only: never
of sign-in routes, whose responses carry secrets.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import (
    ASGIApp,
    HTTPRequestEvent,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)
from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

HEADER = b"idempotency-key"
TTL_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 200
MAX_BODY_BYTES = 64 * 1024  # the API's own body limit; larger bodies are refused before we buffer them
WAIT_FOR_FIRST_SECONDS = 30
POLL_SECONDS = 0.02
STORED_HEADERS = {b"content-type", b"location", b"retry-after"}
OPT = {"idempotent": True}


class _Record(msgspec.Struct, kw_only=True):  # mutable: filled in as the response streams out
    fingerprint: str
    state: str  # "running" | "done"
    status: int = 0
    headers: list[tuple[bytes, bytes]] = []
    body: bytes = b""


@dataclass(frozen=True)
class _Claim:
    redis: Redis
    key: str
    fingerprint: str


class IdempotencyMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        key = dict(scope["headers"]).get(HEADER)
        route_opt = scope["route_handler"].opt
        if scope.get("method") != "POST" or key is None or not route_opt.get("idempotent"):
            await next_app(scope, receive, send)
            return
        if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii():
            await _respond(send, 400, f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} ASCII characters")
            return
        body = await _read_body(receive)
        if body is None:
            await _respond(send, 413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
            return
        user = scope.get("user")
        client = scope.get("client")
        caller = str(user.id) if user is not None else f"ip:{client[0] if client else '-'}"
        path_key = hashlib.sha256(scope["path"].encode() + b"\0" + key).hexdigest()
        claim = _Claim(scope["litestar_app"].state.redis, f"idem:{caller}:{path_key}", hashlib.sha256(body).hexdigest())
        try:
            await _once(claim, body, scope, send, next_app)
        except RedisError as exc:
            logger.warning("idempotency store unavailable: %s", exc)
            await _respond(
                send, 503, "requests with an Idempotency-Key are paused while its store is unavailable; retry shortly"
            )


async def _once(claim: _Claim, body: bytes, scope: Scope, send: Send, next_app: ASGIApp) -> None:
    deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
    running = msgspec.msgpack.encode(_Record(fingerprint=claim.fingerprint, state="running"))
    while time.monotonic() < deadline:
        if await claim.redis.set(claim.key, running, nx=True, ex=TTL_SECONDS):
            await _run_and_store(claim, body, scope, send, next_app)
            return
        stored = await claim.redis.get(claim.key)
        if not isinstance(stored, bytes):
            continue  # the first attempt failed and freed the key between our two calls: claim it
        record = msgspec.msgpack.decode(stored, type=_Record)
        if record.fingerprint != claim.fingerprint:
            await _respond(send, 422, "this Idempotency-Key was already used with a different request body")
            return
        if record.state == "done":
            await _send(send, record.status, [*record.headers, (b"idempotent-replayed", b"true")], record.body)
            return
        await asyncio.sleep(POLL_SECONDS)
    await _respond(send, 409, "a request with this Idempotency-Key is still being processed; retry shortly")


async def _run_and_store(claim: _Claim, body: bytes, scope: Scope, send: Send, next_app: ASGIApp) -> None:
    record = _Record(fingerprint=claim.fingerprint, state="done", status=500)

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            record.status = message["status"]
            record.headers = [(k, v) for k, v in message.get("headers", []) if k.lower() in STORED_HEADERS]
        elif message["type"] == "http.response.body":
            record.body += message.get("body", b"")
        await send(message)

    async def replay_body() -> HTTPRequestEvent:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        await next_app(scope, replay_body, capture)
    finally:
        # Only a success is final. Our errors change nothing, so a retry with the key may run again (and
        # a stored 429 must not outlive its window).
        if 200 <= record.status < 300:
            await claim.redis.set(claim.key, msgspec.msgpack.encode(record), ex=TTL_SECONDS)
        else:
            await claim.redis.delete(claim.key)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # the client went away; the handler will see an empty body
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_BODY_BYTES:
            return None
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status, "headers": headers}
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(start)
    await send(end)


async def _respond(send: Send, status: int, detail: str) -> None:
    body = msgspec.json.encode({"status_code": status, "detail": detail})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 503:
        headers.append((b"retry-after", b"5"))
    await _send(send, status, headers, body)
