"""A worker killed with SIGKILL mid-turn loses nothing: a new worker finishes the turn, with no duplicates."""

from __future__ import annotations

import signal
import uuid
from collections import Counter
from pathlib import Path

from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import isolated_api, service_env, sign_up, start_worker, wait_ready


async def test_a_worker_killed_mid_turn_loses_and_duplicates_nothing(
    db: None, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    queue = f"durability-{uuid.uuid4()}"  # only the workers started here serve this queue
    env = service_env(settings, endpoints, MOCKI_INTERVIEW_TASK_QUEUE=queue)
    ready, log = tmp_path / "worker.ready", tmp_path / "worker.log"
    first = start_worker(env, ready, log)
    try:
        await wait_ready(ready)
        async with isolated_api(settings, endpoints, MOCKI_INTERVIEW_TASK_QUEUE=queue) as isolated:
            api = isolated.client
            auth, _ = await sign_up(api)
            room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
            path = f"/rooms/{room_id}/ai/message"
            one = (await api.post(path, json={"text": "I build payment systems in Python."}, headers=auth)).json()
            assert (await api.get(f"{path}/{one['job_id']}", params={"wait": 20}, headers=auth)).json()["status"] == (
                "completed"
            )

            two = (await api.post(path, json={"text": "Once I disagreed about a queue."}, headers=auth)).json()
            first.send_signal(signal.SIGKILL)  # mid-turn: the update is accepted and its activities are running
            first.wait()
            unfinished = await api.get(f"{path}/{two['job_id']}", headers=auth)
            assert unfinished.json()["status"] == "running"  # the kill landed mid-turn
            second = start_worker(env, ready, log)
            try:
                await wait_ready(ready)
                done = await api.get(f"{path}/{two['job_id']}", params={"wait": 30}, headers=auth)
                if done.json()["status"] != "completed":  # the killed activity waits out its timeout first
                    done = await api.get(f"{path}/{two['job_id']}", params={"wait": 30}, headers=auth)
                assert done.json()["status"] == "completed", done.text
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
