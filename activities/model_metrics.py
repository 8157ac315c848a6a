"""Metrics of each model call, remote (OpenAI or a compatible server) or local (whisper, espeak-ng): how long it
took, the tokens sent and received, the seconds of audio heard or spoken, and failures by error, labelled by
provider (which names the model) and purpose. Prompts, answers and audio never become labels."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from opentelemetry import metrics

_meter = metrics.get_meter("mocki.models")
_duration = _meter.create_histogram(
    "mocki.model.duration", unit="s", description="a model call, by provider, purpose and outcome"
)
_tokens = _meter.create_counter("mocki.model.tokens", description="tokens sent and received, by provider and purpose")
_failures = _meter.create_counter("mocki.model.failures", description="failed model calls, by provider, purpose, error")
_audio = _meter.create_histogram(
    "mocki.audio.duration", unit="s", description="audio transcribed (stt) or spoken (tts), by provider and purpose"
)


@dataclass
class Usage:
    """What the call reports it used; filled in by the caller from the provider's answer."""

    input_tokens: int = 0
    output_tokens: int = 0


@asynccontextmanager
async def model_call(provider: str, purpose: str) -> AsyncIterator[Usage]:
    labels = {"provider": provider, "purpose": purpose}
    usage = Usage()
    outcome = "failed"
    started = time.perf_counter()
    try:
        yield usage
        outcome = "ok"
    except Exception as exc:
        _failures.add(1, {**labels, "error": type(exc).__name__})
        raise
    finally:
        _duration.record(time.perf_counter() - started, {**labels, "outcome": outcome})
        if usage.input_tokens:
            _tokens.add(usage.input_tokens, {**labels, "direction": "input"})
        if usage.output_tokens:
            _tokens.add(usage.output_tokens, {**labels, "direction": "output"})


def audio_processed(provider: str, purpose: str, seconds: float) -> None:
    _audio.record(seconds, {"provider": provider, "purpose": purpose})
