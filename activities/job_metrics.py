"""Metrics and log lines of the jobs a worker runs: how long each activity took by queue, activity and outcome, and
how many run at once per queue (a worker interceptor, so every activity is counted the same way). It runs inside
the tracing interceptor's span, so each job's log line carries its trace id (stack/logs.py)."""

from __future__ import annotations

import logging
import time
from typing import Any

from opentelemetry import metrics
from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

_meter = metrics.get_meter("mocki.jobs")
_duration = _meter.create_histogram(
    "mocki.job.duration", unit="s", description="an activity's run, by task queue, activity and outcome"
)
log = logging.getLogger(__name__)
_active = _meter.create_up_down_counter("mocki.jobs.active", description="activities running now, by task queue")


class JobMetrics(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Timed(next)


class _Timed(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        queue = {"queue": info.task_queue}
        outcome = "failed"
        started = time.perf_counter()
        _active.add(1, queue)
        try:
            result = await super().execute_activity(input)
            outcome = "ok"
            return result
        finally:
            _active.add(-1, queue)
            elapsed = time.perf_counter() - started
            _duration.record(elapsed, {**queue, "activity": info.activity_type, "outcome": outcome})
            log.log(
                logging.INFO if outcome == "ok" else logging.WARNING,
                "%s %s in %.0f ms (attempt %d, queue %s)",
                info.activity_type,
                outcome,
                elapsed * 1000,
                info.attempt,
                info.task_queue,
            )
