"""The task queue an activity of this workflow runs on (schema/queues.py); workflows run on the interview queue."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schema.queues import QueueKind, sibling_queue


def queue(kind: QueueKind) -> str:
    return sibling_queue(workflow.info().task_queue, kind)
