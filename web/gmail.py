"""Gmail: connect (Google's consent screen, then back to /gmail/callback), see the connection and its sync, set
which mail is read, disconnect. Each user has at most one Gmail account, seen and changed only by them; its tokens
are sealed and never leave the server."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import uuid
from typing import Annotated, Any

import httpx
import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import State
from litestar.exceptions import ClientException, HTTPException, NotFoundException
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_502_BAD_GATEWAY, HTTP_503_SERVICE_UNAVAILABLE

from activities.gmail import GmailMailbox, open_tokens, seal_tokens
from activities.gmail_oauth import ConsentRefused, authorization_url, code_verifier, exchange_code, revoke
from activities.mail_store import MailboxAccessLost, MailboxUnavailable, skipped_of
from activities.sync_requests import email_sync_workflow_id
from schema.mailboxes import (
    GmailAccountView,
    GmailConnectStarted,
    GmailDisconnected,
    GmailFilters,
    GmailTokens,
)
from schema.tables import GmailAccount
from stack.settings import Settings
from web.accounts import Principal
from web.applications import request_sync
from web.auth import PUBLIC
from web.errors import ConflictException
from web.limits import GMAIL_CALLBACK, READS, WRITES, limited

log = logging.getLogger(__name__)
CONNECT_SECONDS = 600  # how long a consent link can be used (once)


class _Pending(msgspec.Struct, frozen=True):
    owner: str
    verifier: str


class GmailController(Controller):
    path = "/gmail"
    tags = ["gmail"]

    @post("/connect", operation_id="connectGmail", guards=[limited(WRITES)], status_code=200)
    async def connect(self, state: State, request: Request[Principal, None, Any]) -> GmailConnectStarted:
        """Start connecting your Gmail (read-only): open `authorization_url` in a browser; after you allow it,
        Google sends you back to `/gmail/callback` and the first sync starts. Connecting again (another account, or
        after access was revoked) replaces the connection."""
        settings: Settings = state.settings
        if not settings.google_client_id:  # not on this server at all: retrying would not help (so no 503)
            raise NotFoundException(
                "Gmail is not set up on this server (GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET); "
                "import .eml or .mbox files at POST /applications/import instead"
            )
        nonce, verifier = secrets.token_urlsafe(32), code_verifier()
        pending = _Pending(owner=str(request.user.id), verifier=verifier)
        await state.redis.set(_pending_key(nonce), msgspec.json.encode(pending), ex=CONNECT_SECONDS)
        return GmailConnectStarted(
            authorization_url=authorization_url(settings, redirect_uri(settings), nonce, verifier),
            expires_in=CONNECT_SECONDS,
        )

    @get("/callback", operation_id="gmailCallback", opt=PUBLIC, guards=[limited(GMAIL_CALLBACK)])
    async def callback(
        self,
        state: State,
        state_token: Annotated[str, QueryParameter(query="state", description="the link's one-time state")] = "",
        code: Annotated[str, QueryParameter(description="Google's authorization code")] = "",
        error: Annotated[str, QueryParameter(description="Google's refusal, e.g. access_denied")] = "",
    ) -> GmailAccountView:
        """Where Google sends the browser back after the consent screen (not called directly)."""
        raw = await state.redis.getdel(_pending_key(state_token)) if state_token else None
        if raw is None:
            raise ClientException(
                "This Gmail connection link has expired or was already used: start again at POST /gmail/connect"
            )
        pending = msgspec.json.decode(raw, type=_Pending)
        if error or not code:
            raise ClientException(f"Google did not give access ({error or 'no code'}): Gmail stays unconnected")
        settings: Settings = state.settings
        try:
            tokens = await exchange_code(state.http, settings, code, redirect_uri(settings), pending.verifier)
        except ConsentRefused as refused:
            raise ClientException(str(refused)) from None
        except httpx.HTTPError:
            raise HTTPException(
                status_code=HTTP_502_BAD_GATEWAY, detail="Google could not be reached: start connecting again"
            ) from None
        try:
            profile = await asyncio.to_thread(lambda: GmailMailbox(settings, tokens).profile())
        except (MailboxAccessLost, MailboxUnavailable) as failed:
            raise HTTPException(status_code=HTTP_502_BAD_GATEWAY, detail=f"{failed}: start connecting again") from None
        await _save_connection(state, pending.owner, str(profile["emailAddress"]).lower(), tokens)
        await request_sync(state, pending.owner)
        return await _view(uuid.UUID(pending.owner))

    @get("/", operation_id="getGmail", guards=[limited(READS)])
    async def get_gmail(self, request: Request[Principal, None, Any]) -> GmailAccountView:
        """Your Gmail connection: its status (`reconnect` when Google no longer accepts it, with the reason), the
        filters, when it last synced, how much it fetched, and what it could not read."""
        return await _view(request.user.id)

    @put("/filters", operation_id="setGmailFilters", guards=[limited(WRITES)])
    async def set_filters(
        self, data: GmailFilters, state: State, request: Request[Principal, None, Any]
    ) -> GmailAccountView:
        """Which mail is read: only messages with one of `labels` (names or ids; none: all mail but spam, trash and
        drafts), received in the last `window_days`. The next sync reads the window again with the new filters
        (messages already read are not read twice)."""
        owner = request.user.id
        account = await _account(owner)
        if data.labels:
            tokens = open_tokens(state.vault, str(owner), account["wrapped_key"], account["sealed_tokens"])
            try:
                _found, unknown = await asyncio.to_thread(
                    lambda: GmailMailbox(state.settings, tokens).label_ids(data.labels)
                )
            except MailboxAccessLost as lost:
                raise ConflictException(f"{lost}: connect Gmail again first") from None
            except MailboxUnavailable as down:
                raise HTTPException(status_code=HTTP_503_SERVICE_UNAVAILABLE, detail=f"{down}: try again") from None
            if unknown:
                raise ClientException(f"Your Gmail has no label named {', '.join(map(repr, unknown))}")
        await GmailAccount.raw(
            "UPDATE gmail_account SET labels = {}, window_days = {}, history_id = NULL, "
            "generation = generation + 1 WHERE owner = {}",
            data.labels,
            data.window_days,
            owner,
        )
        changed = await _view(owner)  # as saved: the sync requested next may already have read the window
        await request_sync(state, str(owner))
        return changed

    @delete("/", operation_id="disconnectGmail", guards=[limited(WRITES)], status_code=200)
    async def disconnect(self, state: State, request: Request[Principal, None, Any]) -> GmailDisconnected:
        """Disconnect Gmail: mocki's access is revoked at Google and the tokens deleted. The mail already read,
        and the applications made from it, stay."""
        owner = request.user.id
        account = await _account(owner)
        tokens = open_tokens(state.vault, str(owner), account["wrapped_key"], account["sealed_tokens"])
        revoked = await revoke(state.http, state.settings, tokens)
        await GmailAccount.delete().where(GmailAccount.owner == owner)
        if revoked:
            return GmailDisconnected(revoked=True, detail="Disconnected: Google revoked mocki's access")
        return GmailDisconnected(
            revoked=False,
            detail="Disconnected here, but Google could not be reached to revoke the access: remove mocki under "
            "Third-party apps in your Google account",
        )


def redirect_uri(settings: Settings) -> str:
    """Where Google sends the browser back: GOOGLE_REDIRECT_URI, else this API's /gmail/callback."""
    if settings.google_redirect_uri:
        return settings.google_redirect_uri
    base = settings.public_url or f"http://{settings.api_host}:{settings.api_port}"
    return f"{base}/gmail/callback"


