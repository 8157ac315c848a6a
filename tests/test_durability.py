"""A worker killed with SIGKILL mid-turn loses nothing: a new worker finishes the turn, with no duplicates.

The interviewer is the OpenAI SDK against a stand-in that takes 3 s to answer, so the kill lands inside the
model call for certain (offline turns take a few milliseconds, too quick to interrupt on purpose).
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections import Counter
from pathlib import Path

from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import isolated_api, service_env, sign_up, start_worker, wait_ready
from tests.standins.openai_api import Behaviour, running


async def test_a_worker_killed_mid_turn_loses_and_duplicates_nothing(
    db: None, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    behaviour = Behaviour(chat_delay_seconds=3)
    async with running(behaviour) as base_url:
        await _kill_mid_turn(settings, endpoints, tmp_path, behaviour, base_url)


async def _kill_mid_turn(
    settings: Settings, endpoints: Endpoints, tmp_path: Path, behaviour: Behaviour, base_url: str
) -> None:
    queue = f"durability-{uuid.uuid4()}"  # only the workers started here serve this queue
    model = {"OPENAI_API_KEY": "sk-standin", "OPENAI_BASE_URL": base_url}
    env = service_env(settings, endpoints, MOCKI_TASK_QUEUE_PREFIX=queue, **model)
    ready, log = tmp_path / "worker.ready", tmp_path / "worker.log"
    first = start_worker(env, ready, log)
    try:
        await wait_ready(ready)
        async with isolated_api(
            settings, endpoints, MOCKI_TASK_QUEUE_PREFIX=queue, MOCKI_MODEL_RETRY_SECONDS="0.5", **model
        ) as isolated:
            api = isolated.client
            auth, _ = await sign_up(api)
            room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
            path = f"/rooms/{room_id}/ai/message"
            one = (await api.post(path, json={"text": "I build payment systems in Python."}, headers=auth)).json()
            assert (await api.get(f"{path}/{one['job_id']}", params={"wait": 20}, headers=auth)).json()["status"] == (
                "completed"
            )

            two = (await api.post(path, json={"text": "Once I disagreed about a queue."}, headers=auth)).json()
            for _ in range(200):  # until the second answer's model call has begun
                if len(behaviour.chat_arrivals) >= 2:  # the first answer's call, then this one
                    break
                await asyncio.sleep(0.05)
            first.send_signal(signal.SIGKILL)  # mid-turn: inside the model call
            first.wait()
            unfinished = await api.get(f"{path}/{two['job_id']}", headers=auth)
            assert unfinished.json()["status"] == "running"  # the kill landed mid-turn
            second = start_worker(env, ready, log)
            try:
                await wait_ready(ready)
                # The missed heartbeats (5 s) fail the killed attempt; the new worker retries it.
                done = await api.get(f"{path}/{two['job_id']}", params={"wait": 30}, headers=auth)
                assert done.json()["status"] == "completed", done.text
                assert len(behaviour.chat_arrivals) == 3  # the killed call, then its retry
                three = await api.post(path, json={"text": "Indexes use B-trees for log n lookups."}, headers=auth)
                finished = await api.get(f"{path}/{three.json()['job_id']}", params={"wait": 30}, headers=auth)
                assert finished.json()["status"] == "completed"
            finally:
                second.send_signal(signal.SIGTERM)
                second.wait(timeout=30)
            turns = (await api.get(f"/rooms/{room_id}/ai/messages", headers=auth)).json()["items"]
    finally:
        if first.poll() is None:
            first.kill()
    assert [t["seq"] for t in turns] == list(range(7))
    assert [t["speaker"] for t in turns] == ["ai", "candidate", "ai", "candidate", "ai", "candidate", "ai"]
    candidate_texts = Counter(t["text"] for t in turns if t["speaker"] == "candidate")
    assert all(count == 1 for count in candidate_texts.values())
