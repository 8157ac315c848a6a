"""Interview turns through the workflow: latency over the model's own time, and the summary buffer's saving.

The stack, the worker and the API run as `mocki up` runs them; rooms are created through the API and the
candidate's turns are sent straight to each room's workflow (the update the API would start), so the figures
are the workflow's own. Each scripted interview is a 90-minute one cut at 40 turns: now and then a pause or a
request to hear the question again, partial answers that draw a follow-up, and full answers of about 60 words.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid

import httpx
import msgspec
from temporalio.client import Client

from activities.question_bank import QuestionBank
from bench.foundation import fresh_app, percentile
from schema.interview import InterviewerReply, InterviewReport, SendMessage
from stack.temporal import connect
from workflows.interview import InterviewWorkflow

ROOMS = 6
TURNS_PER_INTERVIEW = 40
BANK = QuestionBank.packaged()
MINUTES = 90  # a long interview: ten questions
# Words that make no rubric point, so a partial answer stays partial (about 60 words per answer in all).
FILLER = (
    "That is where I would begin, and I would check the idea against real numbers before deciding anything else "
    "with the others on that call. I have done something close to this before, and the details mattered more "
    "than the first sketch did."
)


def answer(question_id: str, *, partial: bool, n: int) -> str:
    cues = [point.cues[0] for point in BANK.get(question_id).key_points] or ["the team", "the role"]
    said = cues[:1] if partial else cues
    return f"I would think about {', '.join(said)} here. {FILLER} ({n})"


async def interview(client: Client, http: httpx.AsyncClient, samples: list[tuple[float, float]]) -> InterviewReport:
    """One 40-turn interview; appends (end-to-end ms, model ms) for each answer the model scored."""
    created = await http.post("/rooms", json={"role": "Backend Engineer", "duration_minutes": MINUTES})
    room = created.json()["room_id"]
    handle = client.get_workflow_handle_for(InterviewWorkflow.run, room)
    question_id, turns, n, followed_up, fresh = "intro-1", 1, 0, False, True
    while turns < TURNS_PER_INTERVIEW:
        n += 1
        if fresh and n % 3 == 1:  # now and then a new question first gets a pause or a request to hear it again
            text = f"Hmm, let me think for a moment ({n})." if n % 2 else f"Sorry, could you repeat that? ({n})"
        else:
            text = answer(question_id, partial=not followed_up, n=n)
        started = time.perf_counter()
        reply: InterviewerReply = await handle.execute_update(
            InterviewWorkflow.candidate_message, SendMessage(text=text)
        )
        elapsed = (time.perf_counter() - started) * 1000
        if reply.model_ms is not None and reply.intent == "answer":
            samples.append((elapsed, reply.model_ms))
        followed_up = reply.agent == "question_generation"
        fresh = reply.question_id != question_id
        question_id = reply.question_id or question_id
        turns += 2
        if reply.finished:
            break
    await http.post(f"/rooms/{room}/end")
    for _ in range(100):
        report = await http.get(f"/rooms/{room}/report")
        if report.status_code == 200:
            return msgspec.json.decode(report.content, type=InterviewReport)
        await asyncio.sleep(0.1)
    raise RuntimeError(f"no report for room {room}")


async def _run(api_url: str, temporal_address: str) -> tuple[list[tuple[float, float]], list[InterviewReport]]:
    client = await connect(temporal_address)
    samples: list[tuple[float, float]] = []
    reports: list[InterviewReport] = []
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        email = f"bench-{uuid.uuid4().hex[:10]}@bench.mocki.local"
        signed = await http.post(
            "/auth/signup", json={"email": email, "password": "bench passphrase", "display_name": "B"}
        )
        http.headers["Authorization"] = f"Bearer {signed.json()['access_token']}"
        await interview(client, http, [])  # warm-up: connections, caches, the tokenizer
        for _ in range(ROOMS):
            reports.append(await interview(client, http, samples))
    return samples, reports


def run() -> list[tuple[str, str, str]]:
    with fresh_app() as (_settings, endpoints, api_url):
        samples, reports = asyncio.run(_run(api_url, endpoints.temporal_address))
    total = [e for e, _ in samples]
    model = [m for _, m in samples]
    overhead = [e - m for e, m in samples]
    saving = [r.context for r in reports if r.context]
    turns = [1 + 2 * c.turns for c in saving]  # the greeting, then each candidate turn and its reply
    prompt = sum(c.prompt_tokens for c in saving)
    transcript = sum(c.transcript_tokens for c in saving)
    return [
        (
            "answer turn through the workflow",
            f"p50 {statistics.median(total):.1f} ms, p95 {percentile(total, 0.95):.1f} ms",
            f"{len(samples)} scored answers in {ROOMS} interviews, offline LLM",
        ),
        (
            "turns per scripted interview",
            f"{statistics.mean(turns):.0f} on average",
            "greeting, candidate turns and replies",
        ),
        (
            "  of which the model itself",
            f"p50 {statistics.median(model):.2f} ms, p95 {percentile(model, 0.95):.2f} ms",
            "offline interviewer (rubric coverage)",
        ),
        (
            "  workflow overhead over the model",
            f"p50 {statistics.median(overhead):.1f} ms, p95 {percentile(overhead, 0.95):.1f} ms",
            "goal: p95 <= 50 ms",
        ),
        (
            "summary buffer, 40-turn interview",
            f"{1 - prompt / transcript:.1%} fewer context tokens",
            f"{prompt} vs {transcript} tokens over {sum(c.turns for c in saving)} AI turns in {len(saving)} "
            f"interviews; goal >= 45%; {saving[0].tokenizer}",
        ),
    ]
