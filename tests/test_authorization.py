"""Who may do what to which room: the IDOR matrix over every room route, and who may create which room."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from httpx import AsyncClient as Client

from tests.conftest import PASSWORD, recruiter_room, sign_up
from web import accounts


@dataclass
class Cast:
    candidate: dict[str, str]  # the room's candidate
    recruiter: dict[str, str]  # created the room
    interviewer: dict[str, str]  # a recruiter assigned to it
    admin: dict[str, str]
    other_candidate: dict[str, str]
    other_recruiter: dict[str, str]
    room_id: str
    job_id: str


@pytest.fixture(scope="module")
async def cast(api: Client) -> Cast:
    room_id, candidate, recruiter, interviewer = await recruiter_room(api)
    other_candidate, _ = await sign_up(api, "candidate")
    other_recruiter, _ = await sign_up(api, "recruiter")
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@test.mocki.local"
    await accounts.create_user(admin_email, PASSWORD, "Admin", "admin")
    login = await api.post("/auth/login", json={"email": admin_email, "password": PASSWORD})
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    job = await api.post(f"/rooms/{room_id}/ai/message", json={"text": "Hello, I'm Ada."}, headers=candidate)
    assert job.status_code == 202, job.text
    return Cast(
        candidate, recruiter, interviewer, admin, other_candidate, other_recruiter, room_id, job.json()["job_id"]
    )


ANONYMOUS: dict[str, str] = {}
# expected status per caller: candidate, recruiter, interviewer, admin, other candidate, other recruiter, anonymous
MATRIX = [
    ("GET", "/rooms/{room}", None, (200, 200, 200, 200, 404, 404, 401)),
    ("GET", "/rooms/{room}/ai/messages", None, (200, 200, 200, 200, 404, 404, 401)),
    ("POST", "/rooms/{room}/ai/message", {"text": "I am someone else"}, (202, 403, 403, 403, 404, 404, 401)),
    ("GET", "/rooms/{room}/ai/message/{job}", None, (200, 403, 403, 403, 404, 404, 401)),
    ("GET", "/rooms/{room}/report", None, (409, 409, 409, 409, 404, 404, 401)),
    ("POST", "/rooms/{room}/join", None, (201, 201, 201, 201, 404, 404, 401)),
    # the candidate may submit code, but this room is not at its coding question: 409 rather than 403
    ("POST", "/rooms/{room}/ai/review", {"code": "pass"}, (409, 403, 403, 403, 404, 404, 401)),
    ("POST", "/rooms/{room}/ai/hint", {}, (409, 403, 403, 403, 404, 404, 401)),
    ("POST", "/rooms/{room}/interviewer", {"mode": "ai"}, (403, 200, 200, 200, 404, 404, 401)),
]


async def test_every_room_route_answers_each_caller_as_its_relation_allows(api: Client, cast: Cast) -> None:
    callers = {
        "candidate": cast.candidate,
        "recruiter": cast.recruiter,
        "interviewer": cast.interviewer,
        "admin": cast.admin,
        "other candidate": cast.other_candidate,
        "other recruiter": cast.other_recruiter,
        "anonymous": ANONYMOUS,
    }
    failures = []
    for method, template, body, expected in MATRIX:
        path = template.format(room=cast.room_id, job=cast.job_id)
        for (name, headers), status in zip(callers.items(), expected, strict=True):
            response = await api.request(method, path, json=body, headers=headers)
            if response.status_code != status:
                failures.append(f"{name} {method} {template}: {response.status_code} (expected {status})")
    assert not failures, "\n".join(failures)


async def test_a_stranger_cannot_tell_a_hidden_room_from_a_missing_one(api: Client, cast: Cast) -> None:
    hidden = await api.get(f"/rooms/{cast.room_id}", headers=cast.other_candidate)
    missing = await api.get(f"/rooms/{uuid.uuid4()}", headers=cast.other_candidate)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == f"no room {cast.room_id}"
    assert missing.json()["detail"].startswith("no room ")


async def test_each_caller_is_told_its_relation_and_capabilities(api: Client, cast: Cast) -> None:
    seen = {}
    for name, headers in (
        ("candidate", cast.candidate),
        ("recruiter", cast.recruiter),
        ("interviewer", cast.interviewer),
        ("admin", cast.admin),
    ):
        view = (await api.get(f"/rooms/{cast.room_id}", headers=headers)).json()
        seen[name] = (view["your_relation"], "ai:message" in view["your_capabilities"])
    assert seen == {
        "candidate": ("candidate", True),
        "recruiter": ("recruiter", False),
        "interviewer": ("interviewer", False),
        "admin": ("admin", False),
    }


async def test_only_the_candidate_owner_and_admins_may_end_a_room(api: Client, cast: Cast) -> None:
    path = f"/rooms/{cast.room_id}/end"
    assert (await api.post(path, headers=cast.interviewer)).status_code == 403
    assert (await api.post(path, headers=cast.other_recruiter)).status_code == 404
    assert (await api.post(path, headers=cast.other_candidate)).status_code == 404
    assert (await api.post(path)).status_code == 401
    assert (await api.get(f"/rooms/{cast.room_id}", headers=cast.candidate)).json()["status"] == "active"
    assert (await api.post(path, headers=cast.recruiter)).status_code == 202


async def test_who_may_create_which_room(api: Client) -> None:
    candidate, candidate_email = await sign_up(api, "candidate")
    recruiter, recruiter_email = await sign_up(api, "recruiter")
    room = {"role": "Backend Engineer"}
    cases = [
        (candidate, {**room, "candidate_email": candidate_email}, 403, "candidates create their own"),
        (candidate, {**room, "interviewer_emails": [recruiter_email]}, 403, "candidates create their own"),
        (recruiter, room, 400, "candidate_email"),
        (recruiter, {**room, "candidate_email": "nobody@test.mocki.local"}, 422, "no candidate account"),
        (recruiter, {**room, "candidate_email": recruiter_email}, 422, "no candidate account"),
        (
            recruiter,
            {**room, "candidate_email": candidate_email, "interviewer_emails": [candidate_email]},
            422,
            "not recruiter accounts",
        ),
        ({}, room, 401, "sign in"),
    ]
    for headers, body, status, mention in cases:
        response = await api.post("/rooms", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        assert mention in response.json()["detail"], response.text
    own = await api.post("/rooms", json=room, headers=candidate)
    assert own.status_code == 201
    for_candidate = await api.post(
        "/rooms", json={**room, "candidate_email": candidate_email.upper()}, headers=recruiter
    )
    assert for_candidate.status_code == 201
    view = (await api.get(f"/rooms/{for_candidate.json()['room_id']}", headers=candidate)).json()
    assert view["your_relation"] == "candidate"


async def test_each_person_lists_only_the_rooms_they_have_a_part_in(api: Client) -> None:
    room_id, candidate, recruiter, interviewer = await recruiter_room(api)
    outsider, _ = await sign_up(api)

    async def listed(auth: dict[str, str], **params: str) -> dict[str, str]:
        response = await api.get("/rooms", params=params, headers=auth)
        assert response.status_code == 200, response.text
        return {item["room_id"]: item["your_relation"] for item in response.json()["items"]}

    assert (await listed(candidate))[room_id] == "candidate"
    assert (await listed(recruiter))[room_id] == "recruiter"
    assert (await listed(interviewer))[room_id] == "interviewer"
    assert room_id not in await listed(outsider)
    assert room_id in await listed(candidate, status="active")
    assert room_id not in await listed(candidate, status="ended")
    refused = await api.get("/rooms", params={"status": "paused"}, headers=candidate)
    assert refused.status_code == 400 and "status" in refused.text
