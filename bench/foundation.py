"""The foundation's figures: the embedded stack, local models, and interview turns through the API."""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from activities.minilm import MiniLMEncoder
from activities.speech import EspeakTTS, FasterWhisperSTT
from stack.cli import running_app
from stack.services import Endpoints, LocalStack
from stack.settings import Settings, load_settings
from stack.supervisor import free_port

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "minilm_embeddings.json"
SENTENCES = [
    "Tell me about a time you disagreed with your manager.",
    "How would you design a rate limiter for an API?",
    "I used a hash map to count frequencies, which is linear time.",
    "Built a Kafka-based event pipeline processing two million messages a day.",
]
TURNS = 30


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def bench_stack(rows: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        stack = LocalStack(load_settings({"MOCKI_DATA_DIR": data_dir}), ports="free")
        for label in ("first start (initdb)", "restart (data kept)"):
            started = time.perf_counter()
            stack.start()
            up = time.perf_counter() - started
            started = time.perf_counter()
            stack.stop()
            down = time.perf_counter() - started
            rows.append((f"embedded stack, {label}", f"{up:.2f} s to serve, {down:.2f} s to stop", "4 services"))


def bench_embeddings(rows: list[tuple[str, str, str]]) -> None:
    started = time.perf_counter()
    encoder = MiniLMEncoder()
    rows.append(("MiniLM load + SHA-256 check", f"{time.perf_counter() - started:.2f} s", "once per process"))
    for sentence in SENTENCES:
        encoder.encode(sentence)  # warm-up
    samples = [s for sentence in SENTENCES for s in timed(lambda sentence=sentence: encoder.encode(sentence), 10)]
    rows.append(
        (
            "MiniLM embedding, one sentence",
            f"p50 {statistics.median(samples):.1f} ms, p95 {percentile(samples, 0.95):.1f} ms",
            f"{len(samples)} runs, 11-16 tokens",
        )
    )
    reference = json.loads(REFERENCE.read_text())["items"]
    worst = max(
        abs(a - b) for item in reference for a, b in zip(encoder.encode(item["text"]), item["embedding"], strict=True)
    )
    rows.append(
        ("MiniLM vs sentence-transformers", f"max abs difference {worst:.1e}", f"{len(reference)} reference texts")
    )


def bench_speech(rows: list[tuple[str, str, str]]) -> None:
    tts, stt = EspeakTTS(), FasterWhisperSTT()
    text = "I would start with a hash map, then check the edge cases like an empty list."
    speech = asyncio.run(tts.synthesize(text))
    tts_ms = timed(lambda: asyncio.run(tts.synthesize(text)), 5)
    rows.append(("espeak-ng TTS", f"p50 {statistics.median(tts_ms):.0f} ms", f"{speech.seconds:.1f} s of audio"))
    asyncio.run(stt.transcribe(speech.wav))  # loads the model
    stt_ms = timed(lambda: asyncio.run(stt.transcribe(speech.wav)), 5)
    factor = statistics.median(stt_ms) / 1000 / speech.seconds
    rows.append(
        ("faster-whisper tiny.en STT", f"p50 {statistics.median(stt_ms):.0f} ms", f"real-time factor {factor:.2f}")
    )


def sign_up(http: httpx.Client) -> str:
    email = f"bench-{uuid.uuid4().hex[:10]}@bench.mocki.local"
    response = http.post("/auth/signup", json={"email": email, "password": "bench passphrase", "display_name": "B"})
    response.raise_for_status()
    return str(response.json()["access_token"])


def bench_turns(rows: list[tuple[str, str, str]]) -> None:
    with fresh_app() as (_settings, _endpoints, api_url), httpx.Client(base_url=api_url, timeout=30) as http:
        samples = []
        while len(samples) < TURNS:
            # A candidate per room keeps each under the 10 AI requests a minute a user may make.
            http.headers["Authorization"] = f"Bearer {sign_up(http)}"
            created = http.post("/rooms", json={"role": "Backend Engineer"}).json()
            room = f"/rooms/{created['room_id']}"
            for n in range(5):  # five answers: within the 10 AI requests a minute a user may make
                started = time.perf_counter()
                job = http.post(f"{room}/ai/message", json={"text": f"I would use a hash map ({n})."}).json()
                view = http.get(f"{room}/ai/message/{job['job_id']}", params={"wait": 10}).json()
                assert view["status"] == "completed", view
                samples.append((time.perf_counter() - started) * 1000)
            http.post(f"{room}/end")
    rows.append(
        (
            "interview turn via REST + workflow",
            f"p50 {statistics.median(samples):.0f} ms, p95 {percentile(samples, 0.95):.0f} ms",
            f"{len(samples)} turns, offline LLM, POST + long-poll",
        )
    )


def run() -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for bench in (bench_stack, bench_embeddings, bench_speech, bench_turns):
        print(f"running {bench.__name__}...", flush=True)
        bench(rows)
    return rows


@contextmanager
def fresh_app() -> Iterator[tuple[Settings, Endpoints, str]]:
    """The whole stack as `mocki up` runs it (worker, agent, API), on free ports, in a data folder of its own that
    is removed afterwards: (settings, endpoints, the API's URL)."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(
            {"MOCKI_DATA_DIR": data_dir, "MOCKI_PORTS": "free", "MOCKI_API_PORT": str(free_port())}
        )
        with running_app(settings) as (endpoints, api_url):
            yield settings, endpoints, api_url
