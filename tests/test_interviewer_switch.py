"""Handing an AI room to a human interviewer and back: one transcript, the AI silent while a person asks."""

from __future__ import annotations

import asyncio

from httpx import AsyncClient as Client
from temporalio.client import Client as TemporalClient

from schema.interview import PersonSaid
from tests.conftest import await_report, recruiter_room, sign_up
from workflows.interview import InterviewWorkflow


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
        "grounded_in": None,  # a room planned without documents
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


async def person_asks(api: Client, temporal: TemporalClient, room_id: str, auth: dict[str, str], text: str) -> None:
    """What the voice agent does with a person's transcribed words; returns once they are in the transcript."""
    await temporal.get_workflow_handle(room_id).signal(InterviewWorkflow.person_said, PersonSaid(text=text))
    for _ in range(100):
        turns = (await api.get(f"/rooms/{room_id}/ai/messages", params={"limit": 200}, headers=auth)).json()
        if turns["items"][-1]["text"] == text:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the person's words never reached the transcript: {text}")


async def test_while_a_person_interviews_the_ai_scores_the_answers_silently_for_the_report(
    api: Client, temporal: TemporalClient
) -> None:
    room_id, candidate, recruiter, interviewer = await recruiter_room(api)
    await answer(api, room_id, candidate, "I'm a backend engineer with six years of experience in payments.")
    await api.post(f"/rooms/{room_id}/interviewer", json={"mode": "human"}, headers=interviewer)

    # The person takes over on the AI's behavioural question; then asks their own, answered over two turns.
    silent = await answer(api, room_id, candidate, "Our launch slipped, so I cut scope and we shipped on time.")
    assert silent["text"] == "" and silent["provider"] == "human"
    await person_asks(api, temporal, room_id, interviewer, "How does a database index make queries faster?")
    await answer(api, room_id, candidate, "An index is usually a B-tree, so a lookup is logarithmic.")
    await answer(api, room_id, candidate, "The trade-off is that writes get slower, since every insert updates it.")
    # A question nothing in the bank is like is not given a made-up score.
    await person_asks(api, temporal, room_id, interviewer, "Which football team do you support?")
    await answer(api, room_id, candidate, "Arsenal, since I was a child.")

    assert (await api.post(f"/rooms/{room_id}/end", headers=recruiter)).status_code == 202
    report = await await_report(api, room_id, recruiter)
    taken_over, index, football = report["shadow_scored"]
    assert taken_over["asked_by"] == "ai" and taken_over["similarity"] is None
    assert taken_over["matched_question_id"].startswith("beh-") and taken_over["score"] is not None
    assert taken_over["provider"] == "offline:question-bank"

    assert index["asked_by"] == "human" and index["question"] == "How does a database index make queries faster?"
    assert index["matched_question_id"] == "kn-db-index" and index["similarity"] > 0.5
    assert index["provider"] == "offline:question-bank, matched by local:all-MiniLM-L6-v2"
    # Scored whole: the write cost was only in the second turn.
    assert index["feedback"] == "Covered: data structure, lookup complexity, write cost. Missing: storage.", index
    assert index["score"] == 3.75

    assert football["score"] is None and football["matched_question_id"] is None
    assert football["feedback"].startswith("Not scored: nothing in the question bank is like this question")

    # Shadow scores stay apart: the AI-led answers alone make the dimensions and the overall score.
    assert report["answered"] == 1
    assert not any("kn-db-index" in d["evidence"] for d in report["dimensions"])
