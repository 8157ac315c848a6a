"""The loop from the inbox back to practice, on the real stack: an interview invitation read from mail becomes a
prep plan (a mock interview for the role, from the resume and the job description naming the company, suggested
the day before), the mock interview is started from it, and its report and weaknesses come back to the plan."""

from __future__ import annotations

import datetime as dt

import httpx
from temporalio.client import Client

from stack.sample_documents import JOB_DESCRIPTION, RESUME, pdf
from stack.sample_mail import mbox, redated
from tests.conftest import await_report, sign_up
from tests.test_applications import by_company, import_mail, synced
from tests.test_documents import ready, upload
from tests.test_review import job_result


async def paste_jd(api: httpx.AsyncClient, auth: dict[str, str], text: str) -> str:
    pasted = await api.post("/documents", files={"kind": (None, "jd"), "text": (None, text)}, headers=auth)
    assert pasted.status_code == 202, pasted.text
    return pasted.json()["document_id"]  # type: ignore[no-any-return]


async def test_an_interview_invitation_becomes_a_prep_plan_whose_mock_interview_feeds_it(
    api: httpx.AsyncClient, temporal: Client
) -> None:
    auth, _ = await sign_up(api)
    resume = (await upload(api, auth, pdf(RESUME))).json()["document_id"]
    lumen_jd = await paste_jd(api, auth, JOB_DESCRIPTION.replace("About the role", "About Lumen Health"))
    newer_other_jd = await paste_jd(api, auth, JOB_DESCRIPTION.replace("About the role", "About Contoso"))
    for document_id in (resume, lumen_jd, newer_other_jd):
        await ready(api, auth, document_id)

    now = dt.datetime.now(dt.UTC)
    interview = now + dt.timedelta(days=3)
    mail = mbox(
        redated("d002", now - dt.timedelta(days=6)),  # Lumen Health: applied for Backend Engineer
        redated(  # the interview booked for 3 PM in three days
            "d039",
            now - dt.timedelta(hours=2),
            {
                "Nov 18, 2026 at 3:00 PM": f"{interview:%b} {interview.day}, {interview.year} at 3:00 PM",
                "November 18, 2026, 3:00 PM": f"{interview:%B} {interview.day}, {interview.year}, 3:00 PM",
            },
        ),
    )
    report = (await import_mail(api, auth, mail)).json()
    lumen = by_company(await synced(api, auth))["Lumen Health"]
    await temporal.get_workflow_handle(report["workflow_id"]).result()  # todos are made after the merge

    response = await api.get(f"/applications/{lumen['application_id']}/prep", headers=auth)
    assert response.status_code == 200, response.text
    plan = response.json()
    interview_at = dt.datetime.fromisoformat(plan["interview_at"])
    assert interview_at == interview.replace(hour=15, minute=0, second=0, microsecond=0)
    assert dt.datetime.fromisoformat(plan["practise_by"]) == interview_at - dt.timedelta(days=1)
    assert (plan["company"], plan["role"]) == ("Lumen Health", "Backend Engineer")
    assert (plan["resume_id"], plan["jd_id"]) == (resume, lumen_jd)  # the JD naming Lumen, not the newer one
    assert plan["rooms"] == [] and f"/applications/{lumen['application_id']}/prep/rooms" in plan["next_step"]
    # The plan is suggested as a todo, due the day before, reminded like any other.
    todos = (await api.get(f"/todos?application_id={lumen['application_id']}", headers=auth)).json()["items"]
    (practise,) = [todo for todo in todos if todo["kind"] == "prep"]
    assert practise["title"].startswith("Practise a mock Backend Engineer interview for Lumen Health by ")
    assert practise["due_at"] == plan["practise_by"] and practise["reminders"]

    # Practise: the mock interview is for the role, planned from the plan's documents.
    started = await api.post(
        f"/applications/{lumen['application_id']}/prep/rooms", json={"difficulty": "easy"}, headers=auth
    )
    assert started.status_code == 201, started.text
    room_id = started.json()["room_id"]
    room = (await api.get(f"/rooms/{room_id}", headers=auth)).json()
    assert (room["role"], room["difficulty"], room["resume_id"], room["jd_id"]) == (
        "Backend Engineer",
        "easy",
        resume,
        lumen_jd,
    )
    during = (await api.get(f"/applications/{lumen['application_id']}/prep", headers=auth)).json()
    assert [r["status"] for r in during["rooms"]] == ["active"] and during["next_step"].startswith("Finish")

    for n in range(2):  # terse answers: a communication weakness
        await job_result(api, f"/rooms/{room_id}/ai/message", auth, {"text": f"Not sure ({n})."})
    assert (await api.post(f"/rooms/{room_id}/end", headers=auth)).status_code == 202
    scored = await await_report(api, room_id, auth)

    after = (await api.get(f"/applications/{lumen['application_id']}/prep", headers=auth)).json()
    (practised,) = after["rooms"]
    assert (practised["room_id"], practised["status"]) == (room_id, "ended")
    assert practised["overall"] == scored["overall"] and practised["scored_by"] == scored["provider"]
    assert after["focus"][0]["category"] == "communication" and after["focus"][0]["sessions"] == 1
    assert "working on communication" in after["next_step"]


async def test_no_plan_without_an_invitation_and_none_for_anyone_else(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    other, _ = await sign_up(api, name="Mallory")
    recruiter, _ = await sign_up(api, role="recruiter")
    applied = (await api.post("/applications", json={"company": "Contoso"}, headers=auth)).json()
    missing = await api.get(f"/applications/{applied['application_id']}/prep", headers=auth)
    assert missing.status_code == 404 and "interview invitation" in missing.text
    too_early = await api.post(f"/applications/{applied['application_id']}/prep/rooms", json={}, headers=auth)
    assert too_early.status_code == 404

    # Invited (set by hand): a plan, without a time, practised as soon as you can.
    invited = await api.patch(
        f"/applications/{applied['application_id']}", json={"status": "interview_invitation"}, headers=auth
    )
    assert invited.status_code == 200
    plan = (await api.get(f"/applications/{applied['application_id']}/prep", headers=auth)).json()
    assert plan["interview_at"] is None and plan["practise_by"] is None and plan["resume_id"] is None
    assert plan["role"] == "Software Engineer"  # the application names no position
    bad = await api.post(
        f"/applications/{applied['application_id']}/prep/rooms", json={"difficulty": "brutal"}, headers=auth
    )
    assert bad.status_code == 400 and "difficulty" in bad.text

    for method in ("GET", "POST"):
        path = f"/applications/{applied['application_id']}/prep" + ("/rooms" if method == "POST" else "")
        stolen = await api.request(method, path, json={} if method == "POST" else None, headers=other)
        assert stolen.status_code == 404 and "no such application" in stolen.text, (method, stolen.text)
    recruiting = await api.post(f"/applications/{applied['application_id']}/prep/rooms", json={}, headers=recruiter)
    assert recruiting.status_code == 403
