"""Gmail in: the email sync's step that fetches a connected account's new mail, through google-api-python-client.

The first sync (and one after the filters change, or after Gmail forgot the checkpoint) lists the window's mail;
every later one asks Gmail's history for what was added since the last (`history_id`). Each candidate is looked at
first (labels, date, size), then read raw; a message too big to read whole is read from its text parts without
the attachments. Messages already fetched are not fetched again, and storing is idempotent by Message-ID, so a
retried or repeated sync stores nothing twice. The OAuth tokens stay sealed in the database; a refreshed access
token is sealed back. Google refusing the tokens (revoked, expired) marks the account `reconnect`, with the
reason, instead of failing the sync.

The client is blocking (httplib2): every call runs in a thread.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email.errors
import email.policy
import uuid
from email.message import EmailMessage
from typing import Any

import google_auth_httplib2
import httplib2
import msgspec
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from temporalio import activity

from activities.mail_parse import MAX_MESSAGE_BYTES, MAX_TEXT_CHARS
from activities.mail_store import MailboxAccessLost, MailboxUnavailable, skipped_after, store_fetched
from activities.vault import Vault, decode_wrapped, encode_wrapped, open_sealed, seal
from schema.applications import SyncInput
from schema.mailboxes import GmailTokens, MailboxFetch, SkippedMessage
from schema.tables import GmailAccount, MailMessage
from stack.settings import Settings

TOKENS_PURPOSE = "gmail-tokens"
FULL_SYNC_LIMIT = 2000  # newest messages a full sync reads; older ones in the window are left (said in `skipped`)
PAGE_SIZE = 500  # Gmail's largest page
NEVER_FETCHED = frozenset({"SPAM", "TRASH", "DRAFT"})
HTTP_TIMEOUT_SECONDS = 30


class HistoryExpired(Exception):
    """Gmail no longer has history that old (it keeps about a week): list the window instead."""


def same_connection(account: dict[str, Any]) -> Any:
    """Where clause for the account as it was read: not one reconnected or re-filtered since (a new generation)."""
    return (GmailAccount.owner == account["owner"]) & (GmailAccount.generation == account["generation"])


def seal_tokens(vault: Vault, owner: str, tokens: GmailTokens) -> tuple[bytes, bytes]:
    """(wrapped key, sealed tokens) for a gmail_account row: a fresh data key each time the tokens are written."""
    data_key, wrapped = vault.new_data_key(owner)
    return encode_wrapped(wrapped), seal(data_key, msgspec.json.encode(tokens), owner, TOKENS_PURPOSE)


def open_tokens(vault: Vault, owner: str, wrapped_key: bytes, sealed_tokens: bytes) -> GmailTokens:
    data_key = vault.unwrap(decode_wrapped(wrapped_key), owner)
    return msgspec.json.decode(open_sealed(data_key, sealed_tokens, owner, TOKENS_PURPOSE), type=GmailTokens)


class Candidate(msgspec.Struct, frozen=True):
    gmail_id: str
    raw: bytes | None  # None: filtered out (labels, date) or gone
    reason: str | None = None  # why it could not be read


class GmailMailbox:
    """One account's Gmail. Blocking: call its methods from a thread."""

    def __init__(self, settings: Settings, tokens: GmailTokens) -> None:
        self.credentials = Credentials(  # type: ignore[no-untyped-call]
            token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            token_uri=settings.google_token_uri,
            client_id=settings.google_client_id,
            client_secret=settings.google_client_secret,
            scopes=tokens.scopes,
            expiry=dt.datetime.fromisoformat(tokens.expiry) if tokens.expiry else None,
        )
        http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=httplib2.Http(timeout=HTTP_TIMEOUT_SECONDS))
        options = {"api_endpoint": settings.gmail_api_endpoint} if settings.gmail_api_endpoint else None
        self._users = build(
            "gmail", "v1", http=http, static_discovery=True, cache_discovery=False, client_options=options
        ).users()

    def tokens(self) -> GmailTokens:
        """The tokens now (the access token may have been refreshed)."""
        expiry = self.credentials.expiry
        return GmailTokens(
            access_token=str(self.credentials.token),
            refresh_token=str(self.credentials.refresh_token),
            expiry=expiry.isoformat() if expiry else None,
            scopes=list(self.credentials.scopes or []),
        )

    def profile(self) -> dict[str, Any]:
        return _execute(self._users.getProfile(userId="me"))

    def label_ids(self, names: list[str]) -> tuple[list[str], list[str]]:
        """The ids of the labels named (by name or id, any case), and the names no label has."""
        labels = _execute(self._users.labels().list(userId="me")).get("labels", [])
        known = {key.lower(): label["id"] for label in labels for key in (label["id"], label["name"])}
        found = [known[name.lower()] for name in names if name.lower() in known]
        return list(dict.fromkeys(found)), [name for name in names if name.lower() not in known]

    def list_ids(self, after: dt.datetime, label_ids: list[str]) -> list[str]:
        """Ids of the mail since `after` (with any of the labels, when given), newest first, at most
        FULL_SYNC_LIMIT."""
        found: dict[str, None] = {}
        labels: list[str | None] = [*label_ids] or [None]
        for label in labels:
            page_token = None
            while len(found) < FULL_SYNC_LIMIT:
                page = _execute(
                    self._users.messages().list(
                        userId="me",
                        q=f"after:{int(after.timestamp())}",
                        labelIds=[label] if label else None,
                        maxResults=PAGE_SIZE,
                        pageToken=page_token,
                    )
                )
                found.update((message["id"], None) for message in page.get("messages", []))
                page_token = page.get("nextPageToken")
                if not page_token:
                    break
        return list(found)[:FULL_SYNC_LIMIT]

    def added_since(self, history_id: str) -> tuple[list[str], str]:
        """Ids of the messages added since `history_id`, oldest first, and the history id to continue from."""
        added: dict[str, None] = {}
        page_token = None
        latest = history_id
        while True:
            try:
                page = _execute(
                    self._users.history().list(
                        userId="me",
                        startHistoryId=history_id,
                        historyTypes=["messageAdded"],
                        maxResults=PAGE_SIZE,
                        pageToken=page_token,
                    )
                )
            except HttpError as error:
                if error.resp.status == 404:
                    raise HistoryExpired from None
                raise
            for record in page.get("history", []):
                added.update((item["message"]["id"], None) for item in record.get("messagesAdded", []))
            latest = page.get("historyId", latest)
            page_token = page.get("nextPageToken")
            if not page_token:
                return list(added), latest

    def read(self, gmail_id: str, label_ids: list[str], after: dt.datetime) -> Candidate:
        """The message's bytes, unless its labels or date leave it out; a message too big to read whole is
        rebuilt from its headers and text."""
        try:
            meta = _execute(self._users.messages().get(userId="me", id=gmail_id, format="minimal"))
            labels = set(meta.get("labelIds", []))
            received = dt.datetime.fromtimestamp(int(meta.get("internalDate", "0")) / 1000, dt.UTC)
            if labels & NEVER_FETCHED or (label_ids and not labels & set(label_ids)) or received < after:
                return Candidate(gmail_id, None)
            if int(meta.get("sizeEstimate", 0)) <= MAX_MESSAGE_BYTES:
                raw = _execute(self._users.messages().get(userId="me", id=gmail_id, format="raw"))["raw"]
                return Candidate(gmail_id, base64.urlsafe_b64decode(_padded(raw)))
            full = _execute(self._users.messages().get(userId="me", id=gmail_id, format="full"))
        except HttpError as error:
            if error.resp.status == 404:  # deleted since it was listed
                return Candidate(gmail_id, None)
            raise
        try:
            return Candidate(gmail_id, compact_message(full["payload"]))
        except ValueError as error:
            return Candidate(gmail_id, None, str(error))


