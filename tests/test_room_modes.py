"""Peer rooms (people interview, the AI only hints and reviews) and each stage's share of the interview's time."""

from __future__ import annotations

import asyncio

from httpx import AsyncClient as Client

from tests.conftest import await_report, sign_up
from tests.test_review import job_result

PASSING = """def is_valid(text):
    pairs = {")": "(", "]": "[", "}": "{"}
    stack = []
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack
"""

STAR_ANSWER = (
    "At the time our team was late; my task was the API, I proposed a smaller scope and as a result we shipped."
)


async def planned_room(api: Client, room_id: str, auth: dict[str, str]) -> dict:  # type: ignore[type-arg]
    """The room once its workflow has planned the interview (its stage is unknown for the first moment)."""
    for _ in range(50):
        room = (await api.get(f"/rooms/{room_id}", headers=auth)).json()
        if room["stage"] is not None:
            return room  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError("the interview was not planned")


async def test_a_peer_room_gives_hints_and_reviews_but_never_interviews(api: Client) -> None:
    candidate, candidate_email = await sign_up(api, "candidate")
    recruiter, _ = await sign_up(api, "recruiter")
    created = await api.post(
        "/rooms",
        json={
            "role": "Backend Engineer",
            "mode": "peer",
            "candidate_email": candidate_email,
            "coding_question_id": "code-valid-parentheses",
        },
        headers=recruiter,
    )
    assert created.status_code == 201, created.text
    room_id = created.json()["room_id"]

    room = await planned_room(api, room_id, candidate)
    assert (room["mode"], room["stage"], room["interviewer"]) == ("peer", "coding", "human")
    assert room["stage_seconds_left"] is None  # people keep their own time

    message = await api.post(f"/rooms/{room_id}/ai/message", json={"text": "Hello?"}, headers=candidate)
    assert message.status_code == 409
    assert message.json()["detail"] == "the AI does not interview in a peer room; ask for hints and reviews instead"
    switch = await api.post(f"/rooms/{room_id}/interviewer", json={"mode": "ai"}, headers=recruiter)
    assert switch.status_code == 409
    assert "no AI interviewer to switch" in switch.json()["detail"]

    hint = await job_result(api, f"/rooms/{room_id}/ai/hint", candidate, {})
    assert hint["level"] == 1
    review = await job_result(api, f"/rooms/{room_id}/ai/review", candidate, {"code": PASSING})
    assert review["passed"] == review["total"] > 0
    transcript = (await api.get(f"/rooms/{room_id}/ai/messages", headers=recruiter)).json()["items"]
    assert [(t["speaker"], t["text"][:6]) for t in transcript] == [("ai", "Hint 1")]  # no AI questions

    assert (await api.post(f"/rooms/{room_id}/end", headers=recruiter)).status_code == 202
    report = await await_report(api, room_id, recruiter)
    dimensions = {d["dimension"]: d["score"] for d in report["dimensions"]}
    assert dimensions["correctness"] == 5.0
    assert report["answered"] == 0
    assert report["overall"] > 0  # judged on the code alone


async def test_a_stage_over_its_time_share_skips_its_remaining_questions(api: Client) -> None:
    auth, _ = await sign_up(api)
    created = await api.post("/rooms", json={"role": "Backend Engineer", "duration_minutes": 1}, headers=auth)
    room_id = created.json()["room_id"]
    path = f"/rooms/{room_id}/ai/message"
    room = await planned_room(api, room_id, auth)
    assert room["stage"] == "intro" and 0 <= room["stage_seconds_left"] <= 3  # 5% of one minute
    await job_result(api, path, auth, {"text": "I'm a backend engineer with five years of experience in payments."})
    knowledge = await job_result(api, path, auth, {"text": STAR_ANSWER})
    assert knowledge["stage"] == "knowledge"
    planned = (await api.get(f"/rooms/{room_id}", headers=auth)).json()["questions_planned"]

    await asyncio.sleep(15.5)  # the knowledge stage's share: 25% of a minute
    room = (await api.get(f"/rooms/{room_id}", headers=auth)).json()
    assert room["stage_seconds_left"] < 0
    reply = await job_result(api, path, auth, {"text": "A hash map gives constant time lookups on average."})
    assert reply["stage"] == "coding"  # the second knowledge question was skipped
    assert "We're at the time we set for this part, so let's move on." in reply["text"]
    room = (await api.get(f"/rooms/{room_id}", headers=auth)).json()
    assert room["questions_planned"] == planned - 1
    assert 20 <= room["stage_seconds_left"] <= 24  # the coding stage starts its own 40%


async def test_room_options_are_checked(api: Client) -> None:
    auth, _ = await sign_up(api)
    for body in (
        {"role": "Backend Engineer", "mode": "panel"},
        {"role": "Backend Engineer", "duration_minutes": 0},
        {"role": "Backend Engineer", "duration_minutes": 600},
        {"role": "Backend Engineer", "coding_question_id": ""},
    ):
        response = await api.post("/rooms", json=body, headers=auth)
        assert response.status_code == 400, response.text


async def test_a_room_can_pin_its_coding_question_from_the_bank(api: Client) -> None:
    auth, _ = await sign_up(api)
    unknown = await api.post("/rooms", json={"role": "Backend Engineer", "coding_question_id": "kn-acid"}, headers=auth)
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "no coding question in the bank has the id 'kn-acid'"
    created = await api.post(
        "/rooms", json={"role": "Data Engineer", "mode": "peer", "coding_question_id": "code-num-islands"}, headers=auth
    )
    room = await planned_room(api, created.json()["room_id"], auth)
    assert room["stage"] == "coding"
    hint = await job_result(api, f"/rooms/{room['room_id']}/ai/hint", auth, {})
    assert hint["question_id"] == "code-num-islands"
