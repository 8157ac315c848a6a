"""The demo's scripted candidate: a text interview through the public REST API, then the report."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import msgspec

from schema.documents import MatchReport
from schema.interview import (
    CodeReview,
    HintJobView,
    InterviewerReply,
    InterviewReport,
    JobView,
    ReviewJobView,
    RoomCreated,
    TranscriptPage,
    WeaknessReport,
)
from stack.sample_documents import JOB_DESCRIPTION, RESUME, pdf

# What the scripted candidate says to each question of the bank (strong on some, weak on one, so that
# the report has both strengths and a weakness to show).
ANSWERS = {
    "intro-1": "I'm a backend engineer with five years of experience. Right now I work on payment services in "
    "Python and Go, and I'm looking for a role where I can own distributed systems end to end.",
    "beh-incident": "At the time our team ran the checkout API, and one Friday card payments started failing. I was "
    "on call, so my task was to stop the bleeding. I rolled back the deploy, then I wrote the incident timeline "
    "and set up an alert on the error rate. As a result we now catch that failure in two minutes, not forty.",
    "kn-acid": "Atomicity means a transaction is all or nothing. Consistency means it moves the database from one "
    "valid state to another, keeping every constraint. Isolation means concurrent transactions do not see each "
    "other's half-done work. Durability means that once committed, the data survives a crash.",
    "kn-consistent-hashing": "I'd put the servers on a hash ring.",
    "kn-caching": "A cache helps when reads repeat.",
    "kn-cap": "Partitions happen.",
    "kn-queue-delivery": "Queues give at-most-once or at-least-once delivery. For exactly-once processing I make the "
    "consumer idempotent: it deduplicates by message id in the same transaction as its write, and only then "
    "acknowledges the offset.",
    "code-two-sum": "I'd keep a hash map from each value to its index and, in a single pass, look up the complement "
    "target minus the current number before storing it. That's O(n) time and O(n) space.",
    "cq-1": "How do you help new engineers get productive in their first month?",
}
# Two attempts at the demo's coding question: the first is flawed, the second is right.
SUBMISSIONS = {
    "code-two-sum": [
        "def two_sum(nums, target):\n    for a in range(len(nums)):\n        for b in range(a, len(nums)):\n"
        "            if nums[a] + nums[b] == target:\n                return [a, b]\n",
        "def two_sum(nums, target):\n    seen = {}\n    for index, number in enumerate(nums):\n"
        "        if target - number in seen:\n            return [seen[target - number], index]\n"
        "        seen[number] = index\n",
    ],
}
# What the candidate says when the interviewer follows up on a partial answer.
FOLLOW_UP_ANSWERS = {
    "kn-consistent-hashing": "When a server joins, only a fraction of the keys move to it, not all of them.",
    "kn-caching": "You have to invalidate or expire entries, or people read stale data.",
}
FALLBACK_FOLLOW_UP = "Honestly, I would need to read up on that part before I could say more."
# Where the candidate takes a moment first: the interviewer's host agent waits instead of scoring.
PAUSE_BEFORE = {"kn-acid": "Hmm, let me think for a second."}
JobViewT = TypeVar("JobViewT", HintJobView, ReviewJobView)
# A local demo account on the local stack; its password protects nothing else.
DEMO_CANDIDATE = {"email": "ada@demo.mocki.local", "password": "demo-candidate-password"}
FALLBACK_ANSWER = "I'm not sure; I would look it up and test my assumptions."
ANSWER_POLL_SECONDS = 10


@dataclass(frozen=True)
class DemoOutcome:
    workflow_id: str
    report: InterviewReport


def run_scripted_interview(api_url: str) -> DemoOutcome:
    with httpx.Client(base_url=api_url, timeout=40) as http:
        http.headers["Authorization"] = f"Bearer {sign_in(http)}"
        resume_id, jd_id = upload_documents(http)
        room_body = {
            "role": "Backend Engineer",
            "difficulty": "medium",
            "coding_question_id": "code-two-sum",
            "resume_id": resume_id,
            "jd_id": jd_id,
        }
        created = msgspec.json.decode(_ok(http.post("/rooms", json=room_body)), type=RoomCreated)
        room = f"/rooms/{created.room_id}"
        print(f"\n== Mock interview: room {created.room_id} ==\n")
        question_id = _wait_for_first_question(http, room)
        cursor = _print_new_turns(http, room, -1)
        finished, followed_up = False, False
        while not finished:
            if question_id in SUBMISSIONS:
                hint = _await_job_result(http, f"{room}/ai/hint", {}, HintJobView)
                print(f"  Candidate asks for a hint -> hint {hint.level} of {hint.levels}: {hint.text}\n")
            for code in SUBMISSIONS.get(question_id or "", []):
                print_review(code, _await_job_result(http, f"{room}/ai/review", {"code": code}, ReviewJobView))
            if question_id in PAUSE_BEFORE:
                _say(http, room, PAUSE_BEFORE[question_id or ""])
                cursor = _print_new_turns(http, room, cursor)
            if followed_up:
                answer = FOLLOW_UP_ANSWERS.get(question_id or "", FALLBACK_FOLLOW_UP)
            else:
                answer = ANSWERS.get(question_id or "", FALLBACK_ANSWER)
            reply = _say(http, room, answer)
            finished, question_id = reply.finished, reply.question_id
            followed_up = reply.agent == "question_generation"
            cursor = _print_new_turns(http, room, cursor)
        _ok(http.post(f"{room}/end"))
        report = _await_report(http, room)
        weaknesses = msgspec.json.decode(_ok(http.get("/users/me/ai/weaknesses")), type=WeaknessReport)
    print_report(report)
    print_weaknesses(weaknesses)
    return DemoOutcome(workflow_id=created.workflow_id, report=report)


def upload_documents(http: httpx.Client) -> tuple[str, str]:
    """The team's sample resume (as a PDF) and job description (pasted), read and matched; their ids."""
    resume = _ok(http.post("/documents", data={"kind": "resume"}, files={"file": ("ada.pdf", pdf(RESUME))}))
    jd = _ok(http.post("/documents", files={"kind": (None, "jd"), "text": (None, JOB_DESCRIPTION)}))
    resume_id, jd_id = msgspec.json.decode(resume)["document_id"], msgspec.json.decode(jd)["document_id"]
    deadline = time.monotonic() + 60
    for document_id in (resume_id, jd_id):
        while msgspec.json.decode(_ok(http.get(f"/documents/{document_id}")))["status"] != "ready":
            if time.monotonic() > deadline:
                raise RuntimeError(f"document {document_id} was not read within 60 s")
            time.sleep(0.2)
    match = msgspec.json.decode(_ok(http.get(f"/documents/{resume_id}/match/{jd_id}")), type=MatchReport)
    print(f"\n== Resume vs job description: {match.score}/100 ({match.provider}) ==")
    for requirement in match.requirements:
        print(f"  {requirement.status:<8} {requirement.requirement}  [{requirement.reason}]")
    print(f"  focus topics: {', '.join(match.focus_topics)}")
    return resume_id, jd_id


