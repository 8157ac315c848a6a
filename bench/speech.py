"""Offline speech recognition: Whisper tiny.en on a window sized to the utterance (activities/whisper_window.py)
against faster-whisper's fixed 30 s window, on candidate answers spoken by espeak-ng in three voices and speeds
(two with background noise): word error rate and time per answer, on this machine's cores.
"""

from __future__ import annotations

import io
import re
import shutil
import statistics
import subprocess
import time

import numpy as np
from faster_whisper import decode_audio

from activities.speech import FasterWhisperSTT
from activities.whisper_window import transcribe_in_window
from bench.foundation import percentile
from bench.voice import ANSWERS as VOICE_ANSWERS

ANSWERS = [
    *VOICE_ANSWERS,  # what the voice benchmark says, and more kinds of answer
    "Yes.",
    "No, I have not used Kubernetes in production.",
    "Let me think about that for a moment.",
    "The first thing I would do is reproduce the bug locally, then write a failing test, and only then change the "
    "code.",
    "We sharded the orders table by customer id, which kept each customer's data on one node and made joins cheap.",
    "My biggest weakness is that I sometimes take on too much work myself instead of delegating it to the team.",
    "I would start with a brute force solution that checks every pair, which is quadratic, and then improve it with "
    "a set.",
    "Two pointers, one from each end of the array, moving inward until they meet.",
    "I led a migration from a monolith to three services over six months with no downtime.",
    "Thank you, that is all from me.",
    "Could you give me a hint?",
    "The time complexity is O of n log n because of the sort, and the space is linear.",
    "When the cache misses we read from Postgres and write the value back with a time to live of five minutes.",
]
VOICES = (("en-us", 165, 0.0), ("en-gb", 140, 0.01), ("en-us+m3", 190, 0.02))  # voice, words/minute, noise
SAMPLE_RATE = 16_000
LEAD_IN, TRAILING_SILENCE = 0.3, 0.25  # seconds, as the agent's VAD hands an utterance over


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " ")).split()


def word_errors(reference: str, heard: str) -> tuple[int, int]:
    """Substitutions + insertions + deletions, and the reference's length in words."""
    said, got = _words(reference), _words(heard)
    row = list(range(len(got) + 1))
    for i in range(1, len(said) + 1):
        previous, row[0] = row[:], i
        for j in range(1, len(got) + 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (said[i - 1] != got[j - 1]))
    return row[len(got)], len(said)


def spoken_answers() -> list[tuple[str, np.ndarray]]:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("espeak-ng is not installed; run `make install`")
    noise = np.random.default_rng(1)
    answers = []
    for voice, speed, loudness in VOICES:
        for text in ANSWERS:
            wav = subprocess.run(
                [espeak, "-v", voice, "-s", str(speed), "--stdout"],
                input=text.encode(),
                capture_output=True,
                check=True,
            ).stdout
            audio = np.concatenate(
                [
                    np.zeros(int(LEAD_IN * SAMPLE_RATE), np.float32),
                    decode_audio(io.BytesIO(wav)),
                    np.zeros(int(TRAILING_SILENCE * SAMPLE_RATE), np.float32),
                ]
            )
            answers.append((text, (audio + loudness * noise.standard_normal(audio.size)).astype(np.float32)))
    return answers


def run() -> list[tuple[str, str, str]]:
    stt = FasterWhisperSTT()
    model = stt._model
    answers = spoken_answers()
    ways = {
        "30 s window (faster-whisper)": stt.in_thirty_second_windows,  # as the agent read every answer before
        "window sized to the answer": lambda audio: transcribe_in_window(model, audio) or "",
        # Why the window has a floor and a margin: cut right after the speech, the decoder loops.
        "window ending 1 s past the answer": lambda audio: (
            transcribe_in_window(model, audio, at_least=0, past_speech=100) or ""
        ),
    }
    for transcribe in ways.values():
        transcribe(answers[0][1])  # warm up: first calls allocate
    rows = []
    for name, transcribe in ways.items():
        errors = words = 0
        took: list[float] = []
        for text, audio in answers:
            started = time.perf_counter()
            heard = transcribe(audio)
            took.append(1000 * (time.perf_counter() - started))
            wrong, count = word_errors(text, heard)
            errors, words = errors + wrong, words + count
        seconds = [audio.size / SAMPLE_RATE for _text, audio in answers]
        rows.append(
            (
                f"whisper tiny.en, {name}",
                f"WER {100 * errors / words:.1f}%, p50 {statistics.median(took):.0f} ms, p95 "
                f"{percentile(took, 0.95):.0f} ms",
                f"{len(answers)} espeak-ng answers of {min(seconds):.1f}-{max(seconds):.1f} s, 3 voices (2 with noise)",
            )
        )
    return rows
