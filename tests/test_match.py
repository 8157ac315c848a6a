"""A resume matched against a job description on the real stack: each requirement judged from the resume's own
chunks (pgvector) and named skills; only the owner of both may compare them."""

from __future__ import annotations

import httpx

from stack.sample_documents import JOB_DESCRIPTION, RESUME, pdf
from tests.conftest import sign_up
from tests.test_documents import ready, upload


async def uploaded_pair(api: httpx.AsyncClient, auth: dict[str, str]) -> tuple[str, str]:
    resume = (await upload(api, auth, pdf(RESUME))).json()["document_id"]
    pasted = await api.post("/documents", files={"kind": (None, "jd"), "text": (None, JOB_DESCRIPTION)}, headers=auth)
    jd = pasted.json()["document_id"]
    for document_id in (resume, jd):
        await ready(api, auth, document_id)
    return resume, jd


async def test_the_match_report_judges_each_requirement_from_the_resume(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    resume, jd = await uploaded_pair(api, auth)
    response = await api.get(f"/documents/{resume}/match/{jd}", headers=auth)
    assert response.status_code == 200, response.text
    match = response.json()
    by_text = {r["requirement"]: r for r in match["requirements"]}
    assert list(by_text) == [  # the JD's requirements and nice-to-haves, one each; responsibilities are not judged
        "5+ years building backend services.",
        "Python, Postgres, Kafka, distributed systems, system design.",
        "Go, Kubernetes, Terraform.",
    ]
    years = by_text["5+ years building backend services."]
    assert years["status"] == "covered" and "the resume's positions span 10" in years["reason"]
    assert years["evidence"]["excerpt"] and years["evidence"]["similarity"] >= 0.45
    skills = by_text["Python, Postgres, Kafka, distributed systems, system design."]
    assert (skills["status"], skills["skills_covered"], skills["skills_missing"]) == (
        "partly",
        ["python", "postgres", "kafka"],
        ["distributed systems", "system design"],
    )
    assert match["required_skills_missing"] == ["distributed systems", "system design"]
    assert by_text["Go, Kubernetes, Terraform."]["skills_missing"] == ["terraform"]
    # Required 1 + 0.5, nice-to-have a quarter of (2 of 3 named: partly, 0.5): (1.5 + 0.125) / 2.25.
    assert match["score"] == 72
    # Missing required skills first; Kubernetes is only in the skills list (no position shows it), but is a
    # nice-to-have; Terraform is missing.
    assert match["focus_topics"] == ["distributed systems", "system design", "terraform"]
    assert match["seniority"] == {"resume": "senior", "jd": "senior"}
    assert match["provider"] == "local:all-MiniLM-L6-v2 + rules:skills-and-years"


async def test_only_the_owner_of_both_may_match_them_and_the_order_is_resume_then_job(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    resume, jd = await uploaded_pair(api, auth)
    stranger, _ = await sign_up(api)
    theirs = await api.get(f"/documents/{resume}/match/{jd}", headers=stranger)
    assert theirs.status_code == 404 and theirs.json()["detail"] == "no such document"
    other_resume, _ = await uploaded_pair(api, stranger)
    mixed = await api.get(f"/documents/{other_resume}/match/{jd}", headers=auth)
    assert mixed.status_code == 404  # the resume is not theirs, even though the JD is
    swapped = await api.get(f"/documents/{jd}/match/{resume}", headers=auth)
    assert swapped.status_code == 400 and "resume (first)" in swapped.json()["detail"]
    not_an_id = await api.get(f"/documents/{resume}/match/not-a-uuid", headers=auth)
    assert not_an_id.status_code in (400, 404)