def _say(http: httpx.Client, room: str, text: str) -> InterviewerReply:
    job = _ok(http.post(f"{room}/ai/message", json={"text": text}))
    reply = _await_job(http, room, msgspec.json.decode(job)["job_id"])
    assert reply.result is not None
    return reply.result


def sign_in(
    http: httpx.Client, account: dict[str, str] = DEMO_CANDIDATE, *, name: str = "Ada", role: str = "candidate"
) -> str:
    """A demo account's access token (the candidate's unless told): signed up on the first demo, signed in on the
    next ones."""
    signup = http.post("/auth/signup", json={**account, "display_name": name, "role": role})
    if signup.status_code == 409:
        return str(msgspec.json.decode(_ok(http.post("/auth/login", json=account)))["access_token"])
    return str(msgspec.json.decode(_ok(signup))["access_token"])


def _print_new_turns(http: httpx.Client, room: str, cursor: int) -> int:
    page = msgspec.json.decode(_ok(http.get(f"{room}/ai/messages", params={"cursor": cursor})), type=TranscriptPage)
    for item in page.items:
        source = item.grounded_in
        cited = f"\n             [from {source.section} chunk {source.chunk}: {source.why}]" if source else ""
        print(f"{'Interviewer' if item.speaker == 'ai' else 'Candidate':>11}: {item.text}{cited}\n")
        cursor = item.seq
    return cursor


