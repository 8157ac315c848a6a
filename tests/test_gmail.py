"""Gmail on the real stack: connecting through Google's OAuth flow, the email sync fetching with the real
google-api-python-client and google-auth, all pointed at a local stand-in that speaks Google's wire format
(tests/standins/gmail_api.py): first and incremental syncs, duplicate and concurrent syncs, token expiry and
refresh, a revoked grant, huge, malformed and German messages, label and time-window filters, Gmail down, and
who may see what."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from redis.asyncio import Redis
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from activities.gmail import open_tokens
from activities.question_bank import QuestionBank
from activities.vault import Vault, decode_wrapped, master_keys_of
from schema.tables import GmailAccount
from stack.sample_mail import mbox, redated
from stack.services import Endpoints
from stack.settings import Settings
from stack.temporal import DATA_CONVERTER
from tests.conftest import isolated_api, rotate_master_key, sign_up
from tests.standins import gmail_api
from tests.test_applications import by_company, detail, import_mail
from workflows.email_sync import EmailSyncWorkflow
from workflows.worker import mocki_workers

NOW = dt.datetime.now(dt.UTC)
# A sync that fetched from the mailboxes (recorded with gmail_sync_history below); record it again only for a
# deliberate, versioned change of the workflow.
GMAIL_SYNC_HISTORY = Path(__file__).with_name("histories") / "email_sync_mailboxes.json"


@dataclass
class GmailStack:
    google: gmail_api.Google
    api: httpx.AsyncClient
    temporal: Client

    async def settled(self, auth: dict[str, str]) -> dict[str, Any]:
        """The user's Gmail connection once their email sync has ended (fetched, analysed, merged)."""
        workflow_id = (await self.api.get("/applications/sync", headers=auth)).json()["workflow_id"]
        await self.temporal.get_workflow_handle(workflow_id).result()
        return await self.gmail(auth)

    async def gmail(self, auth: dict[str, str]) -> dict[str, Any]:
        response = await self.api.get("/gmail", headers=auth)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def sync(self, auth: dict[str, str]) -> dict[str, Any]:
        response = await self.api.post("/applications/sync", headers=auth)
        assert response.status_code == 202, response.text
        return await self.settled(auth)

    async def applications(self, auth: dict[str, str]) -> dict[str, dict[str, Any]]:
        return by_company((await self.api.get("/applications", headers=auth)).json()["items"])

    async def consent(self, auth: dict[str, str], address: str | None) -> httpx.Response:
        """What the browser gets back from /gmail/callback after Google's consent screen (as `address`)."""
        self.google.consent_as = address
        started = await self.api.post("/gmail/connect", headers=auth)
        assert started.status_code == 200, started.text
        async with httpx.AsyncClient(timeout=30) as browser:  # no Authorization: it is Google's redirect
            at_google = await browser.get(started.json()["authorization_url"])
            assert at_google.status_code == 302, at_google.text
            return await browser.get(at_google.headers["location"])

    async def connect(self, address: str) -> dict[str, str]:
        """A new user who connects the Gmail `address`; their first sync has ended."""
        auth, _ = await sign_up(self.api)
        connected = await self.consent(auth, address)
        assert connected.status_code == 200, connected.text
        assert connected.json()["address"] == address and connected.json()["status"] == "active"
        await self.settled(auth)
        return auth