def _execute(request: Any) -> dict[str, Any]:
    """One Gmail call; Temporal owns retries. Google's refusals and outages become the two errors the sync
    handles."""
    try:
        response: dict[str, Any] = request.execute(num_retries=0)
    except RefreshError as error:
        raise MailboxAccessLost(f"Google refused the saved Gmail access ({_refusal(error)})") from None
    except HttpError as error:
        status = error.resp.status
        if status == 401:
            raise MailboxAccessLost("Gmail refused the access token even after refreshing it") from None
        if status == 403 and "insufficient" in str(error).lower():
            raise MailboxAccessLost("Gmail read access is no longer granted") from None
        if status in (403, 429) or status >= 500:
            raise MailboxUnavailable(f"Gmail answered HTTP {status}") from None
        raise
    except (TransportError, httplib2.HttpLib2Error, OSError) as error:  # OSError: refused, reset, timed out
        raise MailboxUnavailable(f"Gmail could not be reached ({type(error).__name__})") from None
    return response


def _refusal(error: RefreshError) -> str:
    """Google's error code from a refresh refusal (`invalid_grant`), not its whole text."""
    text = str(error.args[0]) if error.args else str(error)
    return text.split(":", 1)[0].strip()[:80] or "refused"


def _padded(data: str) -> str:
    return data + "=" * (-len(data) % 4)


