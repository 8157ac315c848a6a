"""Piccolo's Postgres engine, made to ride out a short database outage (a restart, a failover): a query that could
not reach the server waits and tries again for up to OUTAGE_SECONDS instead of failing the request or job at once.

Only errors that mean the server was unreachable or ended the session (refused connections, starting up, shutting
down, connection lost) are retried: a statement run in autocommit either committed and answered, or its session
ended first and it was rolled back, so running it again changes nothing twice (save a commit lost in flight, which
our writes' ON CONFLICT clauses absorb). Statements inside a transaction are not retried here: the transaction as a
whole fails, as it must.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any, Final

from asyncpg.exceptions import (
    AdminShutdownError,
    CannotConnectNowError,
    CrashShutdownError,
    InternalClientError,
    PostgresConnectionError,
)
from piccolo.engine.postgres import PostgresEngine

OUTAGE_SECONDS: Final = 10.0
FIRST_PAUSE_SECONDS, MAX_PAUSE_SECONDS = 0.05, 0.5

# InternalClientError: asyncpg refusing to use (or reset) a pooled connection left mid-operation when the server
# went away; nothing was sent, and the pool replaces that connection.
UNREACHABLE = (
    OSError,
    CannotConnectNowError,
    AdminShutdownError,
    CrashShutdownError,
    PostgresConnectionError,
    InternalClientError,
)

log = logging.getLogger(__name__)


class OutageTolerantEngine(PostgresEngine):
    async def _run_in_pool(self, query: str, args: Sequence[Any] | None = None) -> Any:
        deadline = time.monotonic() + OUTAGE_SECONDS
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                return await super()._run_in_pool(query, args)
            except UNREACHABLE as exc:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("Postgres unreachable (%s); trying again in %.2f s", type(exc).__name__, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE_SECONDS)

    async def probe(self) -> None:
        """One `SELECT 1`, not retried: readiness checks report an outage rather than wait it out."""
        await super()._run_in_pool("SELECT 1")
