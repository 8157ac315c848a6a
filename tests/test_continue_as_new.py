"""A long-running room continues as new (a fresh workflow history) without losing its state or its jobs."""

from __future__ import annotations

from temporalio.client import Client as TemporalClient
from temporalio.client import WorkflowExecutionStatus

from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import isolated_api, sign_up
from tests.test_review import PASSES, job_result
from workflows.worker import WorkerGroup


async def test_a_peer_room_open_all_day_continues_as_new_and_keeps_its_hints_reviews_and_jobs(
    worker: WorkerGroup, settings: Settings, endpoints: Endpoints, temporal: TemporalClient
) -> None:
    async with isolated_api(settings, endpoints, MOCKI_HISTORY_EVENT_LIMIT="50") as isolated:
        api = isolated.client
        auth, _ = await sign_up(api)
        body = {"role": "Backend Engineer", "mode": "peer", "coding_question_id": "code-valid-parentheses"}
        room_id = (await api.post("/rooms", json=body, headers=auth)).json()["room_id"]
        handle = temporal.get_workflow_handle(room_id)

        first_hint = await job_result(api, f"/rooms/{room_id}/ai/hint", auth, {})
        assert first_hint["level"] == 1
        first_run = (await handle.describe()).run_id
        # A review not polled until the run that accepted it has been replaced.
        unpolled = (await api.post(f"/rooms/{room_id}/ai/review", json={"code": PASSES}, headers=auth)).json()
        attempts = []
        while (await handle.describe()).run_id == first_run and len(attempts) < 8:
            review = await job_result(api, f"/rooms/{room_id}/ai/review", auth, {"code": PASSES + f"# {len(attempts)}"})
            attempts.append(review["attempt"])
        second_hint = await job_result(api, f"/rooms/{room_id}/ai/hint", auth, {})

        # The history grew past 50 events and a new run took over.
        assert (await handle.describe()).run_id != first_run
        first = await temporal.get_workflow_handle(room_id, run_id=first_run).describe()
        assert first.status == WorkflowExecutionStatus.CONTINUED_AS_NEW

        assert attempts == list(range(2, 2 + len(attempts)))  # numbering carried across runs
        assert second_hint["level"] == 2  # the hint ladder too
        late = await api.get(f"/rooms/{room_id}/ai/review/{unpolled['job_id']}", params={"wait": 20}, headers=auth)
        assert late.status_code == 200, late.text
        assert late.json()["status"] == "completed" and late.json()["result"]["attempt"] == 1

        transcript = (await api.get(f"/rooms/{room_id}/ai/messages", headers=auth)).json()["items"]
        assert [t["seq"] for t in transcript] == [0, 1]  # the two hints, numbered on across runs
        room = (await api.get(f"/rooms/{room_id}", headers=auth)).json()
        assert (room["stage"], room["interviewer"], room["mode"]) == ("coding", "human", "peer")