def compact_message(payload: dict[str, Any]) -> bytes:
    """An RFC 5322 message of a Gmail `full` payload's headers and text, without its attachments. Raises
    ValueError with the reason when it has no text that can be read."""
    text, subtype = _text_part(payload)
    message = EmailMessage(policy=email.policy.default)
    headers = {header["name"].lower(): header["value"] for header in payload.get("headers", [])}
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        if value := headers.get(name.lower()):
            try:
                message[name] = value
            except (ValueError, TypeError, IndexError, email.errors.HeaderParseError):
                continue  # a malformed header: the rest of the message is still worth reading
    message.set_content(text[: MAX_TEXT_CHARS * 4], subtype=subtype)
    return message.as_bytes()


def _text_part(payload: dict[str, Any]) -> tuple[str, str]:
    """The first text/plain part's text, else the first text/html part's."""
    parts: list[dict[str, Any]] = []
    pending = [payload]
    while pending:
        part = pending.pop(0)
        parts.append(part)
        pending[:0] = part.get("parts", [])
    for subtype in ("plain", "html"):
        for part in parts:
            if part.get("mimeType") != f"text/{subtype}":
                continue
            body = part.get("body", {})
            if "data" not in body:
                raise ValueError("its text is too large to read")
            charset = _charset(part) or "utf-8"
            data = base64.urlsafe_b64decode(_padded(body["data"]))
            try:
                return data.decode(charset, "replace"), subtype
            except LookupError:  # an unknown charset
                return data.decode("utf-8", "replace"), subtype
    raise ValueError("it has no text part")


def _charset(part: dict[str, Any]) -> str | None:
    for header in part.get("headers", []):
        if header["name"].lower() == "content-type":
            for parameter in header["value"].split(";")[1:]:
                key, _, value = parameter.strip().partition("=")
                if key.lower() == "charset":
                    return str(value).strip('"')
    return None


