"""What every mailbox sync (Gmail, IMAP) shares: the two ways a mailbox fails, storing a fetched message (or saying
why it could not be read), and the account's list of what could not be read."""

from __future__ import annotations

from typing import Any

import msgspec

from activities.applications import jsonb_bytes, store_messages
from activities.mail_parse import parse_message
from activities.vault import Vault
from schema.mailboxes import SkippedMessage

KEPT_SKIPPED = 20  # newest entries of an account's `skipped`


class MailboxAccessLost(Exception):
    """The mailbox refused the saved access (revoked, expired, a changed password): the user connects again."""


class MailboxUnavailable(Exception):
    """The mailbox could not be asked just now (network, 5xx, rate limit): the sync tries again."""


async def store_fetched(vault: Vault, owner: str, source: str, mailbox_id: str, raw: bytes) -> tuple[bool, str | None]:
    """Stores one fetched message (once per Message-ID, noting the mailbox's id). Returns whether it was new, and
    why it could not be read (None when it could)."""
    try:
        parsed = parse_message(raw)
    except ValueError as error:
        return False, str(error)
    stored, _duplicates = await store_messages(vault, owner, [parsed], source, [mailbox_id])
    return stored == 1, None


def skipped_of(account: dict[str, Any]) -> list[SkippedMessage]:
    """What the account's syncs could not read, newest first."""
    return msgspec.json.decode(jsonb_bytes(account["skipped"]), type=list[SkippedMessage])


def skipped_after(account: dict[str, Any], skipped: list[SkippedMessage]) -> str:
    """The account's `skipped` with this sync's added (newest first, at most KEPT_SKIPPED), as JSONB text."""
    return msgspec.json.encode([*reversed(skipped), *skipped_of(account)][:KEPT_SKIPPED]).decode()
