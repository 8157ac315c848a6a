"""Fault drill: Postgres restarted (fast shutdown, POSTGRES_DOWN_SECONDS down, started again) while candidates
answer their interviewers and poll their rooms. `tests/test_fault_drills.py` asserts what users see (no answer
lost or recorded twice, at most 1% server errors while Postgres was away); `python -m bench drills` adds the
figures (outage, recovery).

Each candidate answers at most once per ANSWER_EVERY_SECONDS (the per-user answer limit is 10 a minute) and, in
between, reads their transcript and room as a room page polls.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from bench.mail_sync import signed_up
from stack.cli import child_env, migrate
from stack.services import LocalStack
from stack.settings import load_settings
from stack.supervisor import ProcessSpec, Supervisor, free_port

ANSWER_EVERY_SECONDS = 6.5
POLL_EVERY_SECONDS = 0.1
LOAD_BEFORE_SECONDS, LOAD_AFTER_SECONDS = 4.0, 7.0
POSTGRES_DOWN_SECONDS = 3.0  # about what a real restart (shutdown checkpoint, start, recovery) takes

Row = tuple[str, str, str]


@dataclass
class Request:
    started: float
    ended: float
    status: int


@dataclass
class DrillResult:
    requests: list[Request] = field(default_factory=list)
    accepted: dict[str, list[str]] = field(default_factory=dict)  # room -> answers the API took (202)
    completed: int = 0  # accepted answers whose reply came
    recorded: dict[str, list[str]] = field(default_factory=dict)  # room -> candidate turns in its transcript
    stopped_at: float = 0.0  # Postgres shut down
    back_at: float = 0.0  # Postgres accepting connections again
    caught_up_at: float = 0.0  # the last request in flight during the outage answered
    ready_while_away: tuple[int, dict[str, object]] = (0, {})  # GET /ready's status and body mid-outage
    ready_after: int = 0  # GET /ready's status once caught up

    def during_outage(self) -> list[Request]:
        return [r for r in self.requests if r.started <= self.back_at and r.ended >= self.stopped_at]

    def lost(self) -> list[str]:
        return [a for room, answers in self.accepted.items() for a in answers if a not in self.recorded[room]]

    def duplicated(self) -> list[str]:
        return [a for turns in self.recorded.values() for a in set(turns) if turns.count(a) > 1]

    @property
    def accepted_count(self) -> int:
        return sum(len(answers) for answers in self.accepted.values())


async def _prepared(http: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    """A candidate with a room whose interviewer has asked its opening question: (Authorization, room id)."""
    _, auth = await signed_up(http, "drill")
    room = (await http.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    for _ in range(200):
        if (await http.get(f"/rooms/{room}/ai/messages", headers=auth)).json()["items"]:
            break
        await asyncio.sleep(0.05)
    return auth, room


async def _candidate(
    http: httpx.AsyncClient, auth: dict[str, str], room: str, result: DrillResult, stop: asyncio.Event
) -> None:
    result.accepted[room] = []

    async def timed(method: str, path: str, **kwargs: object) -> httpx.Response:
        started = time.monotonic()
        response = await http.request(method, path, headers=auth, **kwargs)  # type: ignore[arg-type]
        result.requests.append(Request(started, time.monotonic(), response.status_code))
        return response

    while not stop.is_set():
        answered_at = time.monotonic()
        text = f"Answer {uuid.uuid4().hex[:8]}: I would shard by tenant and keep writes idempotent."
        sent = await timed("POST", f"/rooms/{room}/ai/message", json={"text": text})
        if sent.status_code == 202:
            result.accepted[room].append(text)
            job = sent.json()["job_id"]
            polled = await timed("GET", f"/rooms/{room}/ai/message/{job}", params={"wait": 30})
            reply = polled.json().get("result") or {} if polled.status_code == 200 else {}
            if reply:
                result.completed += 1
            if reply.get("finished"):
                break  # the interview is over: nothing more to answer
        while time.monotonic() - answered_at < ANSWER_EVERY_SECONDS and not stop.is_set():
            await timed("GET", f"/rooms/{room}/ai/messages", params={"limit": 200})
            await timed("GET", f"/rooms/{room}")
            await asyncio.sleep(POLL_EVERY_SECONDS)
    transcript = (await http.get(f"/rooms/{room}/ai/messages", params={"limit": 200}, headers=auth)).json()
    result.recorded[room] = [turn["text"] for turn in transcript["items"] if turn["speaker"] == "candidate"]


async def restart_postgres_under_load(api_url: str, stack: LocalStack, candidates: int) -> DrillResult:
    result = DrillResult()
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        semaphore = asyncio.Semaphore(8)

        async def prepared() -> tuple[dict[str, str], str]:
            async with semaphore:
                return await _prepared(http)

        rooms = await asyncio.gather(*(prepared() for _ in range(candidates)))
        load = [asyncio.create_task(_candidate(http, auth, room, result, stop)) for auth, room in rooms]
        await asyncio.sleep(LOAD_BEFORE_SECONDS)
        result.stopped_at = time.monotonic()
        restart = asyncio.create_task(asyncio.to_thread(stack.restart, "postgres", POSTGRES_DOWN_SECONDS))
        await asyncio.sleep(POSTGRES_DOWN_SECONDS / 2)
        ready = await http.get("/ready")
        result.ready_while_away = (ready.status_code, ready.json())
        await restart  # fast shutdown, down, started again
        result.back_at = time.monotonic()
        await asyncio.sleep(LOAD_AFTER_SECONDS)
        stop.set()
        await asyncio.gather(*load)
        result.ready_after = (await http.get("/ready")).status_code
    in_outage = result.during_outage()
    result.caught_up_at = max((r.ended for r in in_outage), default=result.back_at)
    return result


@contextmanager
def _drilled_stack() -> Iterator[tuple[LocalStack, str]]:
    """The embedded services (Postgres as durable as `mocki up` keeps it), a worker and the API, in a data folder
    of their own: (the services, the API's URL)."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings({"MOCKI_DATA_DIR": data_dir, "MOCKI_PORTS": "free"})
        stack = LocalStack(settings, ports="free")
        endpoints = stack.start()
        processes = Supervisor(settings.data_dir / "logs")
        try:
            asyncio.run(migrate(endpoints.database_url))
            ready, port = settings.data_dir / "worker.ready", free_port()
            mocki = [sys.executable, "-m", "stack.cli"]
            env = child_env(settings, endpoints, MOCKI_API_PORT=str(port))
            worker = [*mocki, "worker", "--ready-file", str(ready)]
            processes.start(ProcessSpec("worker", worker, None, env=env, ready_check=ready.exists))
            processes.start(ProcessSpec("api", [*mocki, "api"], port, env=env))
            yield stack, f"http://127.0.0.1:{port}"
        finally:
            processes.stop()
            stack.stop()


def run() -> list[Row]:
    with _drilled_stack() as (stack, api_url):
        print("restarting Postgres under a load of interview turns...", flush=True)
        result = asyncio.run(restart_postgres_under_load(api_url, stack, candidates=30))
    outage = result.during_outage()
    failed = [r for r in outage if r.status >= 500]
    return [
        ("Postgres away (shut down -> accepting again)", f"{result.back_at - result.stopped_at:.2f} s", ""),
        (
            "server errors while it was away",
            f"{len(failed)} of {len(outage)} ({100 * len(failed) / max(len(outage), 1):.1f}%)",
            "goal <= 1%",
        ),
        (
            "recovery: last request caught in the outage answered",
            f"{result.caught_up_at - result.back_at:.2f} s after Postgres was back",
            "goal <= 5 s",
        ),
        (
            "answers: accepted / replied / lost / recorded twice",
            f"{result.accepted_count} / {result.completed} / {len(result.lost())} / {len(result.duplicated())}",
            f"{len(result.requests)} requests from 30 candidates",
        ),
    ]
