"""One ReminderWorkflow per todo with a deadline (id `reminder-{todo}`): a durable timer to each reminder moment
(by default 24 h and 1 h before), then one email.

Started, or told to look again, by the `changed` signal (signal-with-start) whenever the todo is created, edited,
done or deleted. It reads the todo itself, so a signal carries nothing that could be stale; a deadline that moved
plans the reminders afresh; a done or deleted todo ends it. Reminders whose moment had already passed when the
deadline was set are skipped (a todo due in 3 hours gets no "due in 24 hours"); one missed while no worker ran is
sent late, unless a later reminder is due too (then only that one) or the deadline itself has passed.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.queues import queue

with workflow.unsafe.imports_passed_through():
    from activities.todos import TodoActivities
    from schema.todos import ReminderDue, ReminderInput, ReminderResult

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2, maximum_interval=timedelta(minutes=5))
STEP_TIMEOUT = timedelta(seconds=30)


@workflow.defn
class ReminderWorkflow:
    def __init__(self) -> None:
        self._changes = 0  # `changed` signals received

    @workflow.run
    async def run(self, request: ReminderInput) -> ReminderResult:
        sent = 0
        due: dt.datetime | None = None
        leads: list[int] = []  # still to send for `due`, largest (earliest) first
        while True:
            changes_seen = self._changes
            plan = await workflow.execute_activity_method(
                TodoActivities.reminder_plan,
                request,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=RETRY,
                task_queue=queue("io"),
            )
            if not plan.open or plan.due_at is None:
                if self._changes != changes_seen:
                    continue
                return ReminderResult(sent=sent, reason="done" if not plan.open else "no deadline")
            if plan.due_at != due:
                due = plan.due_at
                leads = [lead for lead in plan.leads_seconds if due - timedelta(seconds=lead) > workflow.now()]
            while len(leads) > 1 and due - timedelta(seconds=leads[1]) <= workflow.now():
                leads.pop(0)  # two reminders due at once (after an outage): the later one says enough
            if not leads or due <= workflow.now():
                if self._changes != changes_seen:
                    continue
                return ReminderResult(sent=sent, reason="all sent")
            wait = due - timedelta(seconds=leads[0]) - workflow.now()
            if wait > timedelta(0):

                def todo_changed(seen: int = changes_seen) -> bool:
                    return self._changes != seen

                try:
                    await workflow.wait_condition(todo_changed, timeout=wait)
                    continue  # the todo changed: read it again before reminding
                except TimeoutError:
                    pass
            reminded = await workflow.execute_activity_method(
                TodoActivities.send_reminder,
                ReminderDue(todo=request.todo, due_at=due, lead_seconds=leads[0]),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=RETRY,
                task_queue=queue("io"),
            )
            leads.pop(0)
            sent += int(reminded.sent)
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(request)

    @workflow.signal
    def changed(self) -> None:
        """The todo was created, edited, done or deleted: read it again."""
        self._changes += 1
