"""Drives one InterviewWorkflow straight through Temporal; records histories for the replay tests.

`python -m tests.interview_script` starts a throwaway stack and rewrites tests/histories/interview.json: do
that only for a deliberate, versioned change of the workflow (see test_replay.py).
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

from redis.asyncio import Redis
from temporalio.client import Client, WorkflowHistory

from schema.interview import AskHint, InterviewStart, SendMessage, SubmitCode
from schema.tables import Room
from stack import database
from stack.services import LocalStack
from stack.settings import load_settings
from stack.temporal import connect
from workflows.interview import InterviewWorkflow
from workflows.worker import interview_worker

HISTORY = Path(__file__).with_name("histories") / "interview.json"
ANSWERS = [
    "I'm a backend engineer with six years of experience, currently on payments, and I enjoy distributed systems.",
    "At the time our team had a tight deadline; my task was the API. I proposed a smaller scope and as a result "
    "we shipped on time.",
    "A B-tree index avoids a full table scan; lookups become log n, but writes get slower and it needs storage.",
    "I don't know.",
    "A stack: push openers, pop on closers and compare; valid if nothing is left.",
    "What does the on-call rotation look like?",
]
CODING_AT = 4  # the medium plan's fifth question is code-valid-parentheses
SUBMISSION = "def is_valid(s):\n    return s.count('(') == s.count(')')\n"


async def run_interview(client: Client, task_queue: str) -> WorkflowHistory:
    room_id = str(uuid.uuid4())
    await Room.insert(
        Room(
            id=room_id,
            role="Backend Engineer",
            difficulty="medium",
            mode="ai",
            status="active",
            candidate_name="Replay",
        )
    )
    handle = await client.start_workflow(
        InterviewWorkflow.run,
        InterviewStart(room_id=room_id, role="Backend Engineer", candidate_name="Replay", difficulty="medium"),
        id=room_id,
        task_queue=task_queue,
    )
    for n, text in enumerate(ANSWERS):
        if n == CODING_AT:
            await handle.execute_update(InterviewWorkflow.request_hint, AskHint())
            await handle.execute_update(InterviewWorkflow.submit_code, SubmitCode(code=SUBMISSION))
            await handle.execute_update(InterviewWorkflow.request_hint, AskHint(code=SUBMISSION))
        await handle.execute_update(InterviewWorkflow.candidate_message, SendMessage(text=text))
    await handle.signal(InterviewWorkflow.end)
    await handle.result()
    return await handle.fetch_history()


async def _record() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings({"MOCKI_DATA_DIR": data_dir})
        with LocalStack(settings, ports="free", durable=False) as endpoints:
            engine = database.bind(endpoints.database_url)
            await database.migrate()
            await engine.start_connection_pool()
            client = await connect(endpoints.temporal_address)
            redis = Redis.from_url(endpoints.redis_url)
            async with interview_worker(client, settings, redis, task_queue="record"):
                history = await run_interview(client, "record")
            await redis.aclose()
            await engine.close_connection_pool()
    HISTORY.write_text(history.to_json())
    print(f"recorded {len(history.events)} events to {HISTORY}")


if __name__ == "__main__":
    asyncio.run(_record())
