"""Layered hints for the coding question: nudge, approach, near-solution; aware of the last test run; limited."""

from __future__ import annotations

import pytest
from httpx import AsyncClient as Client
from temporalio.client import Client as TemporalClient
from temporalio.client import WorkflowUpdateFailedError

from activities.question_bank import QuestionBank
from schema.interview import AskHint
from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import isolated_api, sign_up
from tests.test_review import FAILS_EDGE_CASES, job_result, room_at_coding_stage
from workflows.interview import InterviewWorkflow
from workflows.worker import WorkerGroup

LADDER = QuestionBank.packaged().get("code-valid-parentheses").hints


async def test_three_hint_levels_then_none_and_each_goes_into_the_transcript(
    api: Client, temporal: TemporalClient
) -> None:
    room_id, auth = await room_at_coding_stage(api)
    first = await job_result(api, f"/rooms/{room_id}/ai/hint", auth, {})
    assert first == {
        "question_id": "code-valid-parentheses",
        "level": 1,
        "levels": 3,
        "text": LADDER[0],
        "provider": "question-bank",
    }
    await job_result(api, f"/rooms/{room_id}/ai/review", auth, {"code": FAILS_EDGE_CASES})
    second = await job_result(api, f"/rooms/{room_id}/ai/hint", auth, {"code": FAILS_EDGE_CASES})
    assert second["level"] == 2
    assert second["text"].startswith(LADDER[1])
    assert "Your last run fails the 'only opening' test (it returned True)." in second["text"]
    third = await job_result(api, f"/rooms/{room_id}/ai/hint", auth, {})
    assert third["level"] == 3
    # A fourth request stops at the rate limit (3 per 5 minutes); the ladder's own end is the workflow's answer.
    assert (await api.post(f"/rooms/{room_id}/ai/hint", json={}, headers=auth)).status_code == 429
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await temporal.get_workflow_handle(room_id).execute_update(InterviewWorkflow.request_hint, AskHint())
    assert "all 3 hints for this question are used" in str(refused.value.cause)
    said = [t["text"] for t in (await api.get(f"/rooms/{room_id}/ai/messages", headers=auth)).json()["items"]]
    assert [t.split(":")[0] for t in said if t.startswith("Hint")] == ["Hint 1", "Hint 2", "Hint 3"]


async def test_hints_outside_the_coding_question_are_refused(api: Client) -> None:
    auth, _ = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    refused = await api.post(f"/rooms/{room_id}/ai/hint", json={}, headers=auth)
    assert refused.status_code == 409
    assert "hints are for the coding question" in refused.json()["detail"]


async def test_three_hints_per_five_minutes_per_room(
    worker: WorkerGroup, settings: Settings, endpoints: Endpoints
) -> None:
    async with isolated_api(settings, endpoints) as isolated:
        room_id, auth = await room_at_coding_stage(isolated.client)
        statuses = [
            (await isolated.client.post(f"/rooms/{room_id}/ai/hint", json={}, headers=auth)).status_code
            for _ in range(4)
        ]
        assert statuses[:3] == [202, 202, 202]
        assert statuses[3] == 429
        limited = await isolated.client.post(f"/rooms/{room_id}/ai/hint", json={}, headers=auth)
        assert "your hints in this room allow 3 per 300 s" in limited.json()["detail"]
        assert 1 <= int(limited.headers["retry-after"]) <= 300
