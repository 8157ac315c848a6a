"""The real services, started once per test session on free ports under a temporary data folder."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from stack import database
from stack.services import Endpoints, LocalStack
from stack.settings import Settings, load_settings
from stack.supervisor import ProcessSpec, Supervisor, free_port
from stack.temporal import connect
from workflows.worker import interview_worker

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
            "MOCKI_INTERVIEW_TASK_QUEUE": f"interview-{uuid.uuid4()}",
        }
    )


@pytest.fixture(scope="session")
def endpoints(settings: Settings) -> Iterator[Endpoints]:
    stack = LocalStack(settings, ports="free", durable=False)
    yield stack.start()
    stack.stop()


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
async def worker(db: None, temporal: Client, settings: Settings) -> AsyncIterator[Worker]:
    async with interview_worker(temporal, settings) as running:
        yield running


def service_env(settings: Settings, endpoints: Endpoints, **extra: str) -> dict[str, str]:
    """The environment `mocki up` gives its child processes, for this session's stack."""
    return {
        **os.environ,
        "MOCKI_DATA_DIR": str(settings.data_dir),
        "MOCKI_INTERVIEW_TASK_QUEUE": settings.interview_task_queue,
        "DATABASE_URL": endpoints.database_url,
        "REDIS_URL": endpoints.redis_url,
        "TEMPORAL_ADDRESS": endpoints.temporal_address,
        "LIVEKIT_URL": endpoints.livekit_url,
        **extra,
    }


@pytest.fixture(scope="session")
async def api(worker: Worker, settings: Settings, endpoints: Endpoints) -> AsyncIterator[httpx.AsyncClient]:
    """The API as users run it: a `mocki api` process, over HTTP."""
    port = free_port()
    supervisor = Supervisor(settings.data_dir / "logs")
    env = service_env(settings, endpoints, MOCKI_API_PORT=str(port))
    supervisor.start(ProcessSpec("api", [sys.executable, "-m", "stack.cli", "api"], port, env=env))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=40) as client:
        yield client
    supervisor.stop()
