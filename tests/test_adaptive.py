"""Adaptive difficulty: a strong, quick, unaided answer raises the tier; struggling lowers it; every reply says it."""

from __future__ import annotations

from httpx import AsyncClient as Client

from activities.question_bank import QuestionBank
from tests.conftest import sign_up
from tests.test_review import covering, job_result

BANK = QuestionBank.packaged()

STAR_ANSWER = (
    "At the time our team was late; my task was the API, I proposed a smaller scope and as a result we shipped."
)


async def test_the_tier_follows_the_candidate(api: Client) -> None:
    auth, _ = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    path = f"/rooms/{room_id}/ai/message"
    await job_result(api, path, auth, {"text": "I'm a backend engineer with five years of experience in payments."})
    before = await job_result(api, path, auth, {"text": STAR_ANSWER})
    assert before["stage"] == "knowledge" and before["difficulty"] == "medium"

    harder = await job_result(api, path, auth, {"text": covering(before["question_id"])})
    assert harder["difficulty"] == "hard"
    assert "let's make the next one harder" in harder["text"]
    assert BANK.get(harder["question_id"]).difficulty in ("hard", "*")

    easier = await job_result(api, path, auth, {"text": "I really don't know this one."})
    assert easier["difficulty"] == "medium"
    assert "something a little more approachable" in easier["text"]
    assert easier["stage"] == "coding"
    room = (await api.get(f"/rooms/{room_id}", headers=auth)).json()
    assert room["difficulty"] == "medium"

    asked = [t["question_id"] for t in (await api.get(f"/rooms/{room_id}/ai/messages", headers=auth)).json()["items"]]
    ai_questions = asked[::2]
    assert len(ai_questions) == len(set(ai_questions))  # never the same question twice


async def test_non_technical_stages_do_not_move_the_tier(api: Client) -> None:
    auth, _ = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer", "difficulty": "easy"}, headers=auth)).json()[
        "room_id"
    ]
    path = f"/rooms/{room_id}/ai/message"
    intro = await job_result(api, path, auth, {"text": covering("intro-1")})
    assert intro["difficulty"] == "easy"
    behavioural = await job_result(api, path, auth, {"text": "no idea"})
    assert behavioural["difficulty"] == "easy" and behavioural["stage"] == "knowledge"
