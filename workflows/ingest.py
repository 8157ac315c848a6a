"""One uploaded document = one DocumentIngestWorkflow (id `document-{id}`): extract and structure, then embed its
chunks; an unusable document is discarded whole. The API waits on the `extraction` update (started with the
workflow) so the uploader hears at once whether the file could be read."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from workflows.queues import queue

with workflow.unsafe.imports_passed_through():
    from activities.ingest import DocumentActivities
    from schema.documents import Extraction, Indexed, IngestInput

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2, maximum_attempts=3)
EXTRACT_TIMEOUT = timedelta(seconds=60)
INDEX_TIMEOUT = timedelta(minutes=5)


def ingest_workflow_id(document_id: str) -> str:
    return f"document-{document_id}"


@workflow.defn
class DocumentIngestWorkflow:
    def __init__(self) -> None:
        self._extraction: Extraction | None = None

    @workflow.run
    async def run(self, request: IngestInput) -> Indexed | None:
        try:
            extraction = await workflow.execute_activity_method(
                DocumentActivities.extract_document,
                request,
                start_to_close_timeout=EXTRACT_TIMEOUT,
                retry_policy=RETRY,
                task_queue=queue("cpu"),
            )
        except ActivityError:  # not the file's fault (the database or the vault failed): nothing is kept either
            extraction = Extraction(ok=False, reason="the document could not be processed now", temporary=True)
        if not extraction.ok:  # discarded before the uploader hears of it: a refusal leaves nothing behind
            await workflow.execute_activity_method(
                DocumentActivities.discard_document,
                request,
                start_to_close_timeout=EXTRACT_TIMEOUT,
                retry_policy=RETRY,
                task_queue=queue("io"),
            )
            self._extraction = extraction
            await workflow.wait_condition(workflow.all_handlers_finished)
            return None
        self._extraction = extraction
        indexed = await workflow.execute_activity_method(
            DocumentActivities.index_document,
            request,
            start_to_close_timeout=INDEX_TIMEOUT,
            retry_policy=RETRY,
            task_queue=queue("io"),
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return indexed

    @workflow.update
    async def extraction(self) -> Extraction:
        """How extraction went, once it has."""
        await workflow.wait_condition(lambda: self._extraction is not None)
        assert self._extraction is not None
        return self._extraction
