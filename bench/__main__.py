"""`make bench` (or `python -m bench NAME`): each benchmark's table on stdout and in bench/results/NAME.md."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import abuse, cache, drills, foundation, interview, mail, mail_sync, priority, retrieval, speech, voice

RESULTS = Path(__file__).with_name("results")
BENCHMARKS: dict[str, tuple[str, Callable[[], list[tuple[str, str, str]]]]] = {
    "foundation": ("Foundation: embedded stack, local models, interview turns", foundation.run),
    "abuse": ("Abuse protection: rate limits, replay filter", abuse.run),
    "interview": ("Interview turns: workflow overhead, summary buffer", interview.run),
    "retrieval": ("Retrieval: eval-set accuracy, bank search at 100k vectors", retrieval.run),
    "speech": ("Speech recognition: Whisper on a window sized to the answer vs 30 s", speech.run),
    "voice": ("Voice interviews: voice-to-voice latency in a real LiveKit room", voice.run),
    "mail": ("Email analysis: classifier accuracy per status (offline; LLM with a key), throughput", mail.run),
    "mail_sync": ("Email sync: 1,000 emails imported, analysed and merged by the workflow", mail_sync.run),
    "priority": ("Task priority: VIP vs ordinary email syncs on a backlogged io queue", priority.run),
    "drills": ("Fault drill: Postgres restarted under a load of interview turns", drills.run),
    "cache": ("Caching hot reads: each level's latency, requests/s with and without the cache", cache.run),
}


def table(rows: list[tuple[str, str, str]]) -> str:
    header = ("what", "figure", "notes")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = [
        "| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |"
        for row in [header, tuple("-" * w for w in widths), *rows]
    ]
    return "\n".join(lines)


def main(names: list[str]) -> None:
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
    for name in names or list(BENCHMARKS):
        title, run = BENCHMARKS[name]
        print(f"\n== {title} ==", flush=True)
        result = table(run())
        print(result)
        path = RESULTS / f"{name}.md"
        path.write_text(f"# {title}\n\n`make bench` on {time.strftime('%Y-%m-%d')}, 2 cores.\n\n{result}\n")
        print(f"written to {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
