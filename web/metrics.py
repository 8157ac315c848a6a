"""`GET /metrics`: the API process's figures in Prometheus's text format, with the depth of each task queue's
backlog read from Temporal at each scrape. Loopback callers may scrape it; anyone else needs MOCKI_METRICS_TOKEN."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.client import Client
from temporalio.service import RPCError

from schema.queues import QUEUE_KINDS, queue_name
from stack.settings import Settings
from stack.temporal import queue_backlog

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
TASK_TYPES = {"workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY}

# The backlog as last read (a scrape reads it afresh); a queue Temporal could not describe is left out.
_backlog: dict[tuple[str, str], int] = {}


def _observe(_options: CallbackOptions) -> Iterable[Observation]:
    return [Observation(count, {"queue": queue, "type": kind}) for (queue, kind), count in _backlog.items()]


metrics.get_meter("mocki.queues").create_observable_gauge(
    "mocki.queue.backlog", [_observe], description="tasks waiting on each task queue (Temporal's approximate count)"
)


async def read_backlog(client: Client, settings: Settings) -> None:
    for kind in QUEUE_KINDS:
        queue = queue_name(settings.task_queue_prefix, kind)
        for task_type, enum in TASK_TYPES.items():
            try:
                _backlog[(queue, task_type)] = await queue_backlog(client, settings.temporal_namespace, queue, enum)
            except (RPCError, RuntimeError):  # Temporal down: the scrape still answers, without the backlog
                _backlog.pop((queue, task_type), None)


class MetricsController(Controller):
    tags = ["health"]

    @get("/metrics", opt={"exclude_from_auth": True}, include_in_schema=False)
    async def metrics(self, state: State, request: Request[Any, Any, Any]) -> Response[bytes]:
        token: str | None = state.settings.metrics_token
        if token:
            sent = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(sent.encode(), token.encode()):
                raise NotAuthorizedException("send the metrics token: Authorization: Bearer <MOCKI_METRICS_TOKEN>")
        elif request.client is None or request.client.host not in LOOPBACK:
            raise PermissionDeniedException("metrics are for this machine only; set MOCKI_METRICS_TOKEN to scrape")
        await read_backlog(state.temporal, state.settings)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
