"""When the language model fails, a job fails with a reason a person understands, after the right retries."""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path

from httpx import AsyncClient as Client

from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import isolated_api, service_env, sign_up, start_worker, wait_ready
from tests.standins.openai_api import Behaviour, running


async def first_answer(api: Client, auth: dict[str, str]) -> tuple[dict, float]:  # type: ignore[type-arg]
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    started = time.monotonic()
    job = (await api.post(f"/rooms/{room_id}/ai/message", json={"text": "Hello, I'm Ada."}, headers=auth)).json()
    for _ in range(4):
        view = (await api.get(f"/rooms/{room_id}/ai/message/{job['job_id']}", params={"wait": 25}, headers=auth)).json()
        if view["status"] in ("completed", "failed"):
            return view, time.monotonic() - started
    raise AssertionError("the job did not finish")


async def test_a_rejected_key_fails_at_once_and_unusable_output_fails_after_three_tries(
    db: None, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    behaviour = Behaviour(status=401)
    async with running(behaviour) as base_url:
        queue = f"llm-failures-{uuid.uuid4()}"
        env = service_env(
            settings, endpoints, MOCKI_INTERVIEW_TASK_QUEUE=queue, OPENAI_API_KEY="sk-standin", OPENAI_BASE_URL=base_url
        )
        worker = start_worker(env, tmp_path / "ready", tmp_path / "worker.log")
        try:
            await wait_ready(tmp_path / "ready")
            async with isolated_api(settings, endpoints, MOCKI_INTERVIEW_TASK_QUEUE=queue) as isolated:
                auth, _ = await sign_up(isolated.client)
                rejected, seconds = await first_answer(isolated.client, auth)
                assert rejected["status"] == "failed", rejected
                assert rejected["error"] == (
                    "the AI provider refused our credentials; an operator must fix the API key"
                )
                assert seconds < 5  # not retried
                assert len([r for r in behaviour.requests if r[0] == "chat"]) == 1

                behaviour.status = 200
                behaviour.chat_content = '{"score": "high"}'
                behaviour.requests.clear()
                garbled, seconds = await first_answer(isolated.client, auth)
                assert garbled["status"] == "failed", garbled
                assert garbled["error"] == "the AI's answer could not be understood, even after retrying; try again"
                assert len([r for r in behaviour.requests if r[0] == "chat"]) == 3  # retried 5 s, then 10 s later
                assert seconds >= 15
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
