"""Each user's email sync runs on a Temporal Schedule of its own, made with their first import; they set how
often, or pause it."""

from __future__ import annotations

import asyncio

import httpx
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow, WorkflowExecutionStatus
from temporalio.worker import Replayer

from stack.sample_mail import LUMEN, mbox
from stack.temporal import DATA_CONVERTER
from tests.conftest import sign_up
from tests.test_applications import import_mail, synced
from workflows.email_sync import ScheduledEmailSync


async def test_the_first_import_schedules_the_sync_which_the_user_can_change_pause_and_that_really_runs(
    api: httpx.AsyncClient, temporal: Client
) -> None:
    auth, _ = await sign_up(api)
    assert (await api.get("/applications/sync/schedule", headers=auth)).status_code == 404
    await import_mail(api, auth, mbox(*LUMEN))
    await synced(api, auth)
    schedule = (await api.get("/applications/sync/schedule", headers=auth)).json()
    assert schedule["every_minutes"] == 15 and schedule["paused"] is False and schedule["next_run_at"]
    assert schedule["schedule_id"].startswith("email-sync-every-")

    changed = await api.put("/applications/sync/schedule", json={"every_minutes": 60}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["every_minutes"] == 60
    paused = (await api.put("/applications/sync/schedule", json={"paused": True}, headers=auth)).json()
    assert paused["paused"] is True and paused["next_run_at"] is None and paused["every_minutes"] == 15
    for body in ({"every_minutes": 1}, {"every_minutes": 2000}, {"every_minutes": "often"}, {"hourly": True}):
        response = await api.put("/applications/sync/schedule", json=body, headers=auth)
        assert response.status_code == 400, (body, response.text)

    # A tick of the schedule (triggered now rather than waited for) runs the user's one email sync.
    handle = temporal.get_schedule_handle(schedule["schedule_id"])
    sync = temporal.get_workflow_handle(schedule["schedule_id"].replace("email-sync-every-", "email-sync-"))
    # The import's sync first ends (after merging it still makes todos and emails); a tick while it ran would join it.
    await sync.result()
    runs_before = (await sync.describe()).run_id
    await handle.trigger()
    for _ in range(200):
        description = await sync.describe()
        if description.run_id != runs_before and description.status == WorkflowExecutionStatus.COMPLETED:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the scheduled tick did not run the email sync")
    tick = (await handle.describe()).info.recent_actions[-1].action
    assert isinstance(tick, ScheduleActionExecutionStartWorkflow)
    history = await temporal.get_workflow_handle(tick.workflow_id).fetch_history()
    await Replayer(workflows=[ScheduledEmailSync], data_converter=DATA_CONVERTER).replay_workflow(history)

    other, _ = await sign_up(api, name="Mallory")
    assert (await api.get("/applications/sync/schedule", headers=other)).status_code == 404
    mine = (await api.put("/applications/sync/schedule", json={"every_minutes": 30}, headers=other)).json()
    assert mine["schedule_id"] != schedule["schedule_id"] and mine["every_minutes"] == 30
    assert (await api.get("/applications/sync/schedule", headers=auth)).json()["paused"] is True  # untouched
