"""WeeklyDigestWorkflow: started by the user's `weekly-digest-{user}` schedule; writes and sends the week's digest
email once (activities/digest.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.queues import queue

with workflow.unsafe.imports_passed_through():
    from activities.digest import DigestActivities
    from schema.postings import DigestInput, DigestResult

RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), backoff_coefficient=2, maximum_interval=timedelta(minutes=5))


@workflow.defn
class WeeklyDigestWorkflow:
    @workflow.run
    async def run(self, request: DigestInput) -> DigestResult:
        return await workflow.execute_activity_method(
            DigestActivities.send_weekly_digest,
            request,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
            task_queue=queue("io"),
        )
