"""Task queues and priority: each kind of work on its own queue, and a VIP account's jobs taken from a backlog
before everyone else's; on the real Temporal (its priority matcher on), workers and API."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import httpx
import msgspec
from redis.asyncio import Redis
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.client import Client

from activities.question_bank import QuestionBank
from schema.queues import queue_name
from stack.services import Endpoints
from stack.settings import Settings
from stack.temporal import queue_backlog
from tests.conftest import isolated_api, service_env, sign_up
from tests.test_prep import paste_jd
from workflows.ingest import ingest_workflow_id
from workflows.worker import mocki_workers

BACKLOG = 8


def jd(n: int) -> str:
    return f"Backend Engineer {n}\n\nRequirements\n- 3+ years of Python and Postgres\n- Kafka or another queue\n"


async def embedding_queued(temporal: Client, document: str) -> None:
    handle = temporal.get_workflow_handle(ingest_workflow_id(document))
    for _ in range(100):
        if (await handle.describe()).raw_description.pending_activities:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"document {document}'s embedding was never asked for")


async def backlog_counted(temporal: Client, namespace: str, queue: str, tasks: int) -> None:
    """Wait (up to 5 s) until Temporal counts `tasks` in the queue's backlog: its matcher orders by priority what it
    has read from the backlog. Once, under a full test run's load, an io worker arriving at once was handed an
    ordinary task first, most likely one the matcher had read before the VIP's was written (not reproduced alone)."""
    for _ in range(100):
        if await queue_backlog(temporal, namespace, queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY) >= tasks:
            return
        await asyncio.sleep(0.05)


async def statuses(api: httpx.AsyncClient, auth: dict[str, str], documents: list[str]) -> list[str]:
    return [(await api.get(f"/documents/{d}", headers=auth)).json()["status"] for d in documents]


async def test_a_vip_accounts_document_is_indexed_before_a_backlog_of_other_peoples(
    db: None, temporal: Client, settings: Settings, endpoints: Endpoints
) -> None:
    prefix = f"priority-{uuid.uuid4().hex[:8]}-"
    queued = msgspec.structs.replace(settings, task_queue_prefix=prefix, io_concurrency=1)
    redis = Redis.from_url(endpoints.redis_url)
    bank = await QuestionBank.load()
    # Uploads are read on the cpu queue at once; their embedding waits on the io queue, served by no one yet.
    front = await mocki_workers(temporal, queued, redis, bank, kinds=("interview", "cpu"))
    async with front, isolated_api(settings, endpoints, MOCKI_TASK_QUEUE_PREFIX=prefix) as app:
        ordinary, _ = await sign_up(app.client)
        vip, vip_email = await sign_up(app.client, name="Vera")
        made = subprocess.run(
            [sys.executable, "-m", "stack.cli", "users", "vip", "--email", vip_email.upper()],
            env=service_env(settings, endpoints),
            capture_output=True,
            text=True,
            check=False,
        )
        assert made.returncode == 0 and "is a VIP now" in made.stdout, (made.stdout, made.stderr)
        backlog = [await paste_jd(app.client, ordinary, jd(n)) for n in range(BACKLOG)]
        first_class = await paste_jd(app.client, vip, jd(99))
        waiting = await statuses(app.client, ordinary, backlog)
        assert set(waiting) == {"indexing"}, waiting
        # An upload is answered once read; its embedding is asked for a moment later: all nine must be waiting.
        for document in [*backlog, first_class]:
            await embedding_queued(temporal, document)
        await backlog_counted(temporal, settings.temporal_namespace, queue_name(prefix, "io"), BACKLOG + 1)

        async with await mocki_workers(temporal, queued, redis, bank, kinds=("io",)):
            for _ in range(300):
                if set(await statuses(app.client, ordinary, backlog)) == {"ready"}:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the backlog was not indexed")
        assert await statuses(app.client, vip, [first_class]) == ["ready"]
    await redis.aclose()

    # One io activity at a time: the VIP's document, uploaded last, was indexed first.
    async def finished(document: str) -> float:
        description = await temporal.get_workflow_handle(ingest_workflow_id(document)).describe()
        assert description.close_time is not None
        return description.close_time.timestamp()

    closed = {document: await finished(document) for document in [*backlog, first_class]}
    ranked = sorted(closed, key=closed.__getitem__)
    assert ranked[0] == first_class, closed

    refused = subprocess.run(
        [sys.executable, "-m", "stack.cli", "users", "vip", "--email", "nobody@test.mocki.local"],
        env=service_env(settings, endpoints),
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2 and "no account nobody@test.mocki.local" in refused.stderr
