"""A local stand-in that speaks Resend's REST wire format (`POST /emails`), for driving the real `resend` SDK.

It checks the API key, validates the fields Resend requires, honours `Idempotency-Key` (the same key and body
answer with the first email's id and are not sent again; the same key with another body is a 409, as Resend
does), records every email it accepted, and can be told to fail.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.standins import served

API_KEY = "re_standin_key"


@dataclass
class Outbox:
    emails: list[dict[str, Any]] = field(default_factory=list)  # accepted, each with its "id" and "idempotency_key"
    attempts: int = 0  # POST /emails requests, replays and failures included
    failures_left: int = 0  # answer this many requests with a 500 first


def _error(status: int, name: str, message: str) -> web.Response:
    return web.json_response({"statusCode": status, "name": name, "message": message}, status=status)


def build_app(outbox: Outbox) -> web.Application:
    seen: dict[str, tuple[dict[str, Any], str]] = {}

    async def send(request: web.Request) -> web.Response:
        outbox.attempts += 1
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return _error(401, "validation_error", "API key is invalid")
        if outbox.failures_left > 0:
            outbox.failures_left -= 1
            return _error(500, "application_error", "stand-in failure")
        body = await request.json()
        missing = [name for name in ("from", "to", "subject") if not body.get(name)]
        if missing or not (body.get("text") or body.get("html")):
            return _error(422, "missing_required_field", f"missing: {', '.join(missing) or 'text or html'}")
        key = request.headers.get("Idempotency-Key")
        if key in seen:
            earlier, email_id = seen[key]
            if earlier != body:
                return _error(409, "invalid_idempotent_request", "same idempotency key, different payload")
            return web.json_response({"id": email_id})
        email_id = str(uuid.uuid4())
        if key:
            seen[key] = (body, email_id)
        outbox.emails.append({**body, "id": email_id, "idempotency_key": key})
        return web.json_response({"id": email_id})

    app = web.Application()
    app.router.add_post("/emails", send)
    return app


@asynccontextmanager
async def running(outbox: Outbox) -> AsyncIterator[str]:
    """Serve on a free loopback port; yields the base URL to give as RESEND_API_URL."""
    async with served(build_app(outbox)) as url:
        yield f"{url}"
