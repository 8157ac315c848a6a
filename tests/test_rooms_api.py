"""The interview through the REST API, against the real Postgres, Temporal and worker."""

from __future__ import annotations

import asyncio
import time
import uuid

from httpx import AsyncClient as Client
from temporalio.client import Client as TemporalClient

from schema.interview import SendMessage
from schema.tables import Room
from stack.services import Endpoints
from stack.settings import Settings
from stack.supervisor import free_port
from tests.conftest import await_report, isolated_api, sign_up
from workflows.interview import InterviewWorkflow

STRONG_IDEMPOTENCY_ANSWER = (
    "An idempotent endpoint has the same effect whether it is called once or repeated. The client sends an "
    "idempotency key, and the server stores the response under that key and returns the same one on a retry."
)


async def create_room(api: Client, auth: dict[str, str] | None = None, **overrides: str) -> tuple[str, dict[str, str]]:
    """A room created by `auth` (a new candidate's own practice room by default)."""
    auth = auth or (await sign_up(api))[0]
    body = {"role": "Backend Engineer", "difficulty": "medium", **overrides}
    response = await api.post("/rooms", json=body, headers=auth)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["workflow_id"] == created["room_id"]
    return created["room_id"], auth


async def transcript(api: Client, room_id: str, auth: dict[str, str], **params: int) -> dict:  # type: ignore[type-arg]
    response = await api.get(f"/rooms/{room_id}/ai/messages", headers=auth, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def wait_for_opening(api: Client, room_id: str, auth: dict[str, str]) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 20  # a plan drawn from documents embeds and searches them first
    while time.monotonic() < deadline:
        page = await transcript(api, room_id, auth)
        if page["items"]:
            return page["items"][0]  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError("no opening question")


async def answer(api: Client, room_id: str, auth: dict[str, str], text: str) -> dict:  # type: ignore[type-arg]
    accepted = await api.post(f"/rooms/{room_id}/ai/message", json={"text": text}, headers=auth)
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    polled = await api.get(f"/rooms/{room_id}/ai/message/{job_id}", params={"wait": 20}, headers=auth)
    assert polled.status_code == 200, polled.text
    job = polled.json()
    assert job["status"] == "completed", job
    return job["result"]  # type: ignore[no-any-return]


async def test_a_whole_interview_produces_a_report_scored_by_the_named_provider(api: Client) -> None:
    room_id, auth = await create_room(api)
    opening = await wait_for_opening(api, room_id, auth)
    assert opening["speaker"] == "ai" and opening["stage"] == "intro"
    assert "Ada" in opening["text"]

    stages, follow_ups, replies = [], [], 0
    finished = False
    while not finished:
        reply = await answer(api, room_id, auth, f"{STRONG_IDEMPOTENCY_ANSWER} (answer {replies + 1})")
        replies += 1
        assert reply["provider"] == "offline:question-bank"
        assert reply["difficulty"] in ("easy", "medium", "hard")
        if reply["agent"] == "question_generation":  # a follow-up on a partial answer: same question
            follow_ups.append(reply["question_id"])
        else:
            stages.append(reply["stage"])
        finished = reply["finished"]
    assert stages == ["behavioural", "knowledge", "knowledge", "coding", "candidate_questions", "candidate_questions"]
    assert len(follow_ups) == len(set(follow_ups))  # never two on one question

    refused = await api.post(f"/rooms/{room_id}/ai/message", json={"text": "one more"}, headers=auth)
    assert refused.status_code == 409
    assert "end the room" in refused.json()["detail"]

    ended = await api.post(f"/rooms/{room_id}/end", headers=auth)
    assert ended.status_code == 202
    report = await await_report(api, room_id, auth)
    assert report["provider"] == "offline:question-bank"
    assert report["answered"] == 5  # intro, behavioural, two knowledge, coding; candidate questions are not scored
    assert {d["dimension"] for d in report["dimensions"]} == {
        "communication",
        "behavioural_star",
        "knowledge",
        "problem_solving",
    }
    knowledge = next(d for d in report["dimensions"] if d["dimension"] == "knowledge")
    assert 0 <= knowledge["score"] <= 5

    room = (await api.get(f"/rooms/{room_id}", headers=auth)).json()
    assert room["status"] == "ended"
    listed = (await api.get("/rooms", params={"status": "ended"}, headers=auth)).json()["items"]
    assert [(r["room_id"], r["overall"], r["scored_by"]) for r in listed] == [
        (room_id, round(report["overall"], 2), "offline:question-bank")
    ]

    # Every turn is in Postgres, in order: the opening, then answer/reply pairs.
    page = await transcript(api, room_id, auth, limit=200)
    assert [item["seq"] for item in page["items"]] == list(range(1 + 2 * replies))
    assert [item["speaker"] for item in page["items"][:3]] == ["ai", "candidate", "ai"]


async def test_transcript_pages_with_a_cursor_never_skip_or_repeat(api: Client) -> None:
    room_id, auth = await create_room(api)
    await wait_for_opening(api, room_id, auth)
    for n in range(3):
        await answer(api, room_id, auth, f"I would measure first, then decide ({n}).")
    seen: list[int] = []
    cursor = -1
    while True:
        page = await transcript(api, room_id, auth, cursor=cursor, limit=2)
        seen += [item["seq"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == list(range(7))


async def test_five_hundred_turns_page_in_order_while_more_arrive(api: Client, temporal: TemporalClient) -> None:
    """Turns go straight to the room's workflow (the API would rate-limit a person sending 250 in a row)."""
    room_id, auth = await create_room(api)
    await wait_for_opening(api, room_id, auth)
    handle = temporal.get_workflow_handle_for(InterviewWorkflow.run, room_id)

    async def pauses(start: int, count: int) -> None:
        for n in range(start, start + count):
            await handle.execute_update(InterviewWorkflow.candidate_message, SendMessage(text=f"Let me think ({n})."))

    await pauses(0, 250)  # with the replies and the opening: 501 turns
    more = asyncio.create_task(pauses(250, 40))  # arriving while the pages are read
    seen: list[int] = []
    cursor, limit = -1, 37
    while True:
        all_sent = more.done()  # known before the read, so that read sees every turn
        page = await transcript(api, room_id, auth, cursor=cursor, limit=limit)
        seen += [item["seq"] for item in page["items"]]
        cursor = seen[-1] if seen else cursor
        limit = 200 if limit == 37 else 37
        if page["next_cursor"] is None:
            if all_sent:
                break
            await asyncio.sleep(0.05)  # the end for now: later turns continue from the same cursor
    await more
    assert seen == list(range(1 + 2 * 290))  # every turn once, in order, none skipped


async def test_a_weak_answer_becomes_a_weakness_with_the_candidates_words_as_evidence(api: Client) -> None:
    room_id, auth = await create_room(api, role="Backend Engineer")
    await wait_for_opening(api, room_id, auth)
    for text in (
        "I'm a backend engineer with five years of experience, currently building APIs, and I enjoy it a lot.",
        "I don't remember.",
    ):
        await answer(api, room_id, auth, text)
    await api.post(f"/rooms/{room_id}/end", headers=auth)
    report = await await_report(api, room_id, auth)
    assert any("I don't remember." in w["evidence"] for w in report["weaknesses"])


async def test_bad_bodies_get_a_400_with_a_reason_and_change_nothing(api: Client) -> None:
    room_id, auth = await create_room(api)
    await wait_for_opening(api, room_id, auth)
    headers = {**auth, "Content-Type": "application/json"}
    cases = [
        (b'{"text": "unterminated', "JSON"),
        (b'{"text": "hi", "score": 10}', "score"),  # unknown field
        (b'{"text": ""}', "text"),
        (b"[]", "object"),
    ]
    for raw, mention in cases:
        response = await api.post(f"/rooms/{room_id}/ai/message", content=raw, headers=headers)
        assert response.status_code == 400, raw
        assert mention.lower() in response.text.lower(), response.text
    huge_cursor = await api.get(f"/rooms/{room_id}/ai/messages", params={"cursor": 2**32}, headers=auth)
    assert huge_cursor.status_code == 400  # found by `make fuzz`: it was a 500 from Postgres
    too_long = await api.post(f"/rooms/{room_id}/ai/message", json={"text": "x" * 4001}, headers=auth)
    assert too_long.status_code == 400
    bad_room = await api.post("/rooms", json={"role": "Backend Engineer", "difficulty": "expert"}, headers=auth)
    assert bad_room.status_code == 400
    assert "difficulty" in bad_room.text
    assert len((await transcript(api, room_id, auth))["items"]) == 1


async def test_unknown_rooms_and_jobs_are_404s_and_an_ended_room_refuses_messages(api: Client) -> None:
    room_id, auth = await create_room(api)
    await wait_for_opening(api, room_id, auth)
    unknown_job = await api.get(f"/rooms/{room_id}/ai/message/{uuid.uuid4()}", headers=auth)
    assert unknown_job.status_code == 404
    early = await api.get(f"/rooms/{room_id}/report", headers=auth)
    assert early.status_code == 409
    assert "end the room" in early.json()["detail"]
    assert (await api.post(f"/rooms/{room_id}/end", headers=auth)).status_code == 202
    late = await api.post(f"/rooms/{room_id}/ai/message", json={"text": "hello?"}, headers=auth)
    assert late.status_code == 409
    assert "ended" in late.json()["detail"]
    again = await api.post(f"/rooms/{room_id}/end", headers=auth)
    assert again.status_code == 409


async def test_readiness_reports_every_dependency(api: Client) -> None:
    response = await api.get("/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ready"] is True
    assert {d["name"] for d in body["dependencies"]} == {"postgres", "redis", "temporal", "livekit"}
    assert (await api.get("/health")).json() == {"status": "ok"}


async def test_openapi_documents_the_room_routes(api: Client) -> None:
    schema = (await api.get("/docs/openapi.json")).json()
    assert {"/rooms", "/rooms/{room_id}/ai/message", "/rooms/{room_id}/report"} <= set(schema["paths"])


async def test_an_answer_sent_the_moment_the_room_opens_waits_for_the_opening_question(api: Client) -> None:
    room_id, auth = await create_room(api)
    reply = await answer(api, room_id, auth, "Hi! I'm a backend engineer with five years of experience.")
    assert reply["stage"] == "behavioural"
    page = await transcript(api, room_id, auth)
    assert [(i["speaker"], i["stage"]) for i in page["items"]] == [
        ("ai", "intro"),
        ("candidate", "intro"),
        ("ai", "behavioural"),
    ]


async def test_with_temporal_down_the_api_answers_503_with_a_reason_and_stores_nothing(
    db: None, settings: Settings, endpoints: Endpoints
) -> None:
    dead_temporal = f"127.0.0.1:{free_port()}"  # nothing listens there
    async with isolated_api(settings, endpoints, TEMPORAL_ADDRESS=dead_temporal) as down:
        rooms_before = await Room.count()
        auth, _email = await sign_up(down.client)
        created = await down.client.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)
        assert created.status_code == 503, created.text
        assert "Temporal" in created.json()["detail"]
        assert created.headers["Retry-After"] == "5"
        ready = await down.client.get("/ready")
        assert ready.status_code == 503
        states = {d["name"]: d["ok"] for d in ready.json()["dependencies"]}
        assert states == {"postgres": True, "redis": True, "temporal": False, "livekit": True}
        assert await Room.count() == rooms_before  # no room row without its workflow


async def test_the_same_answer_twice_in_a_row_is_refused_as_a_duplicate_unless_keyed(api: Client) -> None:
    room_id, auth = await create_room(api)
    await wait_for_opening(api, room_id, auth)
    text = {"text": f"I lead a team of four ({uuid.uuid4()})."}
    first = await api.post(f"/rooms/{room_id}/ai/message", json=text, headers=auth)
    assert first.status_code == 202
    again = await api.post(f"/rooms/{room_id}/ai/message", json=text, headers=auth)
    assert again.status_code == 409
    assert "duplicate" in again.json()["detail"]
    on_purpose = await api.post(
        f"/rooms/{room_id}/ai/message", json=text, headers={**auth, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert on_purpose.status_code == 202
    job = on_purpose.json()["job_id"]
    done = await api.get(f"/rooms/{room_id}/ai/message/{job}", params={"wait": 20}, headers=auth)
    assert done.json()["status"] == "completed"
    turns = await transcript(api, room_id, auth)
    assert [i["speaker"] for i in turns["items"]].count("candidate") == 2  # the refused copy left no trace


async def test_openapi_says_request_bodies_take_no_unknown_fields(api: Client) -> None:
    schemas = (await api.get("/docs/openapi.json")).json()["components"]["schemas"]
    for body in ("Signup", "Login", "RefreshRequest", "CreateRoom", "SendMessage"):
        assert schemas[body]["additionalProperties"] is False, body
