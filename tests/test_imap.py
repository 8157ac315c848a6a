"""An IMAP account as a mail source, on the real stack: the standard library's imaplib against a local IMAP server
stand-in (tests/standins/imap_server.py): connecting checks the login, the first sync reads the window, later ones
only new UIDs, a renumbered folder is read again without doubling anything, a changed password asks to reconnect,
a huge message is read from its start, and the API connects only where it may."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from schema.tables import ImapAccount
from stack.sample_mail import redated
from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import isolated_api, sign_up
from tests.standins import imap_server
from tests.test_applications import by_company, detail
from tests.test_gmail import with_attachment

NOW = dt.datetime.now(dt.UTC)


@dataclass
class ImapStack:
    server: imap_server.ImapStandin
    port: int
    api: httpx.AsyncClient
    temporal: Client

    def account(self, name: str) -> tuple[str, imap_server.Account]:
        user = f"{name}-{uuid.uuid4().hex[:8]}@imap.test"
        self.server.accounts[user] = imap_server.Account(password="app password with spaces")
        return user, self.server.accounts[user]

    def body(self, user: str, **overrides: Any) -> dict[str, Any]:
        connect = {"host": "127.0.0.1", "port": self.port, "security": "plain", "username": user}
        return {**connect, "password": self.server.accounts[user].password, **overrides}

    async def settled(self, auth: dict[str, str]) -> dict[str, Any]:
        workflow_id = (await self.api.get("/applications/sync", headers=auth)).json()["workflow_id"]
        await self.temporal.get_workflow_handle(workflow_id).result()
        response = await self.api.get("/imap", headers=auth)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def sync(self, auth: dict[str, str]) -> dict[str, Any]:
        assert (await self.api.post("/applications/sync", headers=auth)).status_code == 202
        return await self.settled(auth)

    async def connect(self, user: str) -> dict[str, str]:
        auth, _ = await sign_up(self.api)
        connected = await self.api.put("/imap", json=self.body(user), headers=auth)
        assert connected.status_code == 200, connected.text
        await self.settled(auth)
        return auth

    async def companies(self, auth: dict[str, str]) -> dict[str, dict[str, Any]]:
        return by_company((await self.api.get("/applications", headers=auth)).json()["items"])


@pytest.fixture(scope="module")
async def imap(worker: object, settings: Settings, endpoints: Endpoints, temporal: Client) -> AsyncIterator[ImapStack]:
    """The session's worker, and an API allowed to reach the stand-in on this machine."""
    server = imap_server.ImapStandin()
    async with (
        imap_server.running(server) as port,
        isolated_api(settings, endpoints, MOCKI_IMAP_PRIVATE_HOSTS="true") as app,
    ):
        yield ImapStack(server, port, app.client, temporal)


def recent(example: str, days: float = 1) -> bytes:
    return redated(example, NOW - dt.timedelta(days=days))


async def test_the_first_sync_reads_the_window_then_only_new_uids(imap: ImapStack) -> None:
    user, mailbox = imap.account("ada")
    mailbox.add(recent("d002", 3), received=NOW - dt.timedelta(days=3))  # Lumen Health: applied
    mailbox.add(recent("d004", 2), received=NOW - dt.timedelta(days=2))  # Contoso: applied
    mailbox.add(recent("d005", 200), received=NOW - dt.timedelta(days=200))  # Tailspin: before the window
    auth = await imap.connect(user)
    account = (await imap.api.get("/imap", headers=auth)).json()
    assert account["fetched"] == 2 and account["incremental"] and account["status"] == "active"
    assert "password" not in account and set(await imap.companies(auth)) == {"Lumen Health", "Contoso"}
    row = await ImapAccount.select().where(ImapAccount.username == user).first()
    assert row is not None and mailbox.password.encode() not in row["sealed_password"]

    mailbox.add(recent("d016", 0.5))  # Lumen replies
    assert (await imap.sync(auth))["fetched"] == 1
    assert (await imap.sync(auth))["fetched"] == 0  # nothing new: nothing read
    lumen = await detail(imap.api, auth, (await imap.companies(auth))["Lumen Health"])
    assert [event["status"] for event in lumen["events"]] == ["applied", "replied"]

    # The server renumbered the folder: the window is read again, and nothing is stored or merged twice.
    mailbox.folders["INBOX"].renumber()
    account = await imap.sync(auth)
    assert account["fetched"] == 0 and account["incremental"]
    lumen = await detail(imap.api, auth, (await imap.companies(auth))["Lumen Health"])
    assert [event["status"] for event in lumen["events"]] == ["applied", "replied"]


