"""Sending mocki's own emails to a user: through Resend when a key is set, else into a local outbox folder as
`.eml` files (the embedded stack, and anyone without a Resend account, still sees every email it would send).

Either way a message is delivered once per idempotency key: Resend is given it as `Idempotency-Key`, and the outbox
names its file after it, so a retried activity never sends twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.policy
import email.utils
import os
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import resend
from resend.exceptions import ResendError

from stack.settings import Settings


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    idempotency_key: str


class DeliveryError(RuntimeError):
    """The transport refused or could not be reached; the activity is retried."""


class Delivery(Protocol):
    transport: str

    async def send(self, mail: OutgoingMail) -> str:
        """Sends it; returns the transport's id for it."""
        ...


class ResendDelivery:
    transport = "resend"

    def __init__(self, api_key: str, api_url: str, sender: str) -> None:
        # The SDK reads its key and base URL from module globals: one Resend account per process.
        resend.api_key = api_key
        resend.api_url = api_url.rstrip("/")
        self._sender = sender

    async def send(self, mail: OutgoingMail) -> str:
        params: resend.Emails.SendParams = {
            "from": self._sender,
            "to": [mail.to],
            "subject": mail.subject,
            "text": mail.text,
        }
        options: resend.Emails.SendOptions = {"idempotency_key": mail.idempotency_key}
        try:
            response = await asyncio.to_thread(resend.Emails.send, params, options)
        except ResendError as exc:
            raise DeliveryError(f"Resend refused the email: {exc}") from exc
        return str(response["id"])


class OutboxDelivery:
    transport = "outbox"

    def __init__(self, folder: Path, sender: str) -> None:
        self._folder = folder
        self._sender = sender

    async def send(self, mail: OutgoingMail) -> str:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = email.utils.format_datetime(dt.datetime.now(dt.UTC))
        message["Message-ID"] = f"<{mail.idempotency_key}@mocki.local>"
        message.set_content(mail.text)
        path = self._folder / f"{mail.idempotency_key}.eml"
        await asyncio.to_thread(_write_atomically, path, message.as_bytes())
        return path.name


def _write_atomically(path: Path, content: bytes) -> None:
    # Written whole or not at all: a reader of the outbox never sees half an email.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def build_delivery(settings: Settings) -> Delivery:
    if settings.resend_api_key:
        return ResendDelivery(settings.resend_api_key, settings.resend_api_url, settings.mail_from)
    return OutboxDelivery(outbox_folder(settings), settings.mail_from)


def outbox_folder(settings: Settings) -> Path:
    return settings.outbox_dir or settings.data_dir / "outbox"


def read_outbox(folder: Path, to: str) -> list[tuple[Path, EmailMessage]]:
    """The emails OutboxDelivery wrote to `folder` for `to`, oldest first."""
    found = []
    for path in sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if isinstance(message, EmailMessage) and message["To"] == to:
            found.append((path, message))
    return found
