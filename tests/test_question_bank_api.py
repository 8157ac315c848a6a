"""Recruiters and admins manage the question bank through the API; the running worker plans from it at once."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import msgspec
from httpx import AsyncClient as Client

from activities.question_bank import QuestionBank
from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import PASSWORD, isolated_api, sign_up
from tests.test_rooms_api import wait_for_opening
from web import accounts


async def sign_in_admin(api: Client) -> dict[str, str]:
    email = f"admin-{uuid.uuid4().hex[:8]}@test.mocki.local"
    await accounts.create_user(email, PASSWORD, "Grace Admin", "admin")
    login = await api.post("/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def intro(role_word: str, text: str) -> dict[str, Any]:
    return {"stage": "intro", "roles": [role_word], "difficulty": "*", "text": text}


def coding(role_word: str, **changes: Any) -> dict[str, Any]:
    """The starter bank's two-sum question, as a team would write its own variant."""
    body = msgspec.to_builtins(QuestionBank.packaged().get("code-two-sum"))
    body.pop("id")
    return {**body, "roles": [role_word], "text": "Our own two-sum, for the quokka team.", **changes}


async def opening_of(api: Client, auth: dict[str, str], role: str, **extra: str) -> str:
    created = await api.post("/rooms", json={"role": role, "difficulty": "medium", **extra}, headers=auth)
    assert created.status_code == 201, created.text
    return str((await wait_for_opening(api, created.json()["room_id"], auth))["text"])


async def test_a_recruiters_question_is_asked_in_their_rooms_and_everywhere_once_an_admin_shares_it(
    api: Client,
) -> None:
    recruiter, _ = await sign_up(api, "recruiter", name="Rita")
    other_recruiter, _ = await sign_up(api, "recruiter")
    candidate, candidate_email = await sign_up(api)
    admin = await sign_in_admin(api)
    word = f"quokka{uuid.uuid4().hex[:6]}"
    text = f"Tell me what drew you to {word} work, in a minute or two."

    created = await api.post("/questions", json=intro(word, text), headers=recruiter)
    assert created.status_code == 201, created.text
    entry = created.json()
    question_id = entry["id"]
    assert question_id.startswith("team-tell-me-what-drew")
    assert (entry["source"], entry["shared"], entry["yours"], entry["retired"]) == ("team", False, True, False)
    assert entry["updated_by"] == "Rita" and entry["question"]["roles"] == [word]

    # Theirs alone: other recruiters cannot find it, candidates may not read the bank at all.
    assert (await api.get(f"/questions/{question_id}", headers=other_recruiter)).status_code == 404
    listed = await api.get("/questions", params={"stage": "intro", "role": word}, headers=other_recruiter)
    assert question_id not in [item["id"] for item in listed.json()["items"]]
    refused = await api.get(f"/questions/{question_id}", headers=candidate)
    assert refused.status_code == 403 and "recruiters" in refused.json()["detail"]
    mine = await api.get("/questions", params={"stage": "intro", "role": word}, headers=recruiter)
    assert question_id in [item["id"] for item in mine.json()["items"]] and mine.json()["total"] >= 3

    # The worker, started before the question existed, asks it in the recruiter's room, not in anyone else's.
    role = f"{word.capitalize()} Engineer"
    assert text in await opening_of(api, recruiter, role, candidate_email=candidate_email)
    assert text not in await opening_of(api, candidate, role)

    # Only an admin shares; then every interview for the role may ask it, and its writer may no longer change it.
    cannot_share = await api.put(
        f"/questions/{question_id}",
        json={**intro(word, text), "revision": entry["revision"], "shared": True},
        headers=recruiter,
    )
    assert cannot_share.status_code == 403 and "admin" in cannot_share.json()["detail"]
    shared = await api.put(
        f"/questions/{question_id}",
        json={**intro(word, text), "revision": entry["revision"], "shared": True},
        headers=admin,
    )
    assert shared.status_code == 200, shared.text
    assert shared.json()["shared"] and shared.json()["revision"] > entry["revision"]
    assert text in await opening_of(api, candidate, role)
    locked = await api.put(
        f"/questions/{question_id}",
        json={**intro(word, "Changed."), "revision": shared.json()["revision"]},
        headers=recruiter,
    )
    assert locked.status_code == 403

    # Retired: no new interview asks it; it stays readable, and comes back when restored.
    retired = await api.delete(f"/questions/{question_id}", headers=admin)
    assert retired.status_code == 200 and retired.json()["retired"]
    assert text not in await opening_of(api, candidate, role)
    listed = await api.get("/questions", params={"status": "retired", "role": word}, headers=admin)
    assert [item["id"] for item in listed.json()["items"]] == [question_id]
    restored = await api.post(f"/questions/{question_id}/restore", headers=admin)
    assert restored.status_code == 200 and not restored.json()["retired"]
    assert text in await opening_of(api, candidate, role)
    assert (await api.delete(f"/questions/{question_id}", headers=admin)).status_code == 200  # leave others be