async def test_a_huge_message_is_read_from_its_start_and_a_changed_password_asks_to_reconnect(
    imap: ImapStack,
) -> None:
    user, mailbox = imap.account("grace")
    auth = await imap.connect(user)
    mailbox.add(with_attachment(recent("d055", 1), megabytes=3))  # Lumen's offer with a 3 MiB PDF
    mailbox.add(b"\x00 not an email at all")
    account = await imap.sync(auth)
    assert account["fetched"] == 1 and "no From or Subject" in account["skipped"][0]["reason"]
    assert (await imap.companies(auth))["Lumen Health"]["status"] == "offer"

    mailbox.password = "changed"
    account = await imap.sync(auth)  # the sync ends well
    assert account["status"] == "reconnect" and "refused the user name and password" in account["status_reason"]
    mailbox.password = "changed again"
    again = await imap.api.put("/imap", json=imap.body(user), headers=auth)
    assert again.status_code == 200 and again.json()["status"] == "active"


async def test_connecting_checks_the_login_and_where_the_api_may_connect(
    imap: ImapStack, api: httpx.AsyncClient
) -> None:
    user, _ = imap.account("margaret")
    auth, _ = await sign_up(imap.api)
    for overrides, expected in (
        ({"password": "wrong"}, "refused the user name and password"),
        ({"folder": "Jobs"}, "no folder named 'Jobs'"),
        ({"host": "imap.example.com", "port": 143}, "plain-text IMAP is only allowed to this machine"),
        ({"security": "telnet"}, "security"),
        ({"port": 0}, "port"),
        ({"username": ""}, "username"),
    ):
        refused = await imap.api.put("/imap", json=imap.body(user, **overrides), headers=auth)
        assert refused.status_code == 400 and expected in refused.text, (overrides, refused.text)
    assert (await imap.api.get("/imap", headers=auth)).status_code == 404  # nothing was kept

    # The API as deployed (private hosts not allowed) connects only to IMAP ports of public addresses.
    deployed, _ = await sign_up(api)
    for overrides, expected in (
        ({"port": 6379}, "port 993 (ssl) or 143 (starttls), not 6379"),
        ({"port": 993, "security": "ssl"}, "private address"),
    ):
        refused = await api.put("/imap", json=imap.body(user, **overrides), headers=deployed)
        assert refused.status_code == 400 and expected in refused.text, (overrides, refused.text)

    connected = await imap.connect(user)
    other, _ = await sign_up(imap.api, name="Mallory")
    assert (await imap.api.get("/imap", headers=other)).status_code == 404
    assert (await imap.api.delete("/imap", headers=other)).status_code == 404
    assert (await imap.api.delete("/imap", headers=connected)).status_code == 204
    assert (await imap.api.get("/imap", headers=connected)).status_code == 404


async def test_a_connection_dropped_while_opening_the_folder_is_a_server_fault_not_a_crash(imap: ImapStack) -> None:
    user, mailbox = imap.account("edsger")
    auth = await imap.connect(user)
    mailbox.add(recent("d002", 1))
    imap.server.drop_on = "EXAMINE"  # logged in, then the server goes away
    try:
        refused = await imap.api.put("/imap", json=imap.body(user), headers=auth)
        assert refused.status_code == 502 and "dropped the connection" in refused.text, refused.text
        account = await imap.sync(auth)  # the sync ends well, with the reason on the account
    finally:
        imap.server.drop_on = None
    assert account["status"] == "active" and "dropped the connection" in account["last_error"]
    account = await imap.sync(auth)
    assert account["last_error"] is None and account["fetched"] == 1