@pytest.fixture(scope="module")
async def gmail(db: None, temporal: Client, settings: Settings, endpoints: Endpoints) -> AsyncIterator[GmailStack]:
    """A worker and an API whose Google endpoints are the stand-in's."""
    google = gmail_api.Google()
    queue = f"gmail-{uuid.uuid4()}"
    redis = Redis.from_url(endpoints.redis_url)
    async with gmail_api.running(google) as url:
        env = {
            "GOOGLE_CLIENT_ID": gmail_api.CLIENT_ID,
            "GOOGLE_CLIENT_SECRET": gmail_api.CLIENT_SECRET,
            "GOOGLE_AUTH_URI": f"{url}/o/oauth2/v2/auth",
            "GOOGLE_TOKEN_URI": f"{url}/token",
            "GOOGLE_REVOKE_URI": f"{url}/revoke",
            "GMAIL_API_ENDPOINT": f"{url}/",
        }
        configured = msgspec.structs.replace(
            settings,
            google_client_id=gmail_api.CLIENT_ID,
            google_client_secret=gmail_api.CLIENT_SECRET,
            google_token_uri=env["GOOGLE_TOKEN_URI"],
            gmail_api_endpoint=env["GMAIL_API_ENDPOINT"],
        )
        prefixed = msgspec.structs.replace(configured, task_queue_prefix=queue)
        worker = await mocki_workers(temporal, prefixed, redis, await QuestionBank.load())
        async with worker, isolated_api(settings, endpoints, MOCKI_TASK_QUEUE_PREFIX=queue, **env) as app:
            yield GmailStack(google, app.client, temporal)
    await redis.aclose()


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def recent(example: str, days: float = 1) -> bytes:
    """An example email sent `days` ago, with a Message-ID of its own."""
    return redated(example, days_ago(days))