def _wait_for_first_question(http: httpx.Client, room: str) -> str | None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page = msgspec.json.decode(_ok(http.get(f"{room}/ai/messages")), type=TranscriptPage)
        if page.items:
            return page.items[0].question_id
        time.sleep(0.1)
    raise RuntimeError("the interviewer did not ask a first question within 30 s")


def _await_job(http: httpx.Client, room: str, job_id: str) -> JobView:
    for _ in range(12):
        view = msgspec.json.decode(
            _ok(http.get(f"{room}/ai/message/{job_id}", params={"wait": ANSWER_POLL_SECONDS})), type=JobView
        )
        if view.status == "completed":
            return view
        if view.status == "failed":
            raise RuntimeError(f"the interviewer failed: {view.error}")
    raise RuntimeError(f"message job {job_id} did not finish in two minutes")


def _await_job_result(http: httpx.Client, path: str, body: dict[str, str], view: type[JobViewT]) -> Any:
    job = msgspec.json.decode(_ok(http.post(path, json=body)))["job_id"]
    for _ in range(12):
        polled = msgspec.json.decode(_ok(http.get(f"{path}/{job}", params={"wait": ANSWER_POLL_SECONDS})), type=view)
        if polled.status == "completed" and polled.result is not None:
            return polled.result
        if polled.status == "failed":
            raise RuntimeError(f"{path} failed: {polled.error}")
    raise RuntimeError(f"job {job} at {path} did not finish in two minutes")


def print_review(code: str, review: CodeReview) -> None:
    print(f"  Candidate submits attempt {review.attempt}:")
    print("".join(f"      {line}\n" for line in code.splitlines()))
    print(f"   Review: {review.passed}/{review.total} tests pass, score {review.score:.1f} ({review.provider})")
    for finding in review.findings:
        print(f"     {finding.category:<12} {finding.verdict:<10} {finding.evidence}")
    for suggestion in review.suggestions:
        print(f"     line {suggestion.line}: {suggestion.message}")
    print()


def print_weaknesses(summary: WeaknessReport) -> None:
    print(f"\n== Weaknesses across {summary.interviews} interview(s) of this candidate ==")
    for weakness in summary.weaknesses:
        print(
            f"  {weakness.category:<16} seen {weakness.count}x in {weakness.sessions} interview(s), "
            f"{weakness.trend}; e.g. {weakness.evidence}"
        )


def _await_report(http: httpx.Client, room: str) -> InterviewReport:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = http.get(f"{room}/report")
        if response.status_code == 200:
            return msgspec.json.decode(response.content, type=InterviewReport)
        if response.status_code not in (404, 409):
            _ok(response)
        time.sleep(0.2)
    raise RuntimeError("the report was not written within 60 s")


def _ok(response: httpx.Response) -> bytes:
    if response.is_error:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    return response.content


def print_report(report: InterviewReport) -> None:
    print("== Report ==")
    print(f"overall {report.overall:.1f} / 5 over {report.answered} scored answers (scored by: {report.provider})")
    for dimension in report.dimensions:
        print(f"  {dimension.dimension:<17} {dimension.score:.1f}  {dimension.evidence}")
    for strength in report.strengths:
        print(f"strength:  {strength}")
    for weakness in report.weaknesses:
        print(f"weakness:  {weakness.topic}\n           {weakness.evidence}")
    for practice in report.recommended_practice:
        print(f"practise:  {practice}")
    if report.context:
        c = report.context
        print(
            f"context:   the summary buffer sent {c.prompt_tokens} tokens over {c.turns} AI turns instead of "
            f"{c.transcript_tokens} for the whole transcript each time ({c.saving:.0%} saved; {c.tokenizer})"
        )