async def test_a_coding_question_is_stored_only_when_its_reference_passes_and_only_its_writer_pins_it(
    api: Client,
) -> None:
    recruiter, _ = await sign_up(api, "recruiter")
    candidate, candidate_email = await sign_up(api)
    word = f"quokka{uuid.uuid4().hex[:6]}"

    broken = coding(word, id=f"team-broken-{word}", reference="def two_sum(nums, target):\n    return []\n")
    refused = await api.post("/questions", json=broken, headers=recruiter)
    assert refused.status_code == 422
    assert "its reference solution does not pass its tests" in refused.json()["detail"]
    assert (await api.get(f"/questions/team-broken-{word}", headers=recruiter)).status_code == 404

    question_id = f"team-two-sum-{word}"
    created = await api.post("/questions", json=coding(word, id=question_id), headers=recruiter)
    assert created.status_code == 201, created.text
    assert created.json()["question"]["reference"].startswith("def two_sum")
    again = await api.post("/questions", json=coding(word, id=question_id), headers=recruiter)
    assert again.status_code == 409 and "already" in again.json()["detail"]

    # The candidate may not pin a recruiter's unshared question; the recruiter may, in a room they make.
    pinned = {"role": "Backend Engineer", "coding_question_id": question_id}
    assert (await api.post("/rooms", json=pinned, headers=candidate)).status_code == 422
    made = await api.post("/rooms", json={**pinned, "candidate_email": candidate_email}, headers=recruiter)
    assert made.status_code == 201, made.text


async def test_bad_bank_writes_get_clear_errors_and_change_nothing(api: Client) -> None:
    recruiter, _ = await sign_up(api, "recruiter")
    other_recruiter, _ = await sign_up(api, "recruiter")
    admin = await sign_in_admin(api)
    word = f"quokka{uuid.uuid4().hex[:6]}"
    created = await api.post("/questions", json=intro(word, "Why this team?"), headers=recruiter)
    question_id, revision = created.json()["id"], created.json()["revision"]

    bad_bodies: list[tuple[Any, str]] = [
        ("{not json", "malformed"),
        ({**intro(word, "x"), "roles": ["Backend Engineer"]}, "roles"),
        ({**intro(word, "x"), "colour": "red"}, "colour"),
        ({**intro(word, ""), "stage": "intro"}, "text"),
        ({**intro(word, "x"), "stage": "knowledge", "topics": ["basket weaving"]}, "basket weaving"),
    ]
    for body, said in bad_bodies:
        kwargs: dict[str, Any] = {"content": body} if isinstance(body, str) else {"json": body}
        response = await api.post("/questions", headers={**recruiter, "Content-Type": "application/json"}, **kwargs)
        assert response.status_code in (400, 422), (body, response.text)
        assert said in response.text.lower() or said in str(response.json()), (body, response.text)
    assert (await api.post("/questions", json={**intro(word, "x"), "id": "search"}, headers=admin)).status_code == 422

    edited = await api.put(
        f"/questions/{question_id}",
        json={**intro(word, "Why this team, honestly?"), "revision": revision},
        headers=recruiter,
    )
    assert edited.status_code == 200, edited.text
    stale = await api.put(
        f"/questions/{question_id}",
        json={**intro(word, "An edit made from an old copy"), "revision": revision},
        headers=recruiter,
    )
    assert stale.status_code == 409 and "changed since you read it" in stale.json()["detail"]
    assert (
        await api.put(f"/questions/{question_id}", json={**intro(word, "x"), "revision": 1}, headers=other_recruiter)
    ).status_code == 404
    for revision in (2**70, 0, None):
        odd = await api.put(
            f"/questions/{question_id}", json={**intro(word, "x"), "revision": revision}, headers=recruiter
        )
        assert odd.status_code == 400 and "revision" in odd.text, odd.text
    for params in ({"offset": 10**12}, {"limit": 0}, {"status": "gone"}, {"stage": "wrap_up"}):
        assert (await api.get("/questions", params=params, headers=recruiter)).status_code == 400, params
    kept = await api.get(f"/questions/{question_id}", headers=recruiter)
    assert kept.json()["question"]["text"] == "Why this team, honestly?"

    # The last shared opening question cannot be retired: new interviews would have none.
    assert (await api.delete("/questions/intro-2", headers=recruiter)).status_code == 403
    assert (await api.delete("/questions/intro-2", headers=admin)).status_code == 200
    try:
        last = await api.delete("/questions/intro-1", headers=admin)
        assert last.status_code == 409 and "no shared intro question" in last.json()["detail"]
        assert not (await api.get("/questions/intro-1", headers=admin)).json()["retired"]
    finally:
        restored = await api.post("/questions/intro-2/restore", headers=admin)
        assert restored.status_code == 200 and restored.json()["source"] == "starter"


async def test_a_coding_question_is_not_stored_unchecked_where_code_cannot_be_isolated(
    api: Client, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    # An API process that cannot find `unshare` cannot isolate code, so it cannot run a reference solution.
    async with isolated_api(settings, endpoints, PATH=str(tmp_path)) as isolated:
        recruiter, _ = await sign_up(isolated.client, "recruiter")
        word = f"quokka{uuid.uuid4().hex[:6]}"
        refused = await isolated.client.post("/questions", json=coding(word, id=f"team-{word}"), headers=recruiter)
        assert refused.status_code == 503 and "network namespaces" in refused.json()["detail"], refused.text
        assert (await isolated.client.get(f"/questions/team-{word}", headers=recruiter)).status_code == 404
        written = await isolated.client.post("/questions", json=intro(word, "Why quokkas?"), headers=recruiter)
        assert written.status_code == 201, written.text  # nothing to run: stored as ever