def address_for(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@gmail.test"


async def test_connecting_reads_the_window_then_only_what_is_new(gmail: GmailStack, settings: Settings) -> None:
    google, address = gmail.google, address_for("ada")
    google.add(address, recent("d002", 3), received=days_ago(3))  # Lumen Health: applied
    google.add(address, recent("d004", 2), received=days_ago(2))  # Contoso: applied
    google.add(address, recent("d077", 2), received=days_ago(2))  # a newsletter
    google.add(address, recent("d005", 200), received=days_ago(200))  # Tailspin, before the 90-day window
    google.add(address, recent("d018", 1), labels=("SPAM",), received=days_ago(1))  # Tailspin again, in spam
    lists_before = google.calls["messages.list"]

    auth = await gmail.connect(address)
    account = await gmail.gmail(auth)
    assert account["fetched"] == 3 and account["incremental"] and account["skipped"] == []
    assert account["window_days"] == 90 and account["labels"] == [] and account["last_error"] is None
    assert set(await gmail.applications(auth)) == {"Lumen Health", "Contoso"}
    assert google.calls["messages.list"] == lists_before + 1

    # The tokens are sealed: the database holds neither of them in the clear, and they open with the vault.
    row = await GmailAccount.select().where(GmailAccount.address == address).first()
    assert row is not None
    (refresh_token,) = [token for token, grant in google.grants.items() if grant.address == address]
    assert refresh_token.encode() not in row["sealed_tokens"]
    tokens = open_tokens(
        Vault(lambda: master_keys_of(settings)), str(row["owner"]), row["wrapped_key"], row["sealed_tokens"]
    )
    assert tokens.refresh_token == refresh_token and tokens.access_token in google.access

    # New mail: the next sync asks Gmail's history for it, and does not list the mailbox again.
    google.add(address, recent("d016", 0.5))  # Lumen replies
    histories_before = google.calls["history.list"]
    account = await gmail.sync(auth)
    assert account["fetched"] == 1
    assert google.calls["messages.list"] == lists_before + 1 and google.calls["history.list"] > histories_before
    lumen = await detail(gmail.api, auth, (await gmail.applications(auth))["Lumen Health"])
    assert [event["status"] for event in lumen["events"]] == ["applied", "replied"]

    # Nothing new: nothing fetched.
    assert (await gmail.sync(auth))["fetched"] == 0

    # Gmail forgot history that old: the window is listed again, and only the new message fetched.
    google.mailbox(address).forgotten_before = 10**9
    google.add(address, recent("d031", 0.2))  # Lumen: an invitation to interview
    account = await gmail.sync(auth)
    assert account["fetched"] == 1 and google.calls["messages.list"] == lists_before + 2
    lumen = await detail(gmail.api, auth, (await gmail.applications(auth))["Lumen Health"])
    assert [event["status"] for event in lumen["events"]] == ["applied", "replied", "interview_invitation"]


async def test_mail_imported_twice_and_synced_at_once_is_analysed_once(gmail: GmailStack) -> None:
    google, address = gmail.google, address_for("grace")
    lumen = [recent(example, days) for example, days in (("d002", 5), ("d016", 4), ("d031", 3))]
    auth = await gmail.connect(address)
    for raw in lumen:
        google.add(address, raw)
    # The same three emails uploaded as a file, while three syncs are asked for at once.
    uploaded, *syncs = await asyncio.gather(
        import_mail(gmail.api, auth, mbox(*lumen)),
        *(gmail.api.post("/applications/sync", headers=auth) for _ in range(3)),
    )
    assert uploaded.status_code == 202 and all(sync.status_code == 202 for sync in syncs)
    await gmail.sync(auth)
    (application,) = (await gmail.applications(auth)).values()
    events = (await detail(gmail.api, auth, application))["events"]
    assert [event["status"] for event in events] == ["applied", "replied", "interview_invitation"]
    # Uploaded first or fetched first, each message is stored once: no sync fetches them again.
    assert (await gmail.sync(auth))["fetched"] == 0


async def test_an_expired_access_token_is_refreshed_and_the_new_one_kept(gmail: GmailStack) -> None:
    google, address = gmail.google, address_for("alan")
    auth = await gmail.connect(address)
    calls = google.account_calls[address]
    refreshes = calls["token:refresh_token"]
    google.expire_access_tokens(address)
    google.add(address, recent("d004", 1))
    account = await gmail.sync(auth)
    assert account["fetched"] == 1 and account["status"] == "active"
    assert calls["token:refresh_token"] == refreshes + 1
    # The refreshed token was sealed back: the next syncs use it instead of refreshing again.
    google.add(address, recent("d010", 0.5))
    assert (await gmail.sync(auth))["fetched"] == 1
    assert calls["token:refresh_token"] == refreshes + 1
    assert [
        event["status"]
        for event in (await detail(gmail.api, auth, (await gmail.applications(auth))["Contoso"]))["events"]
    ] == ["applied", "viewed"]


async def test_a_revoked_grant_asks_to_reconnect_and_the_sync_goes_on(gmail: GmailStack) -> None:
    google, address = gmail.google, address_for("barbara")
    auth = await gmail.connect(address)
    google.revoke_all(address)  # the user removed mocki in their Google account
    google.expire_access_tokens(address)
    google.add(address, recent("d002", 1))  # Lumen: waits for the reconnect
    assert (await import_mail(gmail.api, auth, mbox(recent("d004", 1)))).status_code == 202  # Contoso, uploaded

    account = await gmail.sync(auth)  # the workflow ends well: it did not fail on Gmail
    assert account["status"] == "reconnect"
    assert "invalid_grant" in account["status_reason"] and "connect Gmail again" in account["status_reason"]
    assert set(await gmail.applications(auth)) == {"Contoso"}
    calls = sum(google.account_calls[address].values())
    await gmail.sync(auth)  # while it waits for the reconnect, syncs do not ask Google at all
    assert sum(google.account_calls[address].values()) == calls

    reconnected = await gmail.consent(auth, address)
    assert reconnected.status_code == 200 and reconnected.json()["status"] == "active"
    assert reconnected.json()["status_reason"] is None and reconnected.json()["incremental"]  # same mailbox
    await gmail.settled(auth)
    assert set(await gmail.applications(auth)) == {"Contoso", "Lumen Health"}


def with_attachment(raw: bytes, megabytes: int) -> bytes:
    """The email with a PDF of `megabytes` attached."""
    original = EmailMessage()
    text = raw.decode()
    headers, _, body = text.partition("\n\n")
    for line in headers.splitlines():
        name, _, value = line.partition(": ")
        original[name] = value
    original.set_content(body)
    original.add_attachment(
        b"%PDF-1.7\n" + bytes(megabytes * 1024 * 1024), maintype="application", subtype="pdf", filename="offer.pdf"
    )
    return original.as_bytes()


async def test_huge_malformed_and_german_messages(gmail: GmailStack) -> None:
    google, address = gmail.google, address_for("katherine")
    auth = await gmail.connect(address)
    fulls = google.calls["messages.get:full"]
    google.add(address, with_attachment(recent("d055", 1), megabytes=3))  # Lumen's offer, with a 3 MiB PDF
    garbage = google.add(address, b"\x00\x01 not an email at all \xff" * 50)
    google.add(address, recent("d027", 1))  # Wingtip Travel, in German: an online test by 09.11.2026
    account = await gmail.sync(auth)

    assert account["fetched"] == 2
    assert [(skip["mailbox_id"], "no From or Subject" in skip["reason"]) for skip in account["skipped"]] == [
        (garbage, True)
    ]
    assert google.calls["messages.get:full"] == fulls + 1  # the big one was read without its attachment
    applications = await gmail.applications(auth)
    assert applications["Lumen Health"]["status"] == "offer"
    assert applications["Wingtip Travel"]["status"] == "assessment"


async def test_labels_and_the_time_window_decide_what_is_read(gmail: GmailStack) -> None:
    google, address = gmail.google, address_for("margaret")
    auth = await gmail.connect(address)
    jobs = google.label(address, "Jobs")
    google.add(address, recent("d004", 40), labels=("INBOX", jobs), received=days_ago(40))  # Contoso, too old
    google.add(address, recent("d002", 2), labels=("INBOX", jobs), received=days_ago(2))  # Lumen: read
    google.add(address, recent("d007", 2), labels=("INBOX",), received=days_ago(2))  # Wingtip: not in Jobs

    for body, expected in (
        ({"labels": ["Jobs", "Nope"]}, "no label named 'Nope'"),
        ({"window_days": 0}, "window_days"),
        ({"labels": "Jobs"}, "labels"),
        ({"label": ["Jobs"]}, "label"),
    ):
        refused = await gmail.api.put("/gmail/filters", json=body, headers=auth)
        assert refused.status_code == 400 and expected in refused.text, (body, refused.text)
    changed = await gmail.api.put("/gmail/filters", json={"labels": ["jobs"], "window_days": 30}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["labels"] == ["jobs"] and not changed.json()["incremental"]  # the window is read again
    assert (await gmail.settled(auth))["fetched"] == 1
    assert set(await gmail.applications(auth)) == {"Lumen Health"}

    google.add(address, recent("d006", 0.5), labels=(jobs,))  # Adatum, in Jobs
    google.add(address, recent("d001", 0.5), labels=("INBOX",))  # Northwind, not
    assert (await gmail.sync(auth))["fetched"] == 1
    assert set(await gmail.applications(auth)) == {"Lumen Health", "Adatum"}


async def test_gmail_down_is_recorded_and_the_next_sync_catches_up(gmail: GmailStack) -> None:
    google, address = gmail.google, address_for("radia")
    auth = await gmail.connect(address)
    google.add(address, recent("d002", 1))
    google.failures_left = 100  # every attempt of this sync's Gmail step gets a 503
    assert (await import_mail(gmail.api, auth, mbox(recent("d004", 1)))).status_code == 202
    account = await gmail.settled(auth)
    google.failures_left = 0
    assert account["last_error"] == "Gmail answered HTTP 503" and account["status"] == "active"
    assert set(await gmail.applications(auth)) == {"Contoso"}  # the upload was not held up
    account = await gmail.sync(auth)
    assert account["last_error"] is None and account["fetched"] == 1
    assert set(await gmail.applications(auth)) == {"Contoso", "Lumen Health"}


async def test_the_connection_is_the_owners_alone_and_its_links_work_once(gmail: GmailStack) -> None:
    google, address = gmail.google, address_for("frances")
    google.add(address, recent("d002", 1))
    auth, _ = await sign_up(gmail.api)
    other, _ = await sign_up(gmail.api, name="Mallory")

    denied = await gmail.consent(auth, None)  # the user pressed Cancel at Google
    assert denied.status_code == 400 and "access_denied" in denied.text
    google.consent_scopes = []  # the user unticked "read your email"
    try:
        narrow = await gmail.consent(auth, address)
    finally:
        google.consent_scopes = [gmail_api.GMAIL_READONLY]
    assert narrow.status_code == 400 and "Gmail read access was not granted" in narrow.text
    assert google.live_grants(address) == 0  # the useless grant was given back
    assert (await gmail.api.get("/gmail", headers=auth)).status_code == 404

    google.consent_as = address
    started = (await gmail.api.post("/gmail/connect", headers=auth)).json()
    async with httpx.AsyncClient(timeout=30) as browser:
        back = (await browser.get(started["authorization_url"])).headers["location"]
        assert (await browser.get(back)).status_code == 200
        replayed = await browser.get(back)  # the same link again (a reload, or someone who saw it)
        assert replayed.status_code == 400 and "expired or was already used" in replayed.text
        forged = await browser.get(f"{gmail.api.base_url}/gmail/callback", params={"code": "x", "state": "guess"})
        assert forged.status_code == 400
    await gmail.settled(auth)

    for method, path in (("GET", "/gmail"), ("PUT", "/gmail/filters"), ("DELETE", "/gmail")):
        response = await gmail.api.request(method, path, json={}, headers=other)
        assert response.status_code == 404 and "not connected" in response.text, (method, response.text)
    assert (await gmail.api.get("/applications", headers=other)).json()["items"] == []

    disconnected = await gmail.api.delete("/gmail", headers=auth)
    assert disconnected.status_code == 200 and disconnected.json()["revoked"] is True
    assert google.live_grants(address) == 0
    assert (await gmail.api.get("/gmail", headers=auth)).status_code == 404
    assert set(await gmail.applications(auth)) == {"Lumen Health"}  # what was read stays


async def test_rotating_the_master_key_rewraps_the_gmail_tokens_and_the_sync_still_reads(
    gmail: GmailStack, settings: Settings, endpoints: Endpoints
) -> None:
    google, address = gmail.google, address_for("hedy")
    auth = await gmail.connect(address)
    before = await GmailAccount.select().where(GmailAccount.address == address).first()
    assert before is not None
    rotated = rotate_master_key(settings, endpoints)
    assert "Gmail token keys re-wrapped" in rotated and "IMAP password keys re-wrapped" in rotated, rotated
    after = await GmailAccount.select().where(GmailAccount.address == address).first()
    assert after is not None and after["sealed_tokens"] == before["sealed_tokens"]  # not re-encrypted
    assert decode_wrapped(after["wrapped_key"]).master != decode_wrapped(before["wrapped_key"]).master
    google.add(address, recent("d004", 1))
    assert (await gmail.sync(auth))["fetched"] == 1  # the worker opens the tokens under the new master key


async def test_without_google_credentials_connecting_says_how_to_import_instead(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api)
    response = await api.post("/gmail/connect", headers=auth)
    assert response.status_code == 404 and "POST /applications/import" in response.text


async def gmail_sync_history(gmail: GmailStack) -> WorkflowHistory:
    address = address_for("history")
    gmail.google.add(address, recent("d002", 2))
    auth = await gmail.connect(address)
    gmail.google.add(address, recent("d016", 1))
    await gmail.sync(auth)
    workflow_id = (await gmail.api.get("/applications/sync", headers=auth)).json()["workflow_id"]
    return await gmail.temporal.get_workflow_handle(workflow_id).fetch_history()


async def test_a_gmail_sync_history_replays_recorded_and_fresh(gmail: GmailStack) -> None:
    recorded = WorkflowHistory.from_json("recorded-email-sync-mailboxes", GMAIL_SYNC_HISTORY.read_text())
    scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name for e in recorded.events]
    scheduled = [name for name in scheduled if name]  # other events have none
    assert scheduled[:2] == ["fetch_gmail", "fetch_imap"] and "analyse_message" in scheduled
    replayer = Replayer(workflows=[EmailSyncWorkflow], data_converter=DATA_CONVERTER)
    await replayer.replay_workflow(recorded)
    await replayer.replay_workflow(await gmail_sync_history(gmail))
