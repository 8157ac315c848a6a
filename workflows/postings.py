"""The one PostingIndexWorkflow (id `posting-index`): embeds imported postings a batch at a time until none is
left. Every import starts it or, when it runs, signals `more` (signal-with-start), so postings imported while it
finishes are not left behind."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.queues import queue

with workflow.unsafe.imports_passed_through():
    from activities.postings import PostingActivities
    from schema.postings import PostingIndexInput

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2, maximum_interval=timedelta(minutes=1))
# A batch of 64 takes about 2 s on one core with the local model; OpenAI answers faster.
BATCH_TIMEOUT = timedelta(minutes=2)
BATCHES_PER_RUN = 100  # then continue-as-new: the history stays short however many postings come


@workflow.defn
class PostingIndexWorkflow:
    def __init__(self) -> None:
        self._more = False

    @workflow.signal
    def more(self) -> None:
        self._more = True

    @workflow.run
    async def run(self, request: PostingIndexInput) -> int:
        """Returns how many postings it embedded."""
        indexed = request.indexed_before
        for _ in range(BATCHES_PER_RUN):
            self._more = False
            batch = await workflow.execute_activity_method(
                PostingActivities.index_postings,
                request,
                start_to_close_timeout=BATCH_TIMEOUT,
                retry_policy=RETRY,
                task_queue=queue("io"),
            )
            indexed += batch.indexed
            if batch.remaining == 0 and not self._more:
                return indexed
        workflow.continue_as_new(PostingIndexInput(indexed_before=indexed))
