"""Traces across processes: an API request, the Temporal workflow it starts and the activities that run for it are
one trace, sent by the real OTLP exporters of the API and worker processes to a local collector stand-in; the
processes' JSON log lines carry the same trace ids; span names, attributes and logs carry no personal data."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from pathlib import Path

from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import isolated_api, service_env, sign_up, start_worker, wait_ready
from tests.standins import otlp_collector
from tests.test_rooms_api import answer, wait_for_opening

NAME = "Zebediah Quartermaine"
ANSWER = "I once sharded a ledger by merchant id to stop the hot partition."


async def test_a_request_is_one_trace_from_the_api_through_temporal_to_its_activities(
    db: None, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    collector = otlp_collector.Collector()
    async with otlp_collector.running(collector) as url:
        traced = {
            "MOCKI_TASK_QUEUE_PREFIX": f"traced-{uuid.uuid4().hex[:8]}-",
            "OTEL_EXPORTER_OTLP_ENDPOINT": url,
            "OTEL_BSP_SCHEDULE_DELAY": "200",  # milliseconds between the processes' span exports
        }
        ready, worker_log = tmp_path / "worker.ready", tmp_path / "worker.log"
        worker = start_worker(service_env(settings, endpoints, **traced), ready, worker_log)
        try:
            await wait_ready(ready)
            async with isolated_api(settings, endpoints, **traced) as app:
                auth, email = await sign_up(app.client, name=NAME)
                created = await app.client.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)
                assert created.status_code == 201, created.text
                room = created.json()["room_id"]
                await wait_for_opening(app.client, room, auth)
                await answer(app.client, room, auth, ANSWER)
                for _ in range(100):  # the exporters send every 200 ms; this loop lets the collector take them
                    names = {span.name for span in collector.spans}
                    if "POST /rooms/{room_id}/ai/message" in names and "RunActivity:respond" in names:
                        break
                    await asyncio.sleep(0.1)
                api_log = app.log.read_text()
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)

    created_trace = {(span.service, span.name) for span in collector.trace_of("POST /rooms")}
    worker_service = "mocki-worker-interview-io-cpu"
    assert {
        ("mocki-api", "POST /rooms"),
        ("mocki-api", "StartWorkflow:InterviewWorkflow"),
        (worker_service, "RunWorkflow:InterviewWorkflow"),
        (worker_service, "StartActivity:plan_interview"),
        (worker_service, "RunActivity:plan_interview"),
    } <= created_trace, created_trace
    answered_trace = {(span.service, span.name) for span in collector.trace_of("POST /rooms/{room_id}/ai/message")}
    assert ("mocki-api", "StartWorkflowUpdate:candidate_message") in answered_trace, answered_trace
    # The SDK's tracing interceptor puts the workflow's own work, updates included, in the trace that started it:
    # the interview's trace shows each answer handled and the model's turn.
    interview_trace = {(span.service, span.name) for span in collector.trace_of("POST /rooms")}
    assert {
        (worker_service, "HandleUpdate:candidate_message"),
        (worker_service, "RunActivity:respond"),
    } <= interview_trace, interview_trace

    # The room's id, the candidate's name, email and answer are in no span's name, nor in its attributes.
    for span in collector.spans:
        assert room not in span.name
        for secret in (NAME, email, ANSWER, "Zebediah"):
            assert secret not in span.name and not any(secret in value for value in span.attributes.values()), span

    # Every line of both processes' logs is one JSON object; the API's line for each request and the worker's line
    # for each activity carry the trace id of that request's or job's trace, and the activity's workflow id.
    api_lines = [json.loads(line) for line in api_log.splitlines() if line.startswith("{")]
    worker_lines = [json.loads(line) for line in worker_log.read_text().splitlines() if line.startswith("{")]
    created_trace_id = collector.trace_of("POST /rooms")[0].trace_id
    assert {
        "service": "mocki-api",
        "logger": "mocki.access",
        "level": "INFO",
        "trace_id": created_trace_id,
    }.items() <= next(line for line in api_lines if line["message"].startswith("POST /rooms 201 ")).items()
    planned = next(line for line in worker_lines if line["message"].startswith("plan_interview ok in "))
    assert planned["trace_id"] == created_trace_id and planned["workflow_id"] == created.json()["workflow_id"]
    assert planned["service"] == worker_service and planned["activity"] == "plan_interview"
    for secret in (NAME, email, ANSWER, "Zebediah"):
        assert secret not in api_log and secret not in worker_log.read_text(), secret
    assert room not in api_log  # the API logs routes, not paths; the worker names the room's workflow, by design
