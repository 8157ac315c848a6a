"""VIP priority on a backlogged io queue, on the stack as `mocki up` runs it (a worker process per task queue).

Ordinary users import mail until the io queue holds a backlog of over 500 email analyses (each an io activity;
every sync keeps 8 in flight). Then VIP users and as many ordinary users import the same mailbox at the same
moment, and each of those syncs is timed from the import until every email is merged. A VIP's sync (Temporal task
priority 1) is served before the backlog; an ordinary one (priority 3) waits its turn behind it.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.client import Client

from bench.foundation import fresh_app
from bench.mail_sync import import_mail, mailbox, signed_up
from schema.tables import AppUser
from stack import database
from stack.services import Endpoints
from stack.settings import Settings
from stack.temporal import connect, queue_backlog
from web.accounts import normalise_email

BACKLOG = 500  # email analyses queued on io before the measured syncs start
BACKLOG_USERS = 72  # x 8 analyses in flight each = 576
BACKLOG_EMAILS = 40
MEASURED = 5  # VIP syncs, and as many ordinary ones
MEASURED_EMAILS = 16


async def _timed_sync(http: httpx.AsyncClient, auth: dict[str, str], content: bytes) -> float:
    started = time.perf_counter()
    await import_mail(http, auth, content)
    while True:
        if not (await http.get("/applications/sync", headers=auth)).json()["pending"]:
            return time.perf_counter() - started
        await asyncio.sleep(0.05)


async def _io_backlog(client: Client, settings: Settings) -> int | None:
    try:
        return await queue_backlog(
            client, settings.temporal_namespace, settings.io_task_queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
        )
    except Exception:  # an older server without queue statistics: the figure is left out
        return None


async def _filled(client: Client, settings: Settings) -> int | None:
    """The io queue's backlog once the ordinary syncs have filled it past BACKLOG (or 30 s have passed)."""
    queued = None
    for _ in range(300):
        queued = await _io_backlog(client, settings)
        if queued is None or queued >= BACKLOG:
            break
        await asyncio.sleep(0.1)
    return queued


async def _run(settings: Settings, endpoints: Endpoints, api_url: str) -> tuple[list[float], list[float], int | None]:
    engine = database.bind(endpoints.database_url)
    await engine.start_connection_pool()
    client = await connect(endpoints.temporal_address, settings.temporal_namespace)
    async with httpx.AsyncClient(base_url=api_url, timeout=300) as http:
        _, warm = await signed_up(http, "warm")  # the classifier trains once per worker process
        await _timed_sync(http, warm, mailbox(4, offset=10**6))
        backlog = [await signed_up(http, "ordinary") for _ in range(BACKLOG_USERS)]
        vips = [await signed_up(http, "vip") for _ in range(MEASURED)]
        ordinary = [await signed_up(http, "ordinary") for _ in range(MEASURED)]
        emails = [normalise_email(email) for email, _ in vips]
        await AppUser.update({AppUser.vip: True}).where(AppUser.email.is_in(emails))
        await asyncio.gather(
            *(import_mail(http, auth, mailbox(BACKLOG_EMAILS, n * 1000)) for n, (_, auth) in enumerate(backlog))
        )
        queued = await _filled(client, settings)
        measured = [
            _timed_sync(http, auth, mailbox(MEASURED_EMAILS, 10**5 + n * 1000))
            for n, (_, auth) in enumerate([*vips, *ordinary])
        ]
        seconds = await asyncio.gather(*measured)
    await engine.close_connection_pool()
    return seconds[:MEASURED], seconds[MEASURED:], queued


def run() -> list[tuple[str, str, str]]:
    with fresh_app() as (settings, endpoints, api_url):
        vip, ordinary, queued = asyncio.run(_run(settings, endpoints, api_url))
    vip_mean, ordinary_mean = statistics.mean(vip), statistics.mean(ordinary)
    lower = 1 - vip_mean / ordinary_mean
    backlog = "not reported by this Temporal" if queued is None else f"{queued} analyses"
    return [
        (
            f"VIP sync of {MEASURED_EMAILS} emails, io queue backlogged",
            f"{vip_mean:.1f} s",
            f"mean of {MEASURED} (max {max(vip):.1f} s); first {BACKLOG_USERS} ordinary syncs of {BACKLOG_EMAILS}",
        ),
        (
            "  ordinary sync, started at the same moment",
            f"{ordinary_mean:.1f} s",
            f"mean of {MEASURED} (max {max(ordinary):.1f} s)",
        ),
        ("  VIP latency lower by", f"{lower:.0%}", "goal >= 60%"),
        ("  io queue backlog when they started", backlog, "Temporal's approximate count"),
    ]