def _pending_key(nonce: str) -> str:
    return f"gmail-connect:{nonce}"


async def _save_connection(state: State, owner: str, address: str, tokens: GmailTokens) -> None:
    """Inserts or replaces the owner's connection; the same address keeps its checkpoint and filters."""
    wrapped_key, sealed = seal_tokens(state.vault, owner, tokens)
    await GmailAccount.raw(
        "INSERT INTO gmail_account (owner, address, wrapped_key, sealed_tokens, status, connected_at) "
        "VALUES ({}, {}, {}, {}, 'active', {}) ON CONFLICT (owner) DO UPDATE SET "
        "wrapped_key = excluded.wrapped_key, sealed_tokens = excluded.sealed_tokens, status = 'active', "
        "status_reason = NULL, last_error = NULL, connected_at = excluded.connected_at, "
        "generation = gmail_account.generation + 1, "
        "history_id = CASE WHEN gmail_account.address = excluded.address THEN gmail_account.history_id END, "
        "labels = CASE WHEN gmail_account.address = excluded.address THEN gmail_account.labels "
        "ELSE ARRAY[]::text[] END, "
        "address = excluded.address",
        uuid.UUID(owner),
        address,
        wrapped_key,
        sealed,
        dt.datetime.now(dt.UTC),
    )


async def _account(owner: uuid.UUID) -> dict[str, Any]:
    account = await GmailAccount.select().where(GmailAccount.owner == owner).first()
    if account is None:
        raise NotFoundException("Gmail is not connected: start at POST /gmail/connect")
    return account


async def _view(owner: uuid.UUID) -> GmailAccountView:
    account = await _account(owner)
    return GmailAccountView(
        address=account["address"],
        status=account["status"],
        status_reason=account["status_reason"],
        labels=account["labels"],
        window_days=account["window_days"],
        connected_at=account["connected_at"].isoformat(),
        synced_at=account["synced_at"].isoformat() if account["synced_at"] else None,
        fetched=account["fetched"],
        incremental=account["history_id"] is not None,
        skipped=skipped_of(account),
        last_error=account["last_error"],
        workflow_id=email_sync_workflow_id(str(owner)),
    )
