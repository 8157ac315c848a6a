"""Email analysis: the offline classifier's accuracy per status on the team's labelled emails, and its throughput;
with OPENAI_API_KEY set (and OPENAI_BASE_URL for any compatible server), the language model's accuracy on all of
them too (it was trained on none).

The labelled emails: `activities/mail_examples/` (648 in thirteen sets, each written at a different time, most of
them after a version of the classifier was frozen, to measure it; the classifier is trained on all of them) and
`bench/eval/emails_fresh_10.txt` (60, every status, four languages), written after this version was frozen and never
trained on or used to change it. Figures: leave one set out (trained on the other twelve sets, scored on the
thirteenth: mail of a batch never trained on, though the phrase rules were written knowing all thirteen) and the fresh
set with the shipped model. Each email is a block `=== id | status | company | position` followed by the message
itself (RFC 5322); "none" is not about an application. An email is right when both "is it about an application"
and its status are.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec
import numpy as np

from activities.mail_classifier import (
    EXAMPLES,
    NOT_APPLICATION,
    STATUSES,
    EmailAnalysis,
    LabelledEmail,
    StatusModel,
    classify,
    examples_meaning,
    features,
    read_labelled,
    rules_decision,
    trained_model,
)
from activities.mail_fields import same_company
from activities.mail_llm import OpenAIEmailReader, build_email_reader
from activities.mail_parse import ParsedEmail, parse_message
from schema.applications import SyncInput
from stack.settings import load_settings

FRESH = Path(__file__).with_name("eval") / "emails_fresh_10.txt"
ANALYSES_AT_ONCE = SyncInput(owner="").concurrency  # emails read at once, offline or by the model, as the sync does


class Labelled(msgspec.Struct, frozen=True):
    email: LabelledEmail
    message: ParsedEmail


def load(*paths: Path) -> list[Labelled]:
    return [Labelled(email, parse_message(email.raw.encode())) for email in read_labelled(*paths)]


def predicted_status(analysis: EmailAnalysis) -> str:
    return analysis.status if analysis.about_application and analysis.status else NOT_APPLICATION


class Tally:
    def __init__(self) -> None:
        self.right: Counter[str] = Counter()
        self.seen: Counter[str] = Counter()
        self.company = self.merged = self.position = self.applications = 0
        self.wrong: list[str] = []

    def add(self, email: LabelledEmail, analysis: EmailAnalysis) -> None:
        self.seen[email.status] += 1
        got = predicted_status(analysis)
        if got == email.status:
            self.right[email.status] += 1
        else:
            self.wrong.append(f"{email.id}: {email.status} -> {got}")
        if email.status != NOT_APPLICATION:
            self.applications += 1
            self.company += analysis.company == email.company
            self.merged += bool(analysis.company and email.company and same_company(analysis.company, email.company))
            self.position += analysis.position == email.position

    def overall(self) -> float:
        return sum(self.right.values()) / sum(self.seen.values())

    def of(self, status: str) -> float:
        return self.right[status] / self.seen[status]

    def rows(self, name: str, reader: str = "offline") -> list[tuple[str, str, str]]:
        lowest = min(self.seen, key=self.of)
        return [
            (f"{reader} status accuracy, {name}", f"{self.overall():.1%}", f"{sum(self.seen.values())} emails"),
            (f"  lowest status, {name}", f"{self.of(lowest):.1%}", lowest),
            (
                f"  company exact / same by merge rule, {name}",
                f"{self.company / self.applications:.1%} / {self.merged / self.applications:.1%}",
                "the merge rule joins 'Tailspin' and 'Tailspin Toys'",
            ),
            (f"  position exact, {name}", f"{self.position / self.applications:.1%}", ""),
            (f"  wrong, {name}", str(len(self.wrong)), "; ".join(self.wrong)),
        ]


def run() -> list[tuple[str, str, str]]:
    sets = {path.stem: load(path) for path in sorted(EXAMPLES.glob("*.txt"))}
    examples = [labelled for batch in sets.values() for labelled in batch]
    words = {labelled.email.id: features(labelled.message) for labelled in examples}
    meanings = dict(zip(words, examples_meaning([labelled.message for labelled in examples]), strict=True))
    crossed = Tally()
    for name, held in sets.items():
        rest = [labelled for other, batch in sets.items() if other != name for labelled in batch]
        model = StatusModel.fit(
            np.stack([words[labelled.email.id] for labelled in rest]),
            np.stack([meanings[labelled.email.id] for labelled in rest]),
            [labelled.email.status for labelled in rest],
        )
        for labelled in held:
            crossed.add(labelled.email, classify(labelled.message, model))
    rows = crossed.rows(f"leave one of {len(sets)} sets out")
    unseen = load(FRESH)
    fresh = Tally()
    for labelled in unseen:
        fresh.add(labelled.email, classify(labelled.message, trained_model()))
    rows += fresh.rows("fresh set (never trained on)")
    for status in (*STATUSES, NOT_APPLICATION):
        rows.append(
            (
                f"  {status} (fresh / sets left out)",
                f"{fresh.of(status):.1%} / {crossed.of(status):.1%}",
                f"{fresh.seen[status]} / {crossed.seen[status]} emails",
            )
        )
    for name, mail in (("mail never trained on (the fresh set)", unseen), ("the labelled mail", examples)):
        rows.append(throughput(name, [mail[n % len(mail)].message for n in range(1000)]))
    return rows + model_rows(examples + unseen)


def throughput(name: str, messages: list[ParsedEmail]) -> tuple[str, str, str]:
    """Emails a second through `classify`, ANALYSES_AT_ONCE at a time on threads as the email sync's worker reads
    them, and which step answered: the phrase rules, the words-only model when sure, else the model that also reads
    meaning (multilingual-e5, ~95% of the cost)."""
    model = trained_model()
    left_by_rules = [message for message in messages if rules_decision(message) is None]
    by_rules = len(messages) - len(left_by_rules)
    started = time.perf_counter()
    with ThreadPoolExecutor(ANALYSES_AT_ONCE) as pool:
        list(pool.map(lambda message: classify(message, model), messages))
    seconds = time.perf_counter() - started
    meaning = sum(model.reads_meaning(message) for message in left_by_rules)
    return (
        f"throughput, classify 1,000 emails: {name}",
        f"{len(messages) / seconds:,.0f} emails/s",
        f"{ANALYSES_AT_ONCE} at once on {os.cpu_count()} cores (goal >= 50); answered by the rules "
        f"{by_rules / len(messages):.0%}, words alone "
        f"{(len(messages) - by_rules - meaning) / len(messages):.0%}, reading meaning {meaning / len(messages):.0%}",
    )


def model_rows(labelled: list[Labelled]) -> list[tuple[str, str, str]]:
    """The language model's accuracy per status over every labelled email, when a key is set."""
    reader = build_email_reader(load_settings())
    if not isinstance(reader, OpenAIEmailReader):
        return [("LLM status accuracy", "not measured", "no OPENAI_API_KEY set")]

    async def read_all() -> list[EmailAnalysis]:
        gate = asyncio.Semaphore(ANALYSES_AT_ONCE)

        async def one(message: ParsedEmail) -> EmailAnalysis:
            async with gate:
                return await reader.analyse(message, attempt=99)  # no retries here: a failure reads offline

        return await asyncio.gather(*(one(item.message) for item in labelled))

    tally, fell_back = Tally(), 0
    for item, analysis in zip(labelled, asyncio.run(read_all()), strict=True):
        if analysis.provider != reader.provider:  # read offline after the model failed: not the model's answer
            fell_back += 1
            continue
        tally.add(item.email, analysis)
    rows = [("LLM failures (read offline instead, not counted)", str(fell_back), f"of {len(labelled)} emails")]
    if not tally.seen:
        return rows
    rows += tally.rows("all labelled emails", reader.provider)
    for status in (status for status in (*STATUSES, NOT_APPLICATION) if tally.seen[status]):
        rows.append((f"  {status} ({reader.provider})", f"{tally.of(status):.1%}", f"{tally.seen[status]} emails"))
    return rows
