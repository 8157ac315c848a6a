"""Job postings imported from JSON/CSV, embedded by the PostingIndexWorkflow and recommended by closeness to the
user's resume and applications (leaving out companies that turned them down), and the weekly digest email; on the
real API, worker, Postgres + pgvector, Temporal and the local embedding model."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow
from temporalio.worker import Replayer

from schema.postings import DigestResult
from schema.tables import JobPosting, RecommendedPosting
from stack.sample_documents import RESUME, pdf
from stack.sample_mail import sample_mailbox_as_of
from stack.sample_postings import SAMPLE_POSTINGS, postings_csv, postings_json
from stack.settings import Settings
from stack.temporal import DATA_CONVERTER
from tests.conftest import sign_up
from tests.test_applications import import_mail, synced
from tests.test_documents import ready, upload
from tests.test_todos import outbox_emails
from workflows.digest import WeeklyDigestWorkflow
from workflows.postings import PostingIndexWorkflow

CLOSE_TO_THE_RESUME = {
    "Senior Backend Engineer, Settlements",
    "Platform Engineer (Go)",
    "Software Engineer, Ledger Services",
}
FAR_FROM_IT = {"Pastry Chef", "Registered Nurse", "Account Executive", "Graphic Designer"}


async def import_postings(
    api: httpx.AsyncClient, auth: dict[str, str], content: bytes, name: str = "postings.csv"
) -> httpx.Response:
    return await api.post("/postings/import", files={"file": (name, content, "text/plain")}, headers=auth)


async def recommended(api: httpx.AsyncClient, auth: dict[str, str], limit: int = 20) -> dict[str, Any]:
    """The recommendations, once every posting the user may see is embedded."""
    for _ in range(300):
        response = await api.get("/recommendations", params={"limit": limit}, headers=auth)
        assert response.status_code == 200, response.text
        if response.json()["unindexed"] == 0:
            return response.json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"postings were not embedded within 30 s: {response.json()}")


async def candidate_with_history(api: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    """A candidate with the sample resume and the sample mailbox (Contoso turns them down) taken in."""
    auth, address = await sign_up(api)
    resume = await upload(api, auth, pdf(RESUME))
    assert resume.status_code == 202, resume.text
    await ready(api, auth, resume.json()["document_id"])
    imported = await import_mail(api, auth, sample_mailbox_as_of(dt.datetime.now(dt.UTC)))
    assert imported.status_code == 202, imported.text
    await synced(api, auth)
    return auth, address


async def test_shared_postings_are_ranked_by_resume_and_applications_without_the_company_that_said_no(
    api: httpx.AsyncClient, temporal: Client
) -> None:
    recruiter, _ = await sign_up(api, role="recruiter", name="Rita")
    published = await import_postings(api, recruiter, postings_csv())
    assert published.status_code == 202, published.text
    assert published.json()["added"] == len(SAMPLE_POSTINGS) and published.json()["shared"] is True
    assert published.json()["workflow_id"] == "posting-index"
    auth, _ = await candidate_with_history(api)

    found = await recommended(api, auth)
    titles = [item["title"] for item in found["recommendations"]]
    assert found["resume_id"] and found["applications"] >= 2
    assert found["embedding_provider"] == "local:all-MiniLM-L6-v2"
    assert set(titles[:3]) == CLOSE_TO_THE_RESUME, titles
    assert all(titles.index(far) > 2 for far in FAR_FROM_IT if far in titles), titles
    # Contoso turned the candidate down (in the sample mailbox): its payments role, close as it is, is left out.
    assert "Backend Engineer, Payments" not in titles
    assert [exclusion["company"] for exclusion in found["excluded"]] == ["Contoso"]
    assert found["excluded"][0]["reason"].startswith("turned you down on ")
    assert "Backend Engineer, Card Issuing" not in titles  # closed in January
    best = found["recommendations"][0]
    assert best["resume_similarity"] > 0.35 and best["history_similarity"] is not None
    assert "close to your resume" in best["because"]
    assert any(reason.startswith("like your application for ") for reason in best["because"])
    settlements = found["recommendations"][titles.index("Senior Backend Engineer, Settlements")]
    assert {"python", "postgres", "kafka"} <= {skill.lower() for skill in settlements["skills"]}, settlements
    assert f"asks for {', '.join(settlements['skills'])}, which your resume shows" in settlements["because"]
    assert found["recommendations"] == sorted(found["recommendations"], key=lambda item: -item["similarity"])
    limited = await api.get("/recommendations", params={"limit": 2}, headers=auth)
    assert [item["title"] for item in limited.json()["recommendations"]] == titles[:2]

    # The index workflow's history replays against the workflow code as it is.
    history = await temporal.get_workflow_handle("posting-index").fetch_history()
    await Replayer(workflows=[PostingIndexWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def test_a_candidates_own_postings_are_theirs_alone_and_import_again_updates_what_changed(
    api: httpx.AsyncClient,
) -> None:
    ada, _ = await sign_up(api)
    bob, _ = await sign_up(api, name="Bob")
    recruiter, _ = await sign_up(api, role="recruiter", name="Rita")
    mine = [
        {"id": "m1", "company": "Quillfeather Labs", "title": "Backend Engineer", "description": "Python services."},
        {"id": "m2", "company": "Quillfeather Labs", "title": "Site Reliability Engineer", "description": "On call."},
    ]
    imported = await import_postings(api, ada, postings_json(mine), name="mine.json")
    assert imported.status_code == 202, imported.text
    assert imported.json() | {"unindexed": 0} == {
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "shared": False,
        "ignored_fields": [],
        "unindexed": 0,
        "workflow_id": "posting-index",
    }
    shared = await import_postings(api, recruiter, postings_json([{**mine[0], "company": "Shared Co"}]), "s.json")
    assert shared.json()["shared"] is True
    for who in (ada, bob):  # both have a role to be ranked against
        made = await api.post(
            "/applications", json={"company": "Elsewhere", "position": "Backend Engineer"}, headers=who
        )
        assert made.status_code == 201, made.text

    listing = (await api.get("/postings", headers=ada)).json()
    assert listing["total"] == 2 and {p["title"] for p in listing["postings"]} == {m["title"] for m in mine}
    posting = listing["postings"][0]
    assert posting["mine"] is True and posting["shared"] is False
    assert (await api.get(f"/postings/{posting['posting_id']}", headers=bob)).status_code == 404
    assert (await api.delete(f"/postings/{posting['posting_id']}", headers=bob)).status_code == 404
    assert (await api.get("/postings", headers=bob)).json() == {"postings": [], "total": 0}
    shared_id = (await api.get("/postings", headers=recruiter)).json()["postings"][0]["posting_id"]
    assert (await api.get(f"/postings/{shared_id}", headers=bob)).json()["mine"] is False
    assert (await api.delete(f"/postings/{shared_id}", headers=bob)).status_code == 404

    ada_sees = {item["company"] for item in (await recommended(api, ada))["recommendations"]}
    bob_sees = {item["company"] for item in (await recommended(api, bob))["recommendations"]}
    assert {"Quillfeather Labs", "Shared Co"} <= ada_sees
    assert "Quillfeather Labs" not in bob_sees and "Shared Co" in bob_sees

    again = (await import_postings(api, ada, postings_json(mine), name="mine.json")).json()
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 2)
    changed = [mine[0], {**mine[1], "description": "On call for Kubernetes clusters.", "extra": "x"}]
    again = (await import_postings(api, ada, postings_json(changed), name="mine.json")).json()
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 1, 1)
    assert again["ignored_fields"] == ["extra"]
    await recommended(api, ada)  # embedded again
    assert await JobPosting.count().where(JobPosting.source_ref == "m2") == 1

    assert (await api.delete(f"/postings/{posting['posting_id']}", headers=ada)).status_code == 204
    assert (await api.get(f"/postings/{posting['posting_id']}", headers=ada)).status_code == 404
    left = {item["posting_id"] for item in (await recommended(api, ada))["recommendations"]}
    assert posting["posting_id"] not in left


async def test_bad_posting_files_are_refused_with_each_bad_row_and_nothing_is_stored(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    good = {"company": "Acme", "title": "Engineer", "description": "Build things."}
    cases: list[tuple[bytes, str, int, str]] = [
        (b"", "p.json", 422, "empty"),
        (b'[{"company": "Acme",', "p.json", 422, "not valid JSON"),
        (b'{"jobs": []}', "p.json", 422, "a list of objects"),
        (b"[1, 2]", "p.json", 422, "item 1 is not an object"),
        (b"company,name\nAcme,Engineer\n", "p.csv", 422, "no title, description column"),
        (b"\xff\xfe\x00bad", "p.csv", 422, "not UTF-8"),
        (postings_json([good, {**good, "company": " "}]), "p.json", 422, "item 2: company is missing"),
        (postings_json([{**good, "url": "javascript:alert(1)"}]), "p.json", 422, "is not an http(s) link"),
        (postings_json([{**good, "closes_at": "next Friday"}]), "p.json", 422, "closes_at 'next Friday'"),
        (postings_json([{**good, "title": ["a"]}]), "p.json", 422, "title must be text"),
        (postings_json([{**good, "id": "x"}, {**good, "id": "x"}]), "p.json", 422, "the same posting as item 1"),
        (postings_json([good] * 5001), "p.json", 422, "at most 5000"),
        (postings_csv([good, {**good, "title": "", "id": "2"}]), "p.csv", 422, "row 3: title is missing"),
    ]
    before = await JobPosting.count()
    for content, name, status, words in cases:
        response = await import_postings(api, auth, content, name)
        assert response.status_code == status, (name, content[:40], response.text)
        assert words in json.dumps(response.json()), (words, response.json())
    many_bad = postings_json([{**good, "company": ""}] * 30)
    refused = (await import_postings(api, auth, many_bad, "p.json")).json()
    assert len(refused["extra"]["problems"]) == 20 and "(and 10 more)" in refused["detail"]
    huge = await import_postings(api, auth, b"x" * (6 * 1024 * 1024), "p.csv")
    assert huge.status_code == 413, huge.text
    assert await JobPosting.count() == before

    nothing = await api.get("/recommendations", headers=auth)
    assert nothing.status_code == 409 and "upload your resume" in nothing.json()["detail"]
    assert (await api.get("/recommendations", params={"limit": 0}, headers=auth)).status_code == 400


async def test_the_weekly_digest_names_new_postings_once_a_week_on_the_users_schedule(
    api: httpx.AsyncClient, temporal: Client, settings: Settings
) -> None:
    recruiter, _ = await sign_up(api, role="recruiter", name="Rita")
    assert (await import_postings(api, recruiter, postings_json(), "postings.json")).status_code == 202
    auth, address = await candidate_with_history(api)
    await recommended(api, auth)

    schedule = (await api.get("/digest", headers=auth)).json()  # made with the first mail import
    assert (schedule["weekday"], schedule["hour"], schedule["paused"]) == ("monday", 8, False)
    assert schedule["next_run_at"] and dt.datetime.fromisoformat(schedule["next_run_at"]).weekday() == 0
    moved = await api.put("/digest", json={"weekday": "friday", "hour": 18}, headers=auth)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["weekday"], moved.json()["hour"]) == ("friday", 18)
    assert dt.datetime.fromisoformat(moved.json()["next_run_at"]).weekday() == 4
    paused = (await api.put("/digest", json={"paused": True}, headers=auth)).json()
    assert (paused["weekday"], paused["hour"], paused["paused"], paused["next_run_at"]) == ("friday", 18, True, None)
    for body in ({"weekday": "someday"}, {"hour": 24}, {"hour": "eight"}, {"daily": True}):
        response = await api.put("/digest", json=body, headers=auth)
        assert response.status_code == 400, (body, response.text)
    stranger, _ = await sign_up(api, name="Mallory")
    assert (await api.get("/digest", headers=stranger)).status_code == 404

    # A tick (triggered now rather than waited for; a paused schedule still runs a trigger) sends the digest.
    handle = temporal.get_schedule_handle(schedule["schedule_id"])
    for tick in (1, 2):
        await handle.trigger()
        run = await _run_of(temporal, schedule["schedule_id"], tick)
        result = await temporal.get_workflow_handle(run, result_type=DigestResult).result()
        assert (result.sent, result.postings) == (True, 5)  # the second: the same email, not sent again
    (digest,) = [mail for mail in outbox_emails(settings, address) if mail["Subject"].startswith("Your week")]
    text = digest.get_content()
    assert digest["Subject"] == "Your week: 5 jobs you may like"
    assert "Senior Backend Engineer, Settlements at Fabrikam Pay (Remote (EU))" in text
    assert "Contoso" not in text.split("Your applications this week")[0]  # turned them down: not recommended
    assert "Your applications this week" in text and "Lumen Health" in text
    assert await RecommendedPosting.count().where(RecommendedPosting.owner.email == address) == 5
    history = await temporal.get_workflow_handle(run).fetch_history()
    await Replayer(workflows=[WeeklyDigestWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def _run_of(temporal: Client, schedule_id: str, runs: int) -> str:
    """The workflow id of the schedule's `runs`-th action, once it has been taken."""
    handle = temporal.get_schedule_handle(schedule_id)
    for _ in range(200):
        actions = (await handle.describe()).info.recent_actions
        if len(actions) >= runs:
            action = actions[runs - 1].action
            assert isinstance(action, ScheduleActionExecutionStartWorkflow)
            return action.workflow_id
        await asyncio.sleep(0.1)
    raise AssertionError(f"the schedule did not start run {runs}")
