"""The embedded stack: real services on loopback, kept data, supervision, and clean stops."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import psutil
import pytest
from livekit import api as livekit_api
from redis.asyncio import Redis
from temporalio.client import Client, WorkflowExecutionStatus

from activities.mail_classifier import OFFLINE_PROVIDER
from stack.services import Endpoints, LocalStack, StackError
from stack.settings import Settings, load_settings
from stack.supervisor import ProcessSpec, Supervisor, free_port, port_open
from stack.temporal import connect


async def test_postgres_16_with_pgvector_and_migrations(db: None, endpoints: Endpoints) -> None:
    connection = await asyncpg.connect(endpoints.database_url)
    try:
        version = await connection.fetchval("SHOW server_version")
        assert version.startswith("16.")
        assert await connection.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        distance = await connection.fetchval("SELECT '[1,0,0]'::vector <=> '[0,1,0]'::vector")
        assert distance == pytest.approx(1.0)
        tables = {r["tablename"] for r in await connection.fetch("SELECT tablename FROM pg_tables")}
        assert {"room", "transcript_turn", "interview_report"} <= tables
    finally:
        await connection.close()


async def test_redis_temporal_and_livekit_answer(endpoints: Endpoints, settings: Settings) -> None:
    redis = Redis.from_url(endpoints.redis_url)
    assert await redis.ping()
    await redis.aclose()
    client = await connect(endpoints.temporal_address)
    assert await client.service_client.check_health()
    # A real LiveKit API call, signed with the keys the embedded server was started with.
    http_url = endpoints.livekit_url.replace("ws://", "http://")
    async with livekit_api.LiveKitAPI(http_url, settings.livekit_api_key, settings.livekit_api_secret) as lk:
        room = await lk.room.create_room(livekit_api.CreateRoomRequest(name="stack-check"))
        assert room.name == "stack-check"
        listed = await lk.room.list_rooms(livekit_api.ListRoomsRequest(names=["stack-check"]))
        assert [r.name for r in listed.rooms] == ["stack-check"]


async def test_a_restarted_stack_keeps_its_data_and_a_data_folder_serves_one_stack(tmp_path: Path) -> None:
    settings = load_settings({"MOCKI_DATA_DIR": str(tmp_path)})
    stack = LocalStack(settings, ports="free")
    endpoints = stack.start()
    try:
        with pytest.raises(StackError, match="in use by another mocki stack"):
            LocalStack(settings, ports="free").start()
        connection = await asyncpg.connect(endpoints.database_url)
        await connection.execute("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')")
        await connection.close()
        redis = Redis.from_url(endpoints.redis_url)
        await redis.set("kept", "yes")
        await redis.aclose()
    finally:
        stack.stop()
    endpoints = stack.start()
    try:
        connection = await asyncpg.connect(endpoints.database_url)
        assert await connection.fetchval("SELECT note FROM kept") == "still here"
        await connection.close()
        redis = Redis.from_url(endpoints.redis_url)
        assert await redis.get("kept") == b"yes"
        await redis.aclose()
    finally:
        stack.stop()


def test_the_supervisor_restarts_a_service_that_crashes(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    port = free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    supervisor.start(ProcessSpec("redis", argv, port))
    try:
        first = next(c.pid for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port and c.pid)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 15
        second = None
        while time.monotonic() < deadline and second in (None, first):
            time.sleep(0.2)
            pids = [c.pid for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port and c.pid]
            second = pids[0] if pids else None
        assert second not in (None, first), "redis was not restarted"
    finally:
        supervisor.stop()
    assert not port_open(port)


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _started_mocki(command: str, data_dir: Path, api_port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "MOCKI_DATA_DIR": str(data_dir),
        "MOCKI_PORTS": "free",
        "MOCKI_API_PORT": str(api_port),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "TEMPORAL_ADDRESS", "LIVEKIT_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "stack.cli", command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_ctrl_c_on_mocki_up_leaves_no_process_and_no_listening_port(tmp_path: Path) -> None:
    api_port = free_port()
    up = _started_mocki("up", tmp_path, api_port)
    assert up.stdout is not None
    output = []
    for line in up.stdout:
        output.append(line)
        if "Ctrl-C stops everything" in line:
            break
    text = "".join(output)
    assert "Ctrl-C stops everything" in text, text
    for label in ("API docs", "Temporal UI", "LiveKit", "Postgres", "Redis"):
        assert label in text
    ports = {int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", text)}
    assert api_port in ports and len(ports) >= 6
    children = _descendants(up.pid)
    assert len(children) >= 6  # postgres, redis, temporal, livekit, worker, api (and their helpers)
    assert all(port_open(p) for p in ports)

    up.send_signal(signal.SIGINT)
    try:
        assert up.wait(timeout=60) == 0, up.stdout.read()
    except BaseException:  # a failed stop leaves nothing behind for the tests after this one
        for process in [up, *children]:
            with contextlib.suppress(ProcessLookupError, psutil.NoSuchProcess):
                process.kill()
        raise
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert not [p for p in ports if port_open(p)]


def test_the_demo_runs_an_interview_whose_workflow_stays_visible_as_completed(tmp_path: Path) -> None:
    demo = _started_mocki("demo", tmp_path, free_port())
    output, _ = demo.communicate(timeout=300)
    assert demo.returncode == 0, output
    assert "== Report ==" in output
    assert "scored by: offline:question-bank" in output
    assert "Interviewer: Hello Ada" in output
    # Planned from the sample resume and job description it uploaded, with each question's source.
    assert "== Resume vs job description: 72/100" in output, output
    assert "I see you've been Senior Backend Engineer at Acme Payments since 2019." in output
    assert "[from requirements chunk 5: the job asks for distributed systems" in output, output
    # A sample mailbox imported and analysed into applications with their timelines.
    assert "== Mail import: 15 emails imported" in output, output
    assert "Lumen Health - Backend Engineer: offer" in output, output
    scheduled = r"interview_scheduled .*\[interview \d{4}-\d\d-\d\dT15:00\]  \(" + re.escape(OFFLINE_PROVIDER) + r"\)"
    assert re.search(scheduled, output), output
    assert "3 emails were not about an application" in output, output
    # The todos it made, with their reminders ahead, and the offer's email in the outbox (no Resend key).
    assert re.search(r"\[TODO\] Reply to Lumen Health's offer by \w{3} \d{1,2} \w{3} \d{4}", output), output
    assert re.search(r"reminder scheduled for .* UTC  \(reminder-", output), output
    assert re.search(r"An offer from Lumen Health  \(.*outbox/.*\.eml\)", output), output
    # Tailspin's invitation, back to practice: a mock interview for the role, the focus from the demo's interview.
    assert "== Prep plan: Tailspin Toys invited you to interview ==" in output, output
    assert "mock interview for Mobile Engineer" in output and "Practise a mock Mobile Engineer interview" in output
    assert re.search(r"  focus: \w+", output) and "nothing seen yet" not in output, output
    # Shared postings recommended against the resume and applications, Contoso (which said no) left out; the digest.
    assert "== Job postings: a recruiter imported 11 new, 0 unchanged (shared) ==" in output, output
    assert re.search(r"  1\. .* at (Fabrikam Pay|Northwind Traders|Woodgrove Bank)  \(0\.\d\d\)  close to your", output)
    assert re.search(r"  left out: Contoso \(turned you down on \d\d \w{3} \d{4}\)", output), output
    assert re.search(r"  sent: 5 postings recommended", output), output
    assert re.search(r"  Your week: 5 jobs you may like  \(.*outbox/.*\.eml\)", output), output
    # One voice exchange in a LiveKit room, with its latency as heard and as the agent recorded it.
    assert re.search(r"Candidate hears: .*welcome to your", output, re.IGNORECASE), output
    assert re.search(r"Voice to voice, as the candidate heard it: \d+ ms", output), output
    assert re.search(r"As the agent recorded it .*voice to voice \d+ ms \(local:faster-whisper", output), output
    workflow_id = re.search(r"workflows/([0-9a-f-]{36})", output)
    assert workflow_id, output

    # Afterwards: the same data folder, started again, still has the workflow, completed.
    stack = LocalStack(load_settings({"MOCKI_DATA_DIR": str(tmp_path)}), ports="free")
    endpoints = stack.start()
    try:

        async def status() -> WorkflowExecutionStatus | None:
            client: Client = await connect(endpoints.temporal_address)
            return (await client.get_workflow_handle(workflow_id.group(1)).describe()).status

        assert asyncio.run(status()) == WorkflowExecutionStatus.COMPLETED
    finally:
        stack.stop()
