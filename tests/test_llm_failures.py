"""When the language model fails, a job fails with a reason a person understands, after the right retries.

Each test runs its own worker (real OpenAI SDK -> the wire-format stand-in) and its own API, which share a Redis
of their own so the circuit breaker's state belongs to the test.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from httpx import AsyncClient as Client
from temporalio.client import Client as TemporalClient

from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import IsolatedApi, isolated_api, service_env, sign_up, start_worker, wait_ready
from tests.standins.openai_api import Behaviour, running


@asynccontextmanager
async def openai_room_service(
    settings: Settings,
    endpoints: Endpoints,
    tmp_path: Path,
    behaviour: Behaviour,
    *,
    worker_args: tuple[str, ...] = (),
    **env: str,
) -> AsyncIterator[IsolatedApi]:
    """An API and a worker whose LLM is OpenAI's SDK talking to the stand-in; `env` goes to both, `worker_args` to
    `mocki worker`."""
    async with running(behaviour) as base_url:
        queue = f"llm-failures-{uuid.uuid4()}"
        shared = {"MOCKI_TASK_QUEUE_PREFIX": queue, "OPENAI_API_KEY": "sk-standin", "OPENAI_BASE_URL": base_url}
        async with isolated_api(settings, endpoints, **shared, **env) as isolated:
            worker_env = service_env(settings, endpoints, **shared, **env, REDIS_URL=isolated.redis_url)
            worker: subprocess.Popen[bytes] = start_worker(
                worker_env, tmp_path / "ready", tmp_path / "worker.log", "worker", *worker_args
            )
            try:
                await wait_ready(tmp_path / "ready")
                yield isolated
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)


async def new_room(api: Client, auth: dict[str, str]) -> str:
    response = await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)
    assert response.status_code == 201, response.text
    return str(response.json()["room_id"])


async def answer(api: Client, auth: dict[str, str], room_id: str, text: str = "Hello, I'm Ada.") -> str:
    response = await api.post(f"/rooms/{room_id}/ai/message", json={"text": text}, headers=auth)
    assert response.status_code == 202, response.text
    return str(response.json()["job_id"])


async def outcome(api: Client, auth: dict[str, str], room_id: str, job_id: str) -> tuple[int, dict[str, Any]]:
    """Long-poll until the job is finished; the HTTP status and the job view."""
    for _ in range(6):
        response = await api.get(f"/rooms/{room_id}/ai/message/{job_id}", params={"wait": 20}, headers=auth)
        view = response.json()
        if view["status"] in ("completed", "failed"):
            return response.status_code, view
    raise AssertionError("the job did not finish")


async def test_a_rejected_key_fails_at_once_and_unusable_output_is_retried_with_backoff_then_fails(
    db: None, settings: Settings, endpoints: Endpoints, temporal: TemporalClient, tmp_path: Path
) -> None:
    behaviour = Behaviour(status=401)
    async with openai_room_service(settings, endpoints, tmp_path, behaviour, MOCKI_MODEL_RETRY_SECONDS="1") as isolated:
        api = isolated.client
        auth, _ = await sign_up(api)
        room_id = await new_room(api, auth)
        started = time.monotonic()
        status, rejected = await outcome(api, auth, room_id, await answer(api, auth, room_id))
        assert (status, rejected["status"], rejected["reason"]) == (200, "failed", "provider_rejected"), rejected
        assert rejected["error"] == "the AI provider refused our credentials; an operator must fix the API key"
        assert rejected["workflow_id"] == room_id
        assert time.monotonic() - started < 5  # not retried
        assert len(behaviour.chat_arrivals) == 1

        behaviour.status = 200
        behaviour.chat_content = '{"score": "high"}'
        behaviour.chat_arrivals.clear()
        job_id = await answer(api, auth, room_id, "My name is Ada and I build payment systems.")
        progress = set()
        while True:  # the poll says what the job is waiting for while it is retried
            view = (await api.get(f"/rooms/{room_id}/ai/message/{job_id}", headers=auth)).json()
            if view["status"] == "failed":
                break
            progress.add((view["status"], view.get("progress")))
            await asyncio.sleep(0.2)
        assert view["reason"] == "invalid_output", view
        assert view["error"] == "the AI's answer could not be understood, even after retrying; try again"
        retrying = "retrying after a failure (the AI's answer could not be understood, even after retrying; try again)"
        assert {("queued", f"{retrying}: attempt {n} of 4") for n in (2, 3, 4)} <= progress, progress
        # One try and three retries, 1 s, 2 s and 4 s apart (5, 10 and 20 s with the default setting).
        arrivals = behaviour.chat_arrivals
        gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
        assert len(arrivals) == 4, arrivals
        for gap, backoff in zip(gaps, (1, 2, 4), strict=True):
            assert backoff - 0.1 <= gap <= backoff + 1.5, gaps
    history = await temporal.get_workflow_handle(room_id).fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "respond"
    ]
    policy = scheduled[-1].retry_policy
    assert (policy.initial_interval.seconds, policy.backoff_coefficient, policy.maximum_attempts) == (1, 2.0, 4)


async def test_a_timing_out_provider_gives_504_then_its_open_circuit_503_until_it_recovers(
    db: None, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    behaviour = Behaviour(chat_delay_seconds=3)
    env = {
        "LLM_TIMEOUT_SECONDS": "0.5",
        "MOCKI_MODEL_RETRY_SECONDS": "0.2",
        "LLM_BREAKER_FAILURES": "5",
        "LLM_BREAKER_COOLDOWN_SECONDS": "4",
    }
    async with openai_room_service(settings, endpoints, tmp_path, behaviour, **env) as isolated:
        api = isolated.client
        auth, _ = await sign_up(api)
        room_id = await new_room(api, auth)

        # Four calls time out (one try, three retries): the job fails and its poll is a gateway timeout.
        first = await answer(api, auth, room_id)
        status, view = await outcome(api, auth, room_id, first)
        assert (status, view["reason"]) == (504, "provider_timeout"), view
        assert view["error"] == "the AI provider did not answer in time, even after retrying; try again"
        again = await api.get(f"/rooms/{room_id}/ai/message/{first}", headers=auth)
        assert again.status_code == 504  # the cached outcome answers the same way
        ready = (await api.get("/ready")).json()
        assert ready["llm"] == {"provider": "openai:gpt-4o-mini", "circuit": "closed", "recent_failures": 4}

        # The fifth failure in a row opens the circuit: the retry is refused without calling the provider.
        second = await answer(api, auth, room_id, "Hello again, I'm Ada.")
        status, view = await outcome(api, auth, room_id, second)
        assert (status, view["reason"]) == (503, "provider_unavailable"), view
        assert int((await api.get(f"/rooms/{room_id}/ai/message/{second}", headers=auth)).headers["Retry-After"]) >= 1
        assert len(behaviour.chat_arrivals) == 5

        refused = await api.post(f"/rooms/{room_id}/ai/message", json={"text": "Are you there?"}, headers=auth)
        assert refused.status_code == 503, refused.text
        assert "the AI interviewer has paused" in refused.json()["detail"]
        retry_after = int(refused.headers["Retry-After"])
        assert 1 <= retry_after <= 4
        ready_response = await api.get("/ready")
        assert ready_response.status_code == 200  # rooms, transcripts and reports still work
        assert ready_response.json()["llm"]["circuit"] == "open"
        transcript = await api.get(f"/rooms/{room_id}/ai/messages", headers=auth)
        assert transcript.status_code == 200
        assert [t["speaker"] for t in transcript.json()["items"]] == ["ai", "candidate", "candidate"]

        # After the cooldown one trial call goes through; it succeeds and the circuit closes.
        behaviour.chat_delay_seconds = 0
        await asyncio.sleep(retry_after + 0.2)
        assert (await api.get("/ready")).json()["llm"]["circuit"] == "half_open"
        status, view = await outcome(api, auth, room_id, await answer(api, auth, room_id, "Still here, it's Ada."))
        assert (status, view["status"]) == (200, "completed"), view
        assert view["result"]["provider"] == "openai:gpt-4o-mini"
        assert (await api.get("/ready")).json()["llm"] == {"provider": "openai:gpt-4o-mini", "circuit": "closed"}
