"""The demo's job-application tracker: import the sample mailbox, wait for the email sync, print each application
with its timeline."""

from __future__ import annotations

import time

import httpx
import msgspec

from schema.applications import ApplicationPage, ApplicationView, ImportReport, SyncStarted
from stack.sample_mail import SAMPLE_MAILBOX, mbox

SYNC_WAIT_SECONDS = 60


def import_sample_mailbox(http: httpx.Client) -> list[ApplicationView]:
    files = {"file": ("sample.mbox", mbox(*SAMPLE_MAILBOX), "application/mbox")}
    report = msgspec.json.decode(_ok(http.post("/applications/import", files=files)), type=ImportReport)
    print(f"\n== Mail import: {report.imported} emails imported, {report.duplicates} already there ==")
    print(f"  email sync workflow: {report.workflow_id}")
    deadline = time.monotonic() + SYNC_WAIT_SECONDS
    while msgspec.json.decode(_ok(http.get("/applications/sync")), type=SyncStarted).pending:
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
    return details


def _ok(response: httpx.Response) -> bytes:
    if response.status_code >= 400:
        raise SystemExit(f"{response.request.method} {response.request.url.path} failed: {response.text}")
    return response.content
