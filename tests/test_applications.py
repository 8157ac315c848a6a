"""The job-application tracker on the real stack: a mailbox imported through the API is analysed by the email sync
workflow (offline classifier) and merged into applications with timelines."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx

from stack.sample_mail import CONTOSO, LUMEN, NOT_ABOUT_APPLICATIONS, mbox
from tests.conftest import sign_up


async def import_mail(
    api: httpx.AsyncClient, auth: dict[str, str], content: bytes, name: str = "inbox.mbox"
) -> httpx.Response:
    return await api.post("/applications/import", files={"file": (name, content, "application/mbox")}, headers=auth)


async def synced(api: httpx.AsyncClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    """The applications, once the email sync has taken in everything imported."""
    for _ in range(300):
        state = await api.get("/applications/sync", headers=auth)
        assert state.status_code == 200, state.text
        if state.json()["pending"] == 0:
            listing = await api.get("/applications", headers=auth)
            assert listing.status_code == 200, listing.text
            return listing.json()["items"]  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError("the email sync did not finish within 30 s")


async def detail(api: httpx.AsyncClient, auth: dict[str, str], application: dict[str, Any]) -> dict[str, Any]:
    response = await api.get(f"/applications/{application['application_id']}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def by_company(applications: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {application["company"]: application for application in applications}


async def test_an_imported_mailbox_becomes_applications_with_timelines_deadlines_and_interview_times(
    api: httpx.AsyncClient,
) -> None:
    auth, _ = await sign_up(api)
    response = await import_mail(api, auth, mbox(*LUMEN, *CONTOSO, *NOT_ABOUT_APPLICATIONS))
    assert response.status_code == 202, response.text
    report = response.json()
    assert report["imported"] == 12 and report["duplicates"] == 0 and report["unreadable"] == []
    assert report["workflow_id"].startswith("email-sync-")

    applications = by_company(await synced(api, auth))
    assert set(applications) == {"Lumen Health", "Contoso"}  # the alert, newsletter and dinner made none
    lumen = await detail(api, auth, applications["Lumen Health"])
    assert (lumen["position"], lumen["status"], lumen["source"]) == ("Backend Engineer", "offer", "email")
    assert [event["status"] for event in lumen["events"]] == [
        "applied",
        "replied",
        "interview_invitation",
        "interview_scheduled",
        "offer",
    ]
    scheduled, offer = lumen["events"][3], lumen["events"][4]
    assert scheduled["interview_at"] == "2026-11-18T15:00:00+00:00"
    assert "Prepare for the interview at Lumen Health on Nov 18, 2026 15:00" in scheduled["summary"]
    assert offer["deadline"] == "2026-12-04T23:59:00+00:00"
    assert all(event["provider"].startswith("offline:") and event["from_email"] for event in lumen["events"])

    contoso = await detail(api, auth, applications["Contoso"])
    assert (contoso["position"], contoso["status"]) == ("Site Reliability Engineer", "rejection")
    assessment = next(event for event in contoso["events"] if event["status"] == "assessment")
    # "Please complete it within 72 hours of receiving this email", sent Oct 29 09:00 UTC.
    assert assessment["deadline"] == "2026-11-01T09:00:00+00:00"


async def test_the_same_mail_imported_again_or_twice_at_once_is_analysed_once(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    content = mbox(*LUMEN)
    first, second = await asyncio.gather(import_mail(api, auth, content), import_mail(api, auth, content))
    assert first.status_code == second.status_code == 202, (first.text, second.text)
    assert first.json()["imported"] + second.json()["imported"] == 5
    assert first.json()["duplicates"] + second.json()["duplicates"] == 5
    applications = await synced(api, auth)
    again = await import_mail(api, auth, content)
    assert again.json() | {"workflow_id": ""} == {"imported": 0, "duplicates": 5, "unreadable": [], "workflow_id": ""}
    after = await synced(api, auth)
    assert len(applications) == len(after) == 1
    assert len((await detail(api, auth, after[0]))["events"]) == 5  # one event per email, however often imported


async def test_mail_that_cannot_be_read_is_reported_and_the_rest_is_taken(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    garbage = b"\x00\x01 this is not an email at all \xff\xfe"
    huge = b"From: Big <big@huge.example>\nSubject: attachment\n\n" + b"x" * (3 * 1024 * 1024)
    response = await import_mail(api, auth, mbox("d027", garbage, huge))  # d027: a German assessment invitation
    assert response.status_code == 202, response.text
    report = response.json()
    assert report["imported"] == 1
    assert report["unreadable"] == [
        "message 2: it has no From or Subject header: not an email",
        "message 3: the message is larger than 2 MiB",
    ]
    (wingtip,) = await synced(api, auth)
    wingtip = await detail(api, auth, wingtip)
    assert (wingtip["company"], wingtip["position"], wingtip["status"]) == (
        "Wingtip Travel",
        "Frontend Developer",
        "assessment",
    )
    assert wingtip["events"][0]["deadline"] == "2026-11-09T23:59:00+00:00"  # "bis zum 09.11.2026"

    for content, expected in (
        (b"", "The file is empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "No email could be read from this file"),
    ):
        refused = await import_mail(api, auth, content, name="resume.pdf")
        assert refused.status_code == 422 and expected in refused.json()["detail"], refused.text
    assert len(await synced(api, auth)) == 1  # nothing already stored was lost


async def test_status_moves_forward_only_unless_the_user_sets_it(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    await import_mail(api, auth, mbox("d031"))  # Lumen Health: invitation to interview (Nov 6)
    await synced(api, auth)
    await import_mail(api, auth, mbox("d002"))  # the older "application received" (Oct 6) arrives later
    (lumen,) = await synced(api, auth)
    assert lumen["status"] == "interview_invitation"
    assert [event["status"] for event in (await detail(api, auth, lumen))["events"]] == [
        "applied",
        "interview_invitation",
    ]

    url = f"/applications/{lumen['application_id']}"
    changed = await api.patch(url, json={"status": "applied"}, headers=auth)
    assert changed.status_code == 200 and changed.json()["status"] == "applied", changed.text
    assert changed.json()["events"][-1] | {"occurred_at": ""} == {
        "status": "applied",
        "occurred_at": "",
        "summary": "Set by hand",
        "deadline": None,
        "interview_at": None,
        "provider": "manual",
        "from_email": False,
    }
    archived = await api.patch(url, json={"archived": True}, headers=auth)
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert (await api.get("/applications", headers=auth)).json()["items"] == []
    assert len((await api.get("/applications", params={"archived": "true"}, headers=auth)).json()["items"]) == 1


async def test_applications_by_hand_and_bad_requests(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    created = await api.post(
        "/applications", json={"company": "Tailspin Toys", "position": "Mobile Engineer"}, headers=auth
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "applied" and created.json()["source"] == "manual"
    await import_mail(api, auth, mbox("d032"))  # Tailspin: "Let's schedule your first interview"
    (tailspin,) = await synced(api, auth)  # the email joined the application made by hand
    assert (tailspin["application_id"], tailspin["status"]) == (
        created.json()["application_id"],
        "interview_invitation",
    )

    for body, expected in (
        ({"company": ""}, "company"),
        ({"company": "X", "status": "hired"}, "status"),
        ({"company": "X", "salary": 1}, "salary"),
    ):
        refused = await api.post("/applications", json=body, headers=auth)
        assert refused.status_code == 400 and expected in refused.text, refused.text
    malformed = await api.post(
        "/applications", content=b'{"company": ', headers=auth | {"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400, malformed.text


async def test_no_one_else_sees_or_changes_your_applications(api: httpx.AsyncClient) -> None:
    owner, _ = await sign_up(api)
    other, _ = await sign_up(api, name="Eve")
    await import_mail(api, owner, mbox(*CONTOSO))
    (contoso,) = await synced(api, owner)
    url = f"/applications/{contoso['application_id']}"
    assert (await api.get(url, headers=other)).status_code == 404
    assert (await api.patch(url, json={"archived": True}, headers=other)).status_code == 404
    assert (await api.get("/applications", headers=other)).json()["items"] == []
    # The same mail imported by someone else is theirs: a separate copy, analysed for them.
    assert (await import_mail(api, other, mbox(*CONTOSO))).json()["imported"] == 4
    (theirs,) = await synced(api, other)
    assert theirs["application_id"] != contoso["application_id"]
    assert (await api.get(url, headers=owner)).json()["archived"] is False
    assert (await api.get("/applications", headers={})).status_code == 401
    assert dt.datetime.fromisoformat(theirs["updated_at"]).tzinfo is not None


async def test_mail_saved_without_a_declared_charset_is_read_as_it_was_written(api: httpx.AsyncClient) -> None:
    """Saved .eml files and old mailers often send 8-bit text with no charset: UTF-8 is read as UTF-8, and anything
    else as Windows-1252, so "8 décembre" is still a date (read as US-ASCII it became "8 d\ufffd\ufffdcembre"). The
    employer is named as it writes itself, without its recruiting team: "Lumière" for recrutement@lumiere."""
    auth, _ = await sign_up(api)
    for company, domain, encoding in (("Lumière", "lumiere", "utf-8"), ("Château Morel", "chateaumorel", "cp1252")):
        email = (
            f"From: {company} Recrutement <recrutement@{domain}.example>\n"
            f"Subject: Test technique - Data Analyst\n"
            f"Date: Tue, 01 Dec 2026 09:00:00 +0000\n"
            f"Message-ID: <undeclared-{encoding}@mocki.test>\n\n"
            "Bonjour,\n\nMerci pour votre candidature au poste de Data Analyst. Nous vous invitons à passer notre test "
            "en ligne avant le 8 décembre 2026.\n\nL'équipe recrutement\n"
        ).encode(encoding)
        response = await import_mail(api, auth, email, name=f"{encoding}.eml")
        assert response.status_code == 202, response.text
    applications = by_company(await synced(api, auth))
    assert set(applications) == {"Lumière", "Château Morel"}
    for application in applications.values():
        timeline = await detail(api, auth, application)
        assert timeline["status"] == "assessment"
        assert timeline["events"][0]["deadline"] == "2026-12-08T23:59:00+00:00"


async def test_job_titles_are_read_from_german_spanish_and_french_mail(api: httpx.AsyncClient) -> None:
    # A German title is one word, the role last; a Spanish or French one starts with the role and goes on in lower
    # case. Read with the English title pattern alone, none of these had a position.
    auth, _ = await sign_up(api)
    assert (await import_mail(api, auth, mbox("t004", "v004", "v008", "t039"))).status_code == 202
    positions = {application["company"]: application["position"] for application in await synced(api, auth)}
    assert positions == {
        "Lindenhof Maschinenbau": "Projektingenieur",  # "Ihre Bewerbung als Projektingenieur"
        "Hermosa Viajes": "Agente de viajes",  # "Tu candidatura a Agente de viajes"
        "Boulangerie Dufour": "Responsable de boutique",  # "le poste de Responsable de boutique et l'étudie"
        "Maison Berthier": "Chef de projet digital",  # "au poste de Chef de projet digital."
    }
