"""The demo's job-application tracker: import the sample mailbox, wait for the email sync, print each application
with its timeline, the todos it made with their reminders, the prep plan of an interview invitation, and the emails
mocki sent about it; then job recommendations from sample postings and the weekly digest."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

import httpx
import msgspec
from temporalio.client import ScheduleActionExecutionStartWorkflow

from activities.digest import digest_schedule_id
from activities.mail_delivery import read_outbox
from activities.todos import INTERVIEW_STATUSES
from schema.applications import ApplicationPage, ApplicationView, ImportReport, SyncStarted
from schema.postings import DigestResult, PostingImport, Recommendations
from schema.prep import PrepPlan
from schema.todos import TodoPage
from stack.demo import DEMO_CANDIDATE, sign_in
from stack.sample_mail import SAMPLE_MAILBOX, sample_mailbox_as_of
from stack.sample_postings import postings_json
from stack.temporal import connect

SYNC_WAIT_SECONDS = 60


def import_sample_mailbox(http: httpx.Client, outbox: Path | None) -> list[ApplicationView]:
    """`outbox`: the folder the emails mocki sends land in (None: they go through Resend)."""
    mailbox = sample_mailbox_as_of(dt.datetime.now(dt.UTC))  # its newest email came yesterday
    files = {"file": ("sample.mbox", mailbox, "application/mbox")}
    report = msgspec.json.decode(_ok(http.post("/applications/import", files=files)), type=ImportReport)
    print(f"\n== Mail import: {report.imported} emails imported, {report.duplicates} already there ==")
    print(f"  email sync workflow: {report.workflow_id}")
    deadline = time.monotonic() + SYNC_WAIT_SECONDS
    while _sync_busy(http):
        if time.monotonic() > deadline:
            raise SystemExit(f"the email sync did not finish within {SYNC_WAIT_SECONDS} s")
        time.sleep(0.2)
    page = msgspec.json.decode(_ok(http.get("/applications")), type=ApplicationPage)
    details = []
    for application in page.items:
        detail = msgspec.json.decode(_ok(http.get(f"/applications/{application.application_id}")), type=ApplicationView)
        details.append(detail)
        print(f"\n  {detail.company} - {detail.position or '(position not named)'}: {detail.status}")
        for event in detail.events or []:
            due = f"  [due {event.deadline[:16]}]" if event.deadline else ""
            at = f"  [interview {event.interview_at[:16]}]" if event.interview_at else ""
            print(f"    {event.occurred_at[:10]}  {event.status:<20} {event.summary}{due}{at}  ({event.provider})")
    skipped = len(SAMPLE_MAILBOX) - sum(len(detail.events or []) for detail in details)
    print(f"\n  {skipped} emails were not about an application (a job alert, a newsletter, a friend)")
    print_todos(http)
    print_prep_plans(http, details)
    print_sent_emails(http, outbox)
    return details


def _sync_busy(http: httpx.Client) -> bool:
    state = msgspec.json.decode(_ok(http.get("/applications/sync")), type=SyncStarted)
    return bool(state.pending or state.running)


def print_todos(http: httpx.Client) -> None:
    todos = msgspec.json.decode(_ok(http.get("/todos")), type=TodoPage).items
    print(f"\n== Todos the mail called for: {len(todos)} ==")
    for todo in todos:
        print(f"  [{todo.status}] {todo.title}")
        for reminder in todo.reminders:
            print(f"      reminder {reminder.state} for {reminder.at[:16]} UTC  ({todo.reminder_workflow_id})")


def print_prep_plans(http: httpx.Client, applications: list[ApplicationView]) -> None:
    """The prep plan of each application now waiting for its interview: the loop back to a mock interview."""
    for application in applications:
        if application.status not in INTERVIEW_STATUSES:
            continue
        plan = msgspec.json.decode(_ok(http.get(f"/applications/{application.application_id}/prep")), type=PrepPlan)
        print(f"\n== Prep plan: {plan.company} invited you to interview ==")
        print(f"  mock interview for {plan.role}; interview {plan.interview_at or 'time not known yet'}")
        print(
            f"  planned from resume {plan.resume_id or '(none)'} and job description {plan.jd_id or '(none naming it)'}"
        )
        print(f"  focus: {', '.join(weakness.category for weakness in plan.focus[:3]) or 'nothing seen yet'}")
        print(f"  next: {plan.next_step}")


def print_sent_emails(http: httpx.Client, outbox: Path | None) -> None:
    if outbox is None:
        print("\n  emails about status changes and reminders are sent through Resend")
        return
    me = http.get("/users/me").json()["email"]
    sent = [f"  {message['Subject']}  ({path})" for path, message in read_outbox(outbox, me)]
    print(f"\n== Emails to {me} (no Resend key: written to {outbox}) ==")
    print("\n".join(sent) or "  none yet")


def _ok(response: httpx.Response) -> bytes:
    if response.status_code >= 400:
        raise SystemExit(f"{response.request.method} {response.request.url.path} failed: {response.text}")
    return response.content


DEMO_RECRUITER = {"email": "rita@demo.mocki.local", "password": "demo-recruiter-password"}
INDEX_WAIT_SECONDS = 120


def recommend_jobs(api_url: str, candidate_token: str) -> None:
    """A recruiter publishes the sample postings; the candidate's recommendations, ranked against the resume and
    the applications imported above."""
    with httpx.Client(base_url=api_url, timeout=30) as recruiter:
        token = sign_in(recruiter, DEMO_RECRUITER, name="Rita", role="recruiter")
        recruiter.headers["Authorization"] = f"Bearer {token}"
        files = {"file": ("postings.json", postings_json(), "application/json")}
        report = msgspec.json.decode(_ok(recruiter.post("/postings/import", files=files)), type=PostingImport)
    print(f"\n== Job postings: a recruiter imported {report.added} new, {report.unchanged} unchanged (shared) ==")
    with httpx.Client(base_url=api_url, timeout=30, headers={"Authorization": f"Bearer {candidate_token}"}) as http:
        deadline = time.monotonic() + INDEX_WAIT_SECONDS
        while True:
            found = msgspec.json.decode(_ok(http.get("/recommendations?limit=5")), type=Recommendations)
            if not found.unindexed:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"the postings were not embedded within {INDEX_WAIT_SECONDS} s")
            time.sleep(0.5)
    print(f"  ranked by {found.embedding_provider} against your resume and {found.applications} applied-for roles")
    for rank, item in enumerate(found.recommendations, start=1):
        print(f"  {rank}. {item.title} at {item.company}  ({item.similarity:.2f})  {'; '.join(item.because)}")
    for exclusion in found.excluded:
        print(f"  left out: {exclusion.company} ({exclusion.reason})")


async def send_weekly_digest(temporal_address: str, namespace: str, owner: str, outbox: Path | None) -> None:
    """Runs the candidate's weekly digest now (its schedule would on Monday) and shows the email."""
    client = await connect(temporal_address, namespace)
    schedule = client.get_schedule_handle(digest_schedule_id(owner))
    runs_before = len((await schedule.describe()).info.recent_actions)
    await schedule.trigger()
    for _ in range(SYNC_WAIT_SECONDS * 10):
        actions = (await schedule.describe()).info.recent_actions
        if len(actions) > runs_before:
            break
        await asyncio.sleep(0.1)
    else:
        raise SystemExit("the weekly digest schedule did not run")
    action = actions[-1].action
    assert isinstance(action, ScheduleActionExecutionStartWorkflow)
    result = await client.get_workflow_handle(action.workflow_id, result_type=DigestResult).result()
    print(f"\n== Weekly digest ({digest_schedule_id(owner)}, Mondays 08:00 UTC; run now) ==")
    print(f"  {result.reason}: {result.postings} postings recommended  (workflow {action.workflow_id})")
    if outbox is not None:
        for path, message in read_outbox(outbox, DEMO_CANDIDATE["email"]):
            if str(message["Subject"]).startswith("Your week"):
                print(f"  {message['Subject']}  ({path})")
