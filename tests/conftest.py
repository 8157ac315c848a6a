"""The real services, started once per test session on free ports under a temporary data folder."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from temporalio.client import Client

from activities.question_bank import QuestionBank
from stack import database
from stack.cli import child_env
from stack.services import Endpoints, LocalStack
from stack.settings import Settings, load_settings
from stack.supervisor import ProcessSpec, Supervisor, free_port
from stack.temporal import connect
from workflows.worker import WorkerGroup, mocki_workers

SHARED = Path(__file__).resolve().parents[2] / "shared"
PASSWORD = "correct horse battery staple"


async def sign_up(api: httpx.AsyncClient, role: str = "candidate", name: str = "Ada") -> tuple[dict[str, str], str]:
    """A new account through the API: its Authorization header and its email."""
    email = f"{role}-{uuid.uuid4().hex[:12]}@test.mocki.local"
    response = await api.post(
        "/auth/signup", json={"email": email, "password": PASSWORD, "display_name": name, "role": role}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}, email


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Offline providers and a task queue of this session's own, whatever the developer's environment says.
    return load_settings(
        {
            "MOCKI_DATA_DIR": str(tmp_path_factory.mktemp("mocki-data")),
            "MOCKI_PORTS": "free",
            "MOCKI_TASK_QUEUE_PREFIX": f"t{uuid.uuid4().hex[:8]}-",
        }
    )


@pytest.fixture(scope="session")
def started_stack(settings: Settings) -> Iterator[tuple[LocalStack, Endpoints]]:
    stack = LocalStack(settings, ports="free", durable=False)
    yield stack, stack.start()
    stack.stop()


@pytest.fixture(scope="session")
def local_stack(started_stack: tuple[LocalStack, Endpoints]) -> LocalStack:
    """The session's embedded services, for drills that restart one."""
    return started_stack[0]


@pytest.fixture(scope="session")
def endpoints(started_stack: tuple[LocalStack, Endpoints]) -> Endpoints:
    return started_stack[1]


@pytest.fixture(scope="session")
async def db(endpoints: Endpoints) -> AsyncIterator[None]:
    engine = database.bind(endpoints.database_url)
    await database.migrate()
    await engine.start_connection_pool()
    yield
    await engine.close_connection_pool()


@pytest.fixture(scope="session")
async def temporal(endpoints: Endpoints) -> Client:
    return await connect(endpoints.temporal_address)


@pytest.fixture(scope="session")
async def worker(db: None, temporal: Client, settings: Settings, endpoints: Endpoints) -> AsyncIterator[WorkerGroup]:
    redis = Redis.from_url(endpoints.redis_url)
    async with await mocki_workers(temporal, settings, redis, await QuestionBank.load()) as running:
        yield running
    await redis.aclose()


def service_env(settings: Settings, endpoints: Endpoints, **extra: str) -> dict[str, str]:
    """The environment `mocki up` gives its child processes, for this session's stack."""
    return child_env(settings, endpoints, **extra)


async def recruiter_room(api: httpx.AsyncClient) -> tuple[str, dict[str, str], dict[str, str], dict[str, str]]:
    """A room a recruiter made for a candidate, with another recruiter as interviewer."""
    candidate, candidate_email = await sign_up(api, "candidate")
    recruiter, _ = await sign_up(api, "recruiter")
    interviewer, interviewer_email = await sign_up(api, "recruiter")
    created = await api.post(
        "/rooms",
        json={
            "role": "Backend Engineer",
            "candidate_email": candidate_email,
            "interviewer_emails": [interviewer_email],
        },
        headers=recruiter,
    )
    assert created.status_code == 201, created.text
    return created.json()["room_id"], candidate, recruiter, interviewer


async def await_report(api: httpx.AsyncClient, room_id: str, auth: dict[str, str]) -> dict[str, Any]:
    """The report of an ended room, once the workflow has written it (404 until then)."""
    for _ in range(200):
        response = await api.get(f"/rooms/{room_id}/report", headers=auth)
        if response.status_code == 200:
            return response.json()  # type: ignore[no-any-return]
        assert response.status_code == 404, response.text
    raise AssertionError(f"no report for room {room_id}")


def rotate_master_key(settings: Settings, endpoints: Endpoints) -> str:
    """Runs `mocki keys rotate` against this session's stack; returns what it printed."""
    rotated = subprocess.run(
        [sys.executable, "-m", "stack.cli", "keys", "rotate"],
        env=service_env(settings, endpoints),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rotated.returncode == 0, rotated.stderr
    return rotated.stdout


def start_worker(
    env: dict[str, str], ready: Path, log: Path, command: str = "worker", *args: str
) -> subprocess.Popen[bytes]:
    """A `mocki worker` (or `mocki agent`) process of its own (env decides its task queue and providers); see
    wait_ready."""
    ready.unlink(missing_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "stack.cli", command, "--ready-file", str(ready), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def wait_ready(ready: Path) -> None:
    for _ in range(300):
        if ready.exists():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the worker did not start")


@dataclass
class IsolatedApi:
    client: httpx.AsyncClient
    redis: Supervisor  # stop it to take this API's Redis away
    redis_url: str
    log: Path  # everything the API process wrote


@asynccontextmanager
async def isolated_api(settings: Settings, endpoints: Endpoints, **env: str) -> AsyncIterator[IsolatedApi]:
    """A `mocki api` process of its own, with a Redis of its own (so its rate limits are its own)."""
    logs = settings.data_dir / f"logs-{uuid.uuid4().hex[:8]}"
    redis, app = Supervisor(logs), Supervisor(logs)
    redis_port, api_port = free_port(), free_port()
    argv = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    redis.start(ProcessSpec("redis", argv, redis_port))
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    environment = service_env(settings, endpoints, MOCKI_API_PORT=str(api_port), REDIS_URL=redis_url, **env)
    try:
        app.start(ProcessSpec("api", [sys.executable, "-m", "stack.cli", "api"], api_port, env=environment))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as client:
            yield IsolatedApi(client, redis, redis_url, app.log_path("api"))
    finally:
        app.stop()
        redis.stop()


@pytest.fixture(scope="session")
async def api(worker: WorkerGroup, settings: Settings, endpoints: Endpoints) -> AsyncIterator[httpx.AsyncClient]:
    """The API as users run it: a `mocki api` process, over HTTP."""
    port = free_port()
    supervisor = Supervisor(settings.data_dir / "logs")
    # Every test reaches this API from 127.0.0.1: one address for all of them, like users behind one NAT. The
    # per-address limit itself is tested on isolated APIs, with the default.
    env = service_env(settings, endpoints, MOCKI_API_PORT=str(port), MOCKI_AI_REQUESTS_PER_IP_PER_MINUTE="100000")
    supervisor.start(ProcessSpec("api", [sys.executable, "-m", "stack.cli", "api"], port, env=env))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=40) as client:
        yield client
    supervisor.stop()
