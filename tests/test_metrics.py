"""Prometheus metrics: each worker's jobs by queue, activity and outcome on its own port, and the API's
`GET /metrics` with each task queue's backlog; only this machine may scrape the API unless a token is set."""

from __future__ import annotations

import re
import signal
import uuid
from pathlib import Path

import httpx

from stack.services import Endpoints
from stack.settings import Settings
from stack.supervisor import free_port
from tests.conftest import isolated_api, service_env, sign_up, start_worker, wait_ready
from tests.standins import openai_api
from tests.test_llm_failures import openai_room_service
from tests.test_rooms_api import answer, wait_for_opening


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample `name` whose labels include `labels`, in Prometheus's text format."""
    for line in text.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
            return float(match.group(2))
    return None


async def test_workers_count_their_jobs_and_the_api_shows_each_queues_backlog(
    db: None, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    prefix = f"metered-{uuid.uuid4().hex[:8]}-"
    port = free_port()
    ready = tmp_path / "worker.ready"
    env = service_env(settings, endpoints, MOCKI_TASK_QUEUE_PREFIX=prefix)
    worker = start_worker(env, ready, tmp_path / "worker.log", "worker", "--metrics-port", str(port))
    try:
        await wait_ready(ready)
        async with isolated_api(settings, endpoints, MOCKI_TASK_QUEUE_PREFIX=prefix) as app:
            auth, _ = await sign_up(app.client)
            room = (await app.client.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
            await wait_for_opening(app.client, room, auth)
            spoken = await app.client.post(
                f"/rooms/{room}/ai/message", json={"text": "I would add an index.", "speak": True}, headers=auth
            )
            job = spoken.json()["job_id"]
            reply = await app.client.get(f"/rooms/{room}/ai/message/{job}", params={"wait": 20}, headers=auth)
            assert reply.json()["result"]["audio"], reply.text  # spoken by the local TTS in the worker

            scraped = await app.client.get("/metrics")  # from this machine: no token needed
            assert scraped.status_code == 200, scraped.text
            assert scraped.headers["content-type"].startswith("text/plain")
            for kind in ("interview", "io", "cpu"):
                for task_type in ("workflow", "activity"):
                    backlog = sample(scraped.text, "mocki_queue_backlog", queue=f"{prefix}{kind}", type=task_type)
                    assert backlog is not None and backlog >= 0, (kind, task_type, scraped.text[-2000:])

        async with httpx.AsyncClient(timeout=10) as http:
            figures = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    interview = f"{prefix}interview"
    planned = sample(figures, "mocki_job_duration_seconds_count", queue=interview, activity="plan_interview")
    assert planned == 1, figures[-3000:]
    assert sample(figures, "mocki_job_duration_seconds_count", activity="respond", outcome="ok")
    assert sample(figures, "mocki_jobs_active", queue=interview) == 0
    # The local speech model is timed like a remote one, with the seconds of audio it spoke.
    espeak = {"provider": "local:espeak-ng", "purpose": "tts"}
    assert sample(figures, "mocki_model_duration_seconds_count", **espeak, outcome="ok") == 1, figures[-3000:]
    assert (sample(figures, "mocki_audio_duration_seconds_sum", **espeak) or 0) > 0.5


async def test_the_api_metrics_need_the_token_when_one_is_set(settings: Settings, endpoints: Endpoints) -> None:
    token = "metrics-" + uuid.uuid4().hex
    async with isolated_api(settings, endpoints, MOCKI_METRICS_TOKEN=token) as app:
        assert (await app.client.get("/metrics")).status_code == 401
        wrong = await app.client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "MOCKI_METRICS_TOKEN" in wrong.json()["detail"]
        assert (await app.client.get("/metrics", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_each_model_call_is_timed_with_its_tokens_and_failures_are_counted_by_error(
    db: None, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    behaviour = openai_api.Behaviour()
    port = free_port()
    service = openai_room_service(
        settings,
        endpoints,
        tmp_path,
        behaviour,
        worker_args=("--metrics-port", str(port)),
        EMBEDDING_PROVIDER="offline",  # the question bank's vectors stay the local model's
        TTS_PROVIDER="offline",
    )
    async with service as app:
        auth, _ = await sign_up(app.client)
        room = (await app.client.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
        await wait_for_opening(app.client, room, auth)
        await answer(app.client, room, auth, "I would add an index and measure again.")
        behaviour.status = 401  # the key is revoked: the next answer's call fails at once
        refused = await app.client.post(f"/rooms/{room}/ai/message", json={"text": "And?"}, headers=auth)
        job = refused.json()["job_id"]
        polled = await app.client.get(f"/rooms/{room}/ai/message/{job}", params={"wait": 20}, headers=auth)
        assert polled.json()["status"] == "failed", polled.text
        async with httpx.AsyncClient(timeout=10) as http:
            figures = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    interview = {"provider": "openai:gpt-4o-mini", "purpose": "interview"}
    assert sample(figures, "mocki_model_duration_seconds_count", **interview, outcome="ok"), figures[-3000:]
    assert sample(figures, "mocki_model_duration_seconds_count", **interview, outcome="failed")
    assert sample(figures, "mocki_model_tokens_total", **interview, direction="input") == 10 * sample(
        figures, "mocki_model_duration_seconds_count", **interview, outcome="ok"
    )
    assert sample(figures, "mocki_model_failures_total", **interview, error="AuthenticationError") == 1
