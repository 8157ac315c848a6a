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
        raw = _with_message_id(message, EXAMPLE_MESSAGES[message]) if isinstance(message, str) else message
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
    return sent_as(f"{example}-{sent.timestamp():.0f}", text, sent)


def sent_as(message_id: str, text: str, sent: dt.datetime) -> bytes:
    """A raw message (RFC 5322 text with a Date header) given that Message-ID and date."""
    return _with_message_id(message_id, _sent_at(text, sent))


_MONTHS = [dt.date(2026, month, 1).strftime("%B") for month in range(1, 13)]
_WEEKDAYS = [dt.date(2026, 11, day).strftime("%A") for day in range(2, 9)]  # Monday 2 November first
# "Wednesday, November 18, 2026" / "Nov 18, 2026" / "December 4, 2026": the dates the sample emails mention.
_MENTIONED_DATE = re.compile(
    rf"(?:(?P<weekday>{'|'.join(_WEEKDAYS)}), )?(?P<month>{'|'.join(m[:3] for m in _MONTHS)})(?P<rest>[a-z]*) "
    r"(?P<day>\d{1,2}), (?P<year>\d{4})"
)


def sample_mailbox_as_of(now: dt.datetime) -> bytes:
    """The sample mailbox moved forward in whole days so its newest email came yesterday: its Date headers and
    the dates its emails mention (deadlines, interview days, with their weekdays) alike, so the demo's deadlines
    and reminders lie ahead whenever it is run. Message-IDs stay: importing it again adds nothing."""
    sent = {example: _date_of(EXAMPLE_MESSAGES[example]) for example in SAMPLE_MAILBOX}
    shift = dt.timedelta(days=max(0, (now.date() - max(sent.values()).date()).days - 1))

    def moved(match: re.Match[str]) -> str:
        month = [m[:3] for m in _MONTHS].index(match["month"]) + 1
        day = dt.date(int(match["year"]), month, int(match["day"])) + shift
        name = _MONTHS[day.month - 1] if match["rest"] else _MONTHS[day.month - 1][:3]
        weekday = f"{_WEEKDAYS[day.weekday()]}, " if match["weekday"] else ""
        return f"{weekday}{name} {day.day}, {day.year}"

    def as_of(example: str) -> bytes:
        text = _MENTIONED_DATE.sub(moved, EXAMPLE_MESSAGES[example])
        return _with_message_id(example, _sent_at(text, sent[example] + shift))

    return mbox(*(as_of(example) for example in SAMPLE_MAILBOX))


_DATE_HEADER = re.compile(r"^Date: (.*)$", flags=re.MULTILINE)


def _date_of(text: str) -> dt.datetime:
    found = _DATE_HEADER.search(text)
    assert found is not None, "an example email has no Date header"
    return email.utils.parsedate_to_datetime(found.group(1))


def _sent_at(text: str, sent: dt.datetime) -> str:
    return _DATE_HEADER.sub(f"Date: {email.utils.format_datetime(sent)}", text, count=1)


def _with_message_id(message_id: str, text: str) -> bytes:
    return f"Message-ID: <{message_id}@examples.mocki.test>\n{text}".encode()