class GmailActivities:
    def __init__(self, vault: Vault, settings: Settings) -> None:
        self._vault = vault
        self._settings = settings

    @activity.defn
    async def fetch_gmail(self, request: SyncInput) -> MailboxFetch:
        """Stores the connected account's new mail for the sync to analyse. Raises MailboxUnavailable (retried)
        when Gmail cannot be reached; an account Google no longer accepts is marked `reconnect` instead."""
        owner = uuid.UUID(request.owner)
        account = await GmailAccount.select().where(GmailAccount.owner == owner).first()
        if account is None or account["status"] != "active":
            return MailboxFetch(connected=False)
        tokens = open_tokens(self._vault, request.owner, account["wrapped_key"], account["sealed_tokens"])
        mailbox = await asyncio.to_thread(GmailMailbox, self._settings, tokens)
        # Every write below is to the connection as read: a reconnect meanwhile has new tokens and a clean slate.
        try:
            return await self._fetch(mailbox, account)
        except MailboxAccessLost as lost:
            await GmailAccount.update(
                {GmailAccount.status: "reconnect", GmailAccount.status_reason: f"{lost}: connect Gmail again"}
            ).where(same_connection(account))
            return MailboxFetch(connected=False)
        except MailboxUnavailable as down:
            await GmailAccount.update({GmailAccount.last_error: str(down)}).where(same_connection(account))
            raise
        finally:
            refreshed = mailbox.tokens()
            if refreshed != tokens:  # keep the refreshed access token, sealed
                wrapped_key, sealed = seal_tokens(self._vault, request.owner, refreshed)
                await GmailAccount.update(
                    {GmailAccount.wrapped_key: wrapped_key, GmailAccount.sealed_tokens: sealed}
                ).where(same_connection(account))

    async def _fetch(self, mailbox: GmailMailbox, account: dict[str, Any]) -> MailboxFetch:
        owner = str(account["owner"])
        after = dt.datetime.now(dt.UTC) - dt.timedelta(days=account["window_days"])
        skipped: list[SkippedMessage] = []
        label_ids: list[str] = []
        if account["labels"]:
            label_ids, unknown = await asyncio.to_thread(mailbox.label_ids, account["labels"])
            skipped += [SkippedMessage(mailbox_id="-", reason=f"no Gmail label is named {name!r}") for name in unknown]
            if not label_ids:  # none of the labels exists (any more): reading all mail is not what was asked
                await self._record(account, account["history_id"], 0, skipped)
                return MailboxFetch(connected=True, skipped=len(skipped))
        full = account["history_id"] is None
        if not full:
            try:
                candidates, history_id = await asyncio.to_thread(mailbox.added_since, account["history_id"])
            except HistoryExpired:
                full = True
        if full:
            # The checkpoint is taken before listing: mail arriving meanwhile is in the next sync's history.
            history_id = str((await asyncio.to_thread(mailbox.profile))["historyId"])
            candidates = await asyncio.to_thread(mailbox.list_ids, after, label_ids)
            if len(candidates) == FULL_SYNC_LIMIT:
                skipped.append(SkippedMessage(mailbox_id="-", reason=f"only the newest {FULL_SYNC_LIMIT} were read"))
        already = {
            row["external_id"]
            for row in await MailMessage.select(MailMessage.external_id).where(
                (MailMessage.owner == account["owner"]) & MailMessage.external_id.is_in(candidates or [""])
            )
        }
        fetched = 0
        for gmail_id in (candidate for candidate in candidates if candidate not in already):
            activity.heartbeat(gmail_id)
            candidate = await asyncio.to_thread(mailbox.read, gmail_id, label_ids, after)
            reason = candidate.reason
            if candidate.raw is not None:
                new, reason = await store_fetched(self._vault, owner, "gmail", gmail_id, candidate.raw)
                fetched += new
            if reason:
                skipped.append(SkippedMessage(mailbox_id=gmail_id, reason=reason))
        await self._record(account, history_id, fetched, skipped)
        return MailboxFetch(connected=True, fetched=fetched, skipped=len(skipped), full=full)

    async def _record(
        self, account: dict[str, Any], history_id: str | None, fetched: int, skipped: list[SkippedMessage]
    ) -> None:
        await GmailAccount.update(
            {
                GmailAccount.history_id: history_id,
                GmailAccount.synced_at: dt.datetime.now(dt.UTC),
                GmailAccount.fetched: fetched,
                GmailAccount.skipped: skipped_after(account, skipped),
                GmailAccount.last_error: None,
            }
        ).where(same_connection(account))  # new filters saved meanwhile start again from a full list
