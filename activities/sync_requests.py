"""Asking for a user's email sync: every request, from the API or from the user's Temporal Schedule, goes through
the one `email-sync-{user}` workflow (update-with-start), so two syncs of one user never run at once.

The schedule (`email-sync-every-{user}`, every 15 minutes unless the user sets otherwise) cannot start that
workflow itself (a schedule gives each run an id of its own); it starts ScheduledEmailSync, whose one activity
makes the request.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    SchedulePolicy,
    ScheduleSpec,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy

from activities.priority import priority_of
from schema.applications import SyncInput, SyncResult


def email_sync_workflow_id(owner: str) -> str:
    return f"email-sync-{owner}"


def email_sync_schedule_id(owner: str) -> str:
    return f"email-sync-every-{owner}"


async def request_sync(client: Client, task_queue: str, owner: str) -> str:
    """Starts the owner's email sync, or asks the running one to look again (never two at once)."""
    workflow_id = email_sync_workflow_id(owner)
    owner_priority = await priority_of(owner)
    for _attempt in range(2):
        start: WithStartWorkflowOperation[Any, SyncResult] = WithStartWorkflowOperation(
            "EmailSyncWorkflow",
            SyncInput(owner=owner),
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            result_type=SyncResult,
            priority=owner_priority,
        )
        try:
            await client.execute_update_with_start_workflow("requested", start_workflow_operation=start)
            return workflow_id
        except WorkflowUpdateFailedError:  # it finished just as it was asked: start the next one
            continue
    return workflow_id


def sync_schedule(owner: str, task_queue: str, every: timedelta, *, paused: bool = False) -> Schedule:
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            "ScheduledEmailSync",
            SyncInput(owner=owner),
            id=f"email-sync-tick-{owner}",
            task_queue=task_queue,
            execution_timeout=timedelta(minutes=5),
        ),
        # Each user at their own offset within the interval: not every sync of every user on the quarter hour.
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every, offset=_offset(owner, every))]),
        # A tick missed while Temporal was down is made up once, not once per missed interval.
        policy=SchedulePolicy(catchup_window=every),
    )
    schedule.state.paused = paused
    return schedule


def _offset(owner: str, every: timedelta) -> timedelta:
    spread = int(hashlib.sha256(owner.encode()).hexdigest()[:8], 16)
    return timedelta(seconds=spread % int(every.total_seconds()))


async def ensure_schedule(client: Client, task_queue: str, owner: str, every: timedelta) -> None:
    """Creates the owner's sync schedule unless there is one (whose interval the user may have set)."""
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(email_sync_schedule_id(owner), sync_schedule(owner, task_queue, every))


class SyncRequests:
    def __init__(self, client: Client, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue

    @activity.defn
    async def request_sync(self, request: SyncInput) -> str:
        return await request_sync(self._client, self._task_queue, request.owner)
