"""Handing an AI room to a human interviewer and back: one transcript, the AI silent while a person asks."""

from __future__ import annotations

from httpx import AsyncClient as Client

from tests.conftest import recruiter_room, sign_up


async def answer(api: Client, room_id: str, auth: dict[str, str], text: str) -> dict:  # type: ignore[type-arg]
    accepted = await api.post(f"/rooms/{room_id}/ai/message", json={"text": text}, headers=auth)
    assert accepted.status_code == 202, accepted.text
    job = await api.get(f"/rooms/{room_id}/ai/message/{accepted.json()['job_id']}", params={"wait": 20}, headers=auth)
    assert job.json()["status"] == "completed", job.text
    return job.json()["result"]  # type: ignore[no-any-return]


async def test_a_human_takes_over_and_hands_back(api: Client) -> None:
    room_id, candidate, recruiter, interviewer = await recruiter_room(api)
    first = await answer(api, room_id, candidate, "I'm a backend engineer with six years of experience.")
    assert first["interviewer"] == "ai" and first["stage"] == "behavioural"

    refused = await api.post(f"/rooms/{room_id}/interviewer", json={"mode": "human"}, headers=candidate)
    assert refused.status_code == 403
    took_over = await api.post(f"/rooms/{room_id}/interviewer", json={"mode": "human"}, headers=interviewer)
    assert took_over.status_code == 200, took_over.text
    assert took_over.json()["interviewer"] == "human"

    silent = await answer(api, room_id, candidate, "To the human: I once rewrote our deploy pipeline.")
    assert silent == {
        "text": "",
        "stage": "behavioural",
        "difficulty": "medium",
        "question_id": first["question_id"],
        "finished": False,
        "provider": "human",
        "interviewer": "human",
        "intent": "answer",
        "agent": None,
        "model_ms": None,
        "audio": None,
        "audio_error": None,
        "seq": None,  # the AI said nothing
    }
    view = (await api.get(f"/rooms/{room_id}", headers=recruiter)).json()
    assert view["interviewer"] == "human" and view["questions_asked"] == 2

    back = await api.post(f"/rooms/{room_id}/interviewer", json={"mode": "ai"}, headers=recruiter)
    assert back.json()["interviewer"] == "ai"
    resumed = await answer(
        api,
        room_id,
        candidate,
        "At the time our team was late; my task was the API, I proposed a smaller scope and as a result we shipped.",
    )
    assert resumed["interviewer"] == "ai" and resumed["stage"] == "knowledge"

    turns = (await api.get(f"/rooms/{room_id}/ai/messages", headers=recruiter)).json()["items"]
    assert [t["speaker"] for t in turns] == ["ai", "candidate", "ai", "candidate", "candidate", "ai"]


async def test_the_mode_must_be_ai_or_human(api: Client) -> None:
    auth, _ = await sign_up(api, "recruiter")
    candidate, email = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "SRE", "candidate_email": email}, headers=auth)).json()["room_id"]
    bad = await api.post(f"/rooms/{room_id}/interviewer", json={"mode": "robot"}, headers=auth)
    assert bad.status_code == 400
    assert "mode" in bad.text
    assert (await api.post(f"/rooms/{room_id}/interviewer", json={"mode": "ai"}, headers=candidate)).status_code == 403
