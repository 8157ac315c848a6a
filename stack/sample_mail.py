"""A sample mailbox for the demo and the tests: the team's labelled example emails, as an mbox."""

from __future__ import annotations

import datetime as dt
import email.utils
import re

from activities.mail_classifier import read_labelled

EXAMPLE_MESSAGES = {email.id: email.raw for email in read_labelled()}  # by example id ("d002"), as written

LUMEN = ("d002", "d016", "d031", "d039", "d055")  # applied, replied, invitation, scheduled, offer
CONTOSO = ("d004", "d010", "d023", "d048")  # applied, viewed, assessment, rejection
TAILSPIN = ("d005", "d018", "d032")  # applied (via LinkedIn), the recruiter writes, an invitation to interview
NOT_ABOUT_APPLICATIONS = ("d075", "d077", "d078")  # a job alert, a newsletter, a friend's dinner invitation


def mbox(*messages: str | bytes) -> bytes:
    """An mbox of the example emails named (each given a Message-ID) and of raw messages as given."""
    parts = []
    for message in messages:
        if isinstance(message, str):
            raw = f"Message-ID: <{message}@examples.mocki.test>\n{EXAMPLE_MESSAGES[message]}".encode()
        else:
            raw = message
        parts.append(b"From MAILER-DAEMON Mon Nov 30 10:00:00 2026\n" + raw.rstrip(b"\n") + b"\n\n")
    return b"".join(parts)


SAMPLE_MAILBOX = (*LUMEN, *CONTOSO, *TAILSPIN, *NOT_ABOUT_APPLICATIONS)


def redated(example: str, sent: dt.datetime, replacements: dict[str, str] | None = None) -> bytes:
    """An example email as if sent at `sent` (its Date header replaced, and any `replacements` made in its text:
    a date it mentions), with its own Message-ID, for mail that must be recent."""
    text = EXAMPLE_MESSAGES[example]
    for old, new in (replacements or {}).items():
        assert old in text, f"{old!r} is not in {example}"
        text = text.replace(old, new)
    text = re.sub(r"^Date: .*$", f"Date: {email.utils.format_datetime(sent)}", text, count=1, flags=re.MULTILINE)
    return f"Message-ID: <{example}-{sent.timestamp():.0f}@examples.mocki.test>\n{text}".encode()
