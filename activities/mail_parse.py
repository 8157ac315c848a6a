"""Mail files in: one `.eml` message or an `.mbox` of many, parsed with the standard library into plain messages.

Pure functions (no I/O): the API calls them off the event loop. A message that cannot be read is reported, not
dropped silently, and never stops the rest of the mailbox from being read.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import hashlib
import html
import itertools
import re
from email.message import EmailMessage, MIMEPart

import msgspec

MAX_MESSAGE_BYTES = 2 * 1024 * 1024  # one message, attachments included; bigger ones are skipped as too big
MAX_TEXT_CHARS = 20_000  # of body text kept for analysis: a job email says what matters at the top
_MBOX_SEPARATOR = re.compile(rb"^From [^\r\n]*\r?\n", re.MULTILINE)
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)


class ParsedEmail(msgspec.Struct, frozen=True, kw_only=True):
    message_id: str  # the Message-ID header, or a digest of the raw bytes when it has none
    sender_name: str
    sender_address: str
    recipient_address: str  # the first To: address (on mail the user sent, that is the employer)
    subject: str
    sent_at: dt.datetime | None
    text: str  # at most MAX_TEXT_CHARS


class Unreadable(msgspec.Struct, frozen=True, kw_only=True):
    position: int  # 1-based, in the file
    reason: str


def split_mbox(raw: bytes) -> list[bytes]:
    """The messages of an mbox (mboxrd/mboxo: each starts with a "From " line); a file without one is one message."""
    starts = [match.start() for match in _MBOX_SEPARATOR.finditer(raw)]
    if not starts or raw[: starts[0]].strip():
        return [raw]
    bounds = [*starts, len(raw)]
    messages = []
    for start, end in itertools.pairwise(bounds):
        body = raw[start:end]
        body = body[body.index(b"\n") + 1 :]
        messages.append(re.sub(rb"(?m)^>(>*From )", rb"\1", body))  # mboxrd un-quoting
    return messages


def parse_message(raw: bytes) -> ParsedEmail:
    """One RFC 5322 message. Raises ValueError with a reason a person understands when it is not one."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ValueError(f"the message is larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MiB")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not (message.get("From") or message.get("Subject")):
        raise ValueError("it has no From or Subject header: not an email")
    name, address = email.utils.parseaddr(_header(message, "From"))
    _recipient_name, recipient = email.utils.parseaddr(_header(message, "To"))
    message_id = _header(message, "Message-ID").strip() or f"<sha256:{hashlib.sha256(raw).hexdigest()}>"
    return ParsedEmail(
        message_id=message_id[:300],
        sender_name=name[:200],
        sender_address=address.lower()[:254],
        recipient_address=recipient.lower()[:254],
        subject=_header(message, "Subject")[:500],
        sent_at=_sent_at(message),
        text=_body_text(message)[:MAX_TEXT_CHARS],
    )


def parse_mailbox(raw: bytes) -> tuple[list[ParsedEmail], list[Unreadable]]:
    parsed: list[ParsedEmail] = []
    unreadable: list[Unreadable] = []
    for position, message in enumerate(split_mbox(raw), start=1):
        try:
            parsed.append(parse_message(message))
        except ValueError as error:
            unreadable.append(Unreadable(position=position, reason=str(error)))
    return parsed, unreadable


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = str(message.get(name, ""))
    except (ValueError, TypeError, LookupError):  # a malformed encoded word: keep what can be read
        value = str(message.get_all(name, [""])[0])
    if "\ufffd" in value:
        value = _raw_header(message, name) or value
    return " ".join(value.split())


def _raw_header(message: EmailMessage, name: str) -> str | None:
    """A header sent as raw 8-bit text the email package could not read (it tries UTF-8), read as such bodies are."""
    for key, raw in message.raw_items():
        text = str(raw)
        # Raw 8-bit bytes arrive as surrogate escapes; a "\ufffd" without them came from a bad encoded word.
        if key.lower() == name.lower() and any("\udc80" <= char <= "\udcff" for char in text):
            return _undeclared_text(text.encode("ascii", "surrogateescape"))
    return None


def _sent_at(message: EmailMessage) -> dt.datetime | None:
    try:
        sent = email.utils.parsedate_to_datetime(_header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return None
    return sent if sent.tzinfo else sent.replace(tzinfo=dt.UTC)


def _body_text(message: EmailMessage) -> str:
    """The plain-text part, else the HTML part with its tags taken out."""
    for preference in (("plain",), ("html",)):
        part = message.get_body(preferencelist=preference)
        if part is None:
            continue
        content = _text_of(part)
        if content is None:
            continue
        if preference == ("html",):
            content = html.unescape(_TAGS.sub(" ", content))
        return "\n".join(" ".join(line.split()) for line in content.splitlines()).strip()
    return ""


def _text_of(part: MIMEPart) -> str | None:
    """A text part's content. Undeclared 8-bit text (no charset, or "us-ascii" over non-ASCII bytes: saved .eml
    files and old mailers) is read as UTF-8 when it is valid UTF-8, else as Windows-1252, not as "\ufffd"s."""
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes) and part.get_content_charset("us-ascii") in ("us-ascii", "ascii"):
        return _undeclared_text(payload)
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: decode what is there
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    return content if isinstance(content, str) else None


def _undeclared_text(raw: bytes) -> str:
    """8-bit text whose charset is not said: UTF-8 when it is valid UTF-8 (most such mail), else Windows-1252."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")
