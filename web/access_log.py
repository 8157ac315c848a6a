"""One log line per API request: method, route template (never the path: it holds ids, and a query can hold
anything), status and duration, written inside the request's span so the line carries its trace id. Probes and
scrapes (`/health`, `/ready`, `/metrics`) are logged at DEBUG only: they come every few seconds."""

from __future__ import annotations

import logging
import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("mocki.access")

QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})


def access_log(app: ASGIApp) -> ASGIApp:
    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_status)
        finally:
            route = scope.get("path_template") or "(no route)"
            level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.log(level, "%s %s %d %.1f ms", scope.get("method", ""), route, status, elapsed_ms)

    return logged
