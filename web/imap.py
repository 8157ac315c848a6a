"""An IMAP account as a mail source (for mail providers without Gmail's API, or Gmail without Google's
verification): connect with host, user and an app password (checked by logging in, then sealed), see it, remove it.
Each user has at most one, seen and changed only by them; the password never leaves the server."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import uuid
from typing import Any

from litestar import Controller, Request, delete, get, put
from litestar.datastructures import State
from litestar.exceptions import ClientException, HTTPException, NotFoundException
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_502_BAD_GATEWAY

from activities.imap import ImapLogin, ImapSetting, open_session, seal_password
from activities.mail_store import MailboxAccessLost, MailboxUnavailable, skipped_of
from activities.sync_requests import email_sync_workflow_id
from schema.mailboxes import ImapAccountView, ImapConnect
from schema.tables import ImapAccount
from stack.settings import Settings
from web.accounts import Principal
from web.applications import request_sync
from web.limits import READS, WRITES, limited

IMAP_PORTS = (993, 143)  # IMAP over TLS, and IMAP with STARTTLS


class ImapController(Controller):
    path = "/imap"
    tags = ["imap"]

    @put("/", operation_id="connectImap", guards=[limited(WRITES)])
    async def connect(self, data: ImapConnect, state: State, request: Request[Principal, None, Any]) -> ImapAccountView:
        """Connect an IMAP account (replacing any earlier one): the server is asked at once (log in, open the
        folder read-only), then the password is sealed and the first sync starts. Use an app password: mocki
        only reads, and marks nothing as read."""
        await _allowed(state.settings, data.host, data.port)
        login = ImapLogin(data.host, data.port, data.security, data.username, data.password, data.folder)
        try:
            session = await asyncio.to_thread(open_session, login)
        except (MailboxAccessLost, ImapSetting) as refused:
            raise ClientException(str(refused)) from None
        except MailboxUnavailable as down:
            raise HTTPException(status_code=HTTP_502_BAD_GATEWAY, detail=str(down)) from None
        await asyncio.to_thread(session.logout)
        owner = request.user.id
        wrapped_key, sealed = seal_password(state.vault, str(owner), data.password)
        await ImapAccount.raw(
            "INSERT INTO imap_account (owner, host, port, security, username, folder, window_days, wrapped_key, "
            "sealed_password, status, connected_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, 'active', {}) "
            "ON CONFLICT (owner) DO UPDATE SET host = excluded.host, port = excluded.port, "
            "security = excluded.security, username = excluded.username, folder = excluded.folder, "
            "window_days = excluded.window_days, wrapped_key = excluded.wrapped_key, "
            "sealed_password = excluded.sealed_password, status = 'active', status_reason = NULL, "
            "last_error = NULL, connected_at = excluded.connected_at, uidvalidity = NULL, last_uid = 0, "
            "generation = imap_account.generation + 1",
            owner,
            data.host,
            data.port,
            data.security,
            data.username,
            data.folder,
            data.window_days,
            wrapped_key,
            sealed,
            dt.datetime.now(dt.UTC),
        )
        await request_sync(state, str(owner))
        return await _view(owner)

    @get("/", operation_id="getImap", guards=[limited(READS)])
    async def get_imap(self, request: Request[Principal, None, Any]) -> ImapAccountView:
        """Your IMAP account: server, folder, status (`reconnect` with the reason when the login is refused), when
        it last synced, what it fetched and could not read."""
        return await _view(request.user.id)

    @delete("/", operation_id="disconnectImap", guards=[limited(WRITES)], status_code=HTTP_204_NO_CONTENT)
    async def disconnect(self, request: Request[Principal, None, Any]) -> None:
        """Remove the IMAP account and its sealed password; the mail already read and its applications stay."""
        deleted = await ImapAccount.delete().where(ImapAccount.owner == request.user.id).returning(ImapAccount.owner)
        if not deleted:
            raise NotFoundException("no IMAP account is connected")


async def _allowed(settings: Settings, host: str, port: int) -> None:
    """The API connects where the user says: only to IMAP ports of public addresses, unless private hosts are
    allowed (MOCKI_IMAP_PRIVATE_HOSTS), so it cannot be made to probe the network it runs in."""
    if settings.imap_private_hosts:
        return
    if port not in IMAP_PORTS:
        raise ClientException(f"IMAP servers listen on port 993 (ssl) or 143 (starttls), not {port}")
    try:
        addresses = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise ClientException(f"no server is named {host!r}") from None
    for *_, address in addresses:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global:
            raise ClientException(f"{host!r} is a private address: mocki connects only to public mail servers")


async def _view(owner: uuid.UUID) -> ImapAccountView:
    account = await ImapAccount.select().where(ImapAccount.owner == owner).first()
    if account is None:
        raise NotFoundException("no IMAP account is connected: connect one with PUT /imap")
    return ImapAccountView(
        host=account["host"],
        port=account["port"],
        security=account["security"],
        username=account["username"],
        folder=account["folder"],
        window_days=account["window_days"],
        status=account["status"],
        status_reason=account["status_reason"],
        connected_at=account["connected_at"].isoformat(),
        synced_at=account["synced_at"].isoformat() if account["synced_at"] else None,
        fetched=account["fetched"],
        incremental=account["uidvalidity"] is not None,
        skipped=skipped_of(account),
        last_error=account["last_error"],
        workflow_id=email_sync_workflow_id(str(owner)),
    )
