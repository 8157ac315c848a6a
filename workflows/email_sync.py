"""One EmailSyncWorkflow per user (id `email-sync-{user}`): fetch the new mail of a connected Gmail and IMAP
account, analyse every message not yet analysed (in batches, a bounded number of batches at once), then merge them
into applications, oldest first; repeat while new mail has arrived. Then the todos the mail called for get their
reminders, silent applications a follow-up, and status changes their email.

Started by an import or `POST /applications/sync` through the `requested` update (with start): a request while one
runs joins it (the id is the user's) and makes it look again before it ends, so mail stored just before the request
is never left behind, and two syncs never analyse or merge the same message twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from workflows.queues import queue

with workflow.unsafe.imports_passed_through():
    from activities.applications import MailActivities
    from activities.gmail import GmailActivities
    from activities.imap import ImapActivities
    from activities.sync_requests import SyncRequests
    from activities.todos import TodoActivities
    from schema.applications import MessageBatch, MessageRef, SyncInput, SyncResult
    from schema.mailboxes import MailboxFetch

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2, maximum_attempts=5)
STEP_TIMEOUT = timedelta(seconds=60)
APPLY_TIMEOUT = timedelta(minutes=5)
MAX_ROUNDS = 20  # new mail arriving for longer than this is left to the next sync: the history stays small
# Syncs recorded before todos and notifications existed replay without these steps (tests/histories/).
TODOS_AND_NOTIFICATIONS = "todos-and-notifications"
# Syncs recorded while messages were analysed in fixed batches (each waiting for its slowest) replay as they ran.
SLIDING_ANALYSES = "sliding-analyses"
# Likewise syncs recorded before mailboxes (Gmail, IMAP) were fetched.
MAILBOXES = "mailboxes"
# And syncs recorded while each message had an activity of its own: at a thousand messages, Temporal's work per
# activity cost more than reading the mail (bench/mail_sync.py), and the history grew by three events a message.
ANALYSIS_BATCHES = "analysis-batches"
MOST_PER_BATCH = 25  # the offline reader takes ~1 s for these, a language model (one call at a time) ~30 s
# A mailbox down for all of these attempts: this sync goes on with the mail already stored; the next tries again.
MAILBOX_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2, maximum_attempts=3)
MAILBOX_TIMEOUT = timedelta(minutes=30)  # a first sync reads up to 2,000 messages, heartbeating each
MAILBOX_HEARTBEAT = timedelta(minutes=2)


@workflow.defn
class EmailSyncWorkflow:
    def __init__(self) -> None:
        self._requests = 0  # `requested` updates received

    @workflow.run
    async def run(self, request: SyncInput) -> SyncResult:
        analysed = applied = applications = 0
        followed_through = False
        fetched_for = -1  # the request count when the mailboxes were last asked: again only for a new request
        for _ in range(MAX_ROUNDS):
            requests_seen = self._requests
            if requests_seen != fetched_for and workflow.patched(MAILBOXES):
                await asyncio.gather(
                    self._fetch(GmailActivities.fetch_gmail, request), self._fetch(ImapActivities.fetch_imap, request)
                )
                fetched_for = requests_seen
            pending = await workflow.execute_activity_method(
                MailActivities.pending_messages,
                request,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=RETRY,
                task_queue=queue("io"),
            )
            if not pending.to_apply:
                if self._requests != requests_seen:
                    continue  # asked again while looking: look once more
                await self._follow_through(request)
                followed_through = True
                if self._requests == requests_seen:
                    break
                continue  # asked again meanwhile: that mail must not wait for the next sync
            if workflow.patched(ANALYSIS_BATCHES):
                await self._analyse_in_batches(pending.to_analyse, request.concurrency)
            elif workflow.patched(SLIDING_ANALYSES):
                await self._analyse(pending.to_analyse, request.concurrency)
            else:  # as recorded before: batches, each waiting for its slowest
                for start in range(0, len(pending.to_analyse), request.concurrency):
                    batch = pending.to_analyse[start : start + request.concurrency]
                    await asyncio.gather(*(self._analyse_one(message) for message in batch))
            analysed += len(pending.to_analyse)
            applications += await workflow.execute_activity_method(
                MailActivities.apply_analyses,
                request,
                start_to_close_timeout=APPLY_TIMEOUT,
                retry_policy=RETRY,
                task_queue=queue("io"),
            )
            applied += len(pending.to_apply)
        if not followed_through:  # the rounds ran out with mail still arriving: the next sync takes the rest
            await self._follow_through(request)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return SyncResult(analysed=analysed, applied=applied, applications=applications)

    async def _analyse_in_batches(self, messages: list[str], concurrency: int) -> None:
        """Every message analysed, in batches of at most MOST_PER_BATCH, `concurrency` batches at a time. A few
        messages are spread one or two a batch, so they are read `concurrency` at once as before batches."""
        size = min(MOST_PER_BATCH, max(1, -(-len(messages) // concurrency)))
        batches = [messages[start : start + size] for start in range(0, len(messages), size)]
        await _bounded([self._analyse_batch(batch) for batch in batches], concurrency)

    async def _analyse_batch(self, messages: list[str]) -> None:
        await workflow.execute_activity_method(
            MailActivities.analyse_messages,
            MessageBatch(messages=messages),
            start_to_close_timeout=STEP_TIMEOUT * len(messages),  # each message as long as it had on its own
            heartbeat_timeout=STEP_TIMEOUT,  # beaten after each message
            retry_policy=RETRY,
            task_queue=queue("io"),
        )

    async def _analyse(self, messages: list[str], concurrency: int) -> None:
        """Every message analysed, `concurrency` at a time: each one done makes room for the next."""
        await _bounded([self._analyse_one(message) for message in messages], concurrency)

    async def _analyse_one(self, message: str) -> None:
        await workflow.execute_activity_method(
            MailActivities.analyse_message,
            MessageRef(message=message),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
            task_queue=queue("io"),
        )

    async def _fetch(self, step: Callable[[Any, SyncInput], Awaitable[MailboxFetch]], request: SyncInput) -> None:
        """New mail from one of the user's mailboxes, when connected; its failure is recorded on the account and
        does not stop the sync of what is already stored."""
        try:
            await workflow.execute_activity_method(
                step,
                request,
                start_to_close_timeout=MAILBOX_TIMEOUT,
                heartbeat_timeout=MAILBOX_HEARTBEAT,
                retry_policy=MAILBOX_RETRY,
                task_queue=queue("io"),
            )
        except ActivityError as failed:
            workflow.logger.warning("a mailbox could not be fetched this sync: %s", failed.cause)

    async def _follow_through(self, request: SyncInput) -> None:
        """Follow-ups, reminders and pending emails, each sync, also when no mail came: silence is what a follow-up
        is about."""
        if not workflow.patched(TODOS_AND_NOTIFICATIONS):
            return
        for step in (
            TodoActivities.follow_up_todos,
            TodoActivities.schedule_reminders,
            TodoActivities.deliver_notifications,
        ):
            await workflow.execute_activity_method(
                step, request, start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY, task_queue=queue("io")
            )

    @workflow.update
    def requested(self) -> int:
        """Asks the sync to take in everything stored so far; returns how many requests it has had."""
        self._requests += 1
        return self._requests


async def _bounded(steps: list[Coroutine[Any, Any, None]], concurrency: int) -> None:
    """Runs the steps in order, `concurrency` at a time: each one done makes room for the next."""
    in_flight: set[asyncio.Task[None]] = set()
    started = []
    for step in steps:
        await workflow.wait_condition(lambda: len(in_flight) < concurrency)
        task = asyncio.create_task(step)
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        started.append(task)
    await asyncio.gather(*started)


@workflow.defn
class ScheduledEmailSync:
    """What the user's sync schedule starts: a request to their one email sync (see activities/sync_requests.py)."""

    @workflow.run
    async def run(self, request: SyncInput) -> str:
        return await workflow.execute_activity_method(
            SyncRequests.request_sync,
            request,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
            task_queue=queue("io"),
        )
