"""IMAP in: the email sync's step that fetches a connected IMAP account's new mail (any provider with app passwords:
Outlook, iCloud, Fastmail, Gmail without Google's verification), with the standard library's imaplib.

The folder is opened read-only (nothing is marked read). The first look, or one after the server renumbered the
folder (a new UIDVALIDITY), searches the window's mail; later ones ask only for UIDs above the last one fetched.
A message over 2 MiB is read as its first MiB: headers and text come first, attachments are what make it big.
The password is sealed in the database like Gmail's tokens; a refused login marks the account `reconnect`.
imaplib blocks: each session runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import imaplib
import re
import ssl
import uuid
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity

from activities.mail_parse import MAX_MESSAGE_BYTES
from activities.mail_store import MailboxAccessLost, MailboxUnavailable, skipped_after, store_fetched
from activities.vault import Vault, decode_wrapped, encode_wrapped, open_sealed, seal
from schema.applications import SyncInput
from schema.mailboxes import MailboxFetch, SkippedMessage
from schema.tables import ImapAccount

PASSWORD_PURPOSE = "imap-password"  # noqa: S105 - the name of what is sealed, not a secret
TIMEOUT_SECONDS = 30
FULL_SYNC_LIMIT = 2000  # newest messages of the window a first look reads
PARTIAL_BYTES = 1024 * 1024
LOOPBACK = ("127.0.0.1", "::1", "localhost")
_FETCHED = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class ImapLoginRefused(MailboxAccessLost):
    """The server refused the user name and password (changed, or the app password revoked)."""


class ImapSetting(ValueError):
    """What the user gave cannot be used (plain text to a remote host, no such folder); the message says why."""


def seal_password(vault: Vault, owner: str, password: str) -> tuple[bytes, bytes]:
    data_key, wrapped = vault.new_data_key(owner)
    return encode_wrapped(wrapped), seal(data_key, password.encode(), owner, PASSWORD_PURPOSE)


def open_password(vault: Vault, owner: str, wrapped_key: bytes, sealed: bytes) -> str:
    return open_sealed(vault.unwrap(decode_wrapped(wrapped_key), owner), sealed, owner, PASSWORD_PURPOSE).decode()


@dataclass
class ImapFetched:
    uidvalidity: int
    last_uid: int
    messages: list[tuple[str, bytes]] = field(default_factory=list)  # (mailbox id UIDVALIDITY:UID, bytes)
    full: bool = False
    capped: bool = False


@dataclass(frozen=True)
class ImapLogin:
    host: str
    port: int
    security: str  # ssl | starttls | plain (loopback only)
    username: str
    password: str
    folder: str


def open_session(login: ImapLogin) -> imaplib.IMAP4:
    """A logged-in session with the folder open read-only. Raises ImapLoginRefused, ImapSetting or
    MailboxUnavailable (the server could not be reached)."""
    if login.security == "plain" and login.host not in LOOPBACK:
        raise ImapSetting("plain-text IMAP is only allowed to this machine: use ssl (port 993) or starttls")
    try:
        if login.security == "ssl":
            session: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                login.host, login.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_SECONDS
            )
        else:
            session = imaplib.IMAP4(login.host, login.port, timeout=TIMEOUT_SECONDS)
            if login.security == "starttls":
                session.starttls(ssl.create_default_context())
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as error:
        raise MailboxUnavailable(f"the IMAP server {login.host}:{login.port} could not be reached ({error})") from None
    try:
        _log_in(session, login)
    except (OSError, imaplib.IMAP4.abort) as error:  # dropped, reset or timed out after connecting
        with contextlib.suppress(OSError):
            session.shutdown()
        raise MailboxUnavailable(f"the IMAP server dropped the connection ({error})") from None
    except (ImapLoginRefused, ImapSetting):
        with contextlib.suppress(OSError):
            session.shutdown()
        raise
    return session


def _log_in(session: imaplib.IMAP4, login: ImapLogin) -> None:
    try:
        session.login(login.username, login.password)
    except imaplib.IMAP4.abort:
        raise  # the connection broke: not a refusal
    except imaplib.IMAP4.error:
        raise ImapLoginRefused("the IMAP server refused the user name and password") from None
    status, _ = session.select(_quoted(login.folder), readonly=True)
    if status != "OK":
        raise ImapSetting(f"the IMAP account has no folder named {login.folder!r}")


def fetch_since(login: ImapLogin, uidvalidity: int | None, last_uid: int, after: dt.datetime) -> ImapFetched:
    """The folder's messages after `last_uid` (or the window's, when the folder was renumbered or never read)."""
    session = open_session(login)
    try:
        current = int(session.response("UIDVALIDITY")[1][0] or 0)
        # Every UID the folder has handed out so far is below UIDNEXT (RFC 3501 says SELECT reports it).
        handed_out = int(session.response("UIDNEXT")[1][0] or 1) - 1
        full = uidvalidity != current
        criteria = f"SINCE {after:%d-%b-%Y}" if full else f"UID {last_uid + 1}:*"
        _, found = session.uid("SEARCH", criteria)
        uids = sorted(int(uid) for uid in (found[0] or b"").split())
        uids = [uid for uid in uids if full or uid > last_uid]  # "n:*" also names the last message when none is new
        capped = full and len(uids) > FULL_SYNC_LIMIT
        uids = uids[-FULL_SYNC_LIMIT:] if capped else uids
        # A full look read the window; what is older than it stays unread, so the next look starts past it all.
        fetched = ImapFetched(
            uidvalidity=current, last_uid=max([handed_out if full else last_uid, *uids]), full=full, capped=capped
        )
        sizes = _sizes(session, uids)
        for uid in uids:
            part = "BODY.PEEK[]" if sizes.get(uid, 0) <= MAX_MESSAGE_BYTES else f"BODY.PEEK[]<0.{PARTIAL_BYTES}>"
            _, data = session.uid("FETCH", str(uid), f"({part})")
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if raw is not None:
                fetched.messages.append((f"{current}:{uid}", raw))
        return fetched
    except (OSError, imaplib.IMAP4.abort) as error:
        raise MailboxUnavailable(f"the IMAP server dropped the connection ({error})") from None
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):  # the session is over either way
            session.logout()


def _sizes(session: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    if not uids:
        return {}
    _, data = session.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)")
    sizes = {}
    for line in data:
        found = _SIZE.search(line if isinstance(line, bytes) else line[0])
        if found:
            uid, size = (found.group(1), found.group(2)) if found.group(1) else (found.group(4), found.group(3))
            sizes[int(uid)] = int(size)
    return sizes


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def login_of(account: dict[str, Any], password: str) -> ImapLogin:
    return ImapLogin(
        host=account["host"],
        port=account["port"],
        security=account["security"],
        username=account["username"],
        password=password,
        folder=account["folder"],
    )


class ImapActivities:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    @activity.defn
    async def fetch_imap(self, request: SyncInput) -> MailboxFetch:
        """Stores the connected IMAP account's new mail for the sync to analyse. Raises MailboxUnavailable
        (retried) when the server cannot be reached; a refused login marks the account `reconnect` instead."""
        owner = uuid.UUID(request.owner)
        account = await ImapAccount.select().where(ImapAccount.owner == owner).first()
        if account is None or account["status"] != "active":
            return MailboxFetch(connected=False)
        same = (ImapAccount.owner == owner) & (ImapAccount.generation == account["generation"])
        password = open_password(self._vault, request.owner, account["wrapped_key"], account["sealed_password"])
        after = dt.datetime.now(dt.UTC) - dt.timedelta(days=account["window_days"])
        try:
            fetched = await asyncio.to_thread(
                fetch_since, login_of(account, password), account["uidvalidity"], account["last_uid"], after
            )
        except (ImapLoginRefused, ImapSetting) as refused:
            reason = f"{refused}: connect the IMAP account again"
            await ImapAccount.update({ImapAccount.status: "reconnect", ImapAccount.status_reason: reason}).where(same)
            return MailboxFetch(connected=False)
        except MailboxUnavailable as down:
            await ImapAccount.update({ImapAccount.last_error: str(down)}).where(same)
            raise
        capped = SkippedMessage(mailbox_id="-", reason=f"only the newest {FULL_SYNC_LIMIT} were read")
        skipped = [capped] if fetched.capped else []
        stored = 0
        for mailbox_id, raw in fetched.messages:
            activity.heartbeat(mailbox_id)
            new, unreadable = await store_fetched(self._vault, request.owner, "imap", mailbox_id, raw)
            stored += new
            if unreadable:
                skipped.append(SkippedMessage(mailbox_id=mailbox_id, reason=unreadable))
        await ImapAccount.update(
            {
                ImapAccount.uidvalidity: fetched.uidvalidity,
                ImapAccount.last_uid: fetched.last_uid,
                ImapAccount.synced_at: dt.datetime.now(dt.UTC),
                ImapAccount.fetched: stored,
                ImapAccount.skipped: skipped_after(account, skipped),
                ImapAccount.last_error: None,
            }
        ).where(same)
        return MailboxFetch(connected=True, fetched=stored, skipped=len(skipped), full=fetched.full)
