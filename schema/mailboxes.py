"""Mailboxes the email sync reads (Gmail, an IMAP account): what their endpoints take and return, what is sealed in
the database, and what a sync's fetch step reports."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schema.common import Body

GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
LabelName = Annotated[str, msgspec.Meta(min_length=1, max_length=225)]  # Gmail's own limit on a label's name


class GmailTokens(msgspec.Struct, frozen=True, kw_only=True):
    """Sealed in gmail_account.sealed_tokens; never returned by the API."""

    access_token: str
    refresh_token: str
    expiry: str | None  # ISO 8601, UTC, as google-auth keeps it (naive)
    scopes: list[str]


class GmailConnectStarted(msgspec.Struct, frozen=True, kw_only=True):
    authorization_url: str  # open it in a browser: Google asks for consent, then returns to /gmail/callback
    expires_in: int  # seconds the link can be used, once


class SkippedMessage(msgspec.Struct, frozen=True, kw_only=True):
    mailbox_id: str  # the mailbox's id of the message (Gmail's id; UIDVALIDITY:UID for IMAP); "-" for the sync
    reason: str


class GmailAccountView(msgspec.Struct, frozen=True, kw_only=True):
    address: str
    # "active"; "reconnect" when Google refused the saved access (revoked or expired): connect again.
    status: str
    status_reason: str | None
    labels: list[str]
    window_days: int
    connected_at: str
    synced_at: str | None
    fetched: int  # messages the last look at Gmail fetched
    incremental: bool  # the next sync asks Gmail only for what changed since the last one
    skipped: list[SkippedMessage]  # messages the syncs could not read, with the reason (newest first)
    last_error: str | None  # why the last sync could not reach Gmail; it tries again at the next
    workflow_id: str  # the email sync that fetches and analyses the mail


class GmailFilters(Body):
    labels: Annotated[list[LabelName], msgspec.Meta(max_length=20)] = []
    window_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 90


class GmailDisconnected(msgspec.Struct, frozen=True, kw_only=True):
    revoked: bool  # Google confirmed the access was revoked
    detail: str


class MailboxFetch(msgspec.Struct, frozen=True, kw_only=True):
    """What one fetch step (Gmail, IMAP) of the email sync did."""

    connected: bool  # a usable Gmail account was there
    fetched: int = 0
    skipped: int = 0
    # Read the whole window: a first sync, new filters, Gmail had forgotten the checkpoint, the IMAP folder was
    # renumbered.
    full: bool = False


Host = Annotated[str, msgspec.Meta(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-:\[\]]+$")]


class ImapConnect(Body):
    host: Host
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]  # an app password: sealed, never shown
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 993
    security: Literal["ssl", "starttls", "plain"] = "ssl"  # plain: only to this machine
    folder: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = "INBOX"
    window_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 90


class ImapAccountView(msgspec.Struct, frozen=True, kw_only=True):
    host: str
    port: int
    security: str
    username: str
    folder: str
    window_days: int
    status: str  # active | reconnect (the server refused the login: connect again)
    status_reason: str | None
    connected_at: str
    synced_at: str | None
    fetched: int  # messages the last look at the folder stored
    incremental: bool  # the next sync asks only for UIDs above the last one read
    skipped: list[SkippedMessage]
    last_error: str | None  # why the last sync could not reach the server; it tries again at the next
    workflow_id: str
