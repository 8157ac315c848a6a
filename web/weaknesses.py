"""A candidate's weaknesses across interviews: the signals their answers and code reviews left, aggregated."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, get

from schema.interview import CodeReview, WeaknessReport, WeaknessSummary
from schema.tables import Room
from web.accounts import Principal
from web.limits import READS, limited

# Which review finding explains a code signal.
FINDING_OF_SIGNAL = {
    "edge_cases": "edge_cases",
    "time_complexity": "complexity",
    "variable_naming": "readability",
    "code_structure": "readability",
    "off_by_one": "edge_cases",
}
QUOTE_CHARS = 160
Trend = Literal["new", "improving", "steady", "worsening"]

SIGNALS_SQL = """
SELECT s.signal, c.room, c.created_at AS seen_at, c.review::text AS detail, 'code' AS kind
FROM code_submission c
JOIN room r ON r.id = c.room
CROSS JOIN LATERAL unnest(c.signals) AS s(signal)
WHERE r.candidate = {}
UNION ALL
SELECT s.signal, t.room, t.created_at, t.text, 'answer'
FROM transcript_turn t
JOIN room r ON r.id = t.room
CROSS JOIN LATERAL jsonb_array_elements_text(COALESCE(t.evaluation -> 'signals', '[]'::jsonb)) AS s(signal)
WHERE r.candidate = {} AND t.speaker = 'candidate'
"""


@dataclass(frozen=True)
class _Seen:
    signal: str
    room: uuid.UUID
    seen_at: dt.datetime
    detail: str
    kind: str


class WeaknessController(Controller):
    path = "/users/me/ai"
    tags = ["users"]

    @get("/weaknesses", guards=[limited(READS)], operation_id="myWeaknesses")
    async def weaknesses(self, request: Request[Principal, None, Any]) -> WeaknessReport:
        """Your weaknesses across all your interviews: how often, in how many, since when, which way it is going."""
        signals, interviews = await history_of(request.user.id)
        return WeaknessReport(interviews=len(interviews), weaknesses=summarise(signals, interviews))


async def history_of(candidate: uuid.UUID) -> tuple[list[_Seen], list[uuid.UUID]]:
    """Every weakness signal the candidate's answers and code reviews left, and their interviews, oldest first."""
    signals = [_Seen(**row) for row in await Room.raw(SIGNALS_SQL, candidate, candidate)]
    rooms = await Room.select(Room.id).where(Room.candidate == candidate).order_by(Room.created_at)
    return signals, [row["id"] for row in rooms]


def summarise(rows: list[_Seen], interviews: list[uuid.UUID]) -> list[WeaknessSummary]:
    """`interviews`: all of the candidate's interviews, oldest first (clean ones count towards a trend too)."""
    by_signal: dict[str, list[_Seen]] = defaultdict(list)
    for row in rows:
        by_signal[row.signal].append(row)
    summaries = [
        WeaknessSummary(
            category=signal,
            count=len(seen),
            sessions=len({row.room for row in seen}),
            first_seen=min(row.seen_at for row in seen).isoformat(timespec="seconds"),
            last_seen=max(row.seen_at for row in seen).isoformat(timespec="seconds"),
            trend=_trend(seen, interviews),
            evidence=_evidence(max(seen, key=lambda row: row.seen_at)),
        )
        for signal, seen in by_signal.items()
    ]
    return sorted(summaries, key=lambda s: (-s.count, s.category))


def _trend(seen: list[_Seen], interviews: list[uuid.UUID]) -> Trend:
    """The latest interview's count against the average of the earlier ones."""
    per_room: dict[uuid.UUID, int] = defaultdict(int)
    for row in seen:
        per_room[row.room] += 1
    earlier = [per_room.get(room, 0) for room in interviews[:-1]]
    if not any(earlier):
        return "new"
    latest = per_room.get(interviews[-1], 0)
    average = sum(earlier) / len(earlier)
    if latest < average:
        return "improving"
    if latest > average:
        return "worsening"
    return "steady"


def _evidence(row: _Seen) -> str:
    if row.kind == "answer":
        flat = " ".join(row.detail.split())
        return "“" + (flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1] + "…") + "”"
    review = msgspec.json.decode(row.detail, type=CodeReview)
    wanted = FINDING_OF_SIGNAL.get(row.signal)
    finding = next((f for f in review.findings if f.category == wanted and f.verdict == "needs_work"), None)
    where = f"{review.question_id} attempt {review.attempt}"
    return f"{where}: {finding.evidence}" if finding else where
