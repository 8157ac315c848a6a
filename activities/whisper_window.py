"""Whisper on a window sized to the utterance instead of its fixed 30 s (whisper.cpp's `audio_ctx`, here through
CTranslate2, which takes a shorter encoder input).

faster-whisper pads every utterance to 30 s before the encoder: for a 5 s answer most of the encoder pass (240 ms of
the 440 ms a transcription takes with tiny.en, int8, on 2 cores) reads silence, and it sits on the voice reply's
critical path. `python -m bench speech` measures it on 60 espeak-ng answers (3 voices and speeds, 2 with noise): a
window of at least 10 s reaching 3 s past the speech recognises as well as the full one in about a third of the time;
a window ending 1 s past the speech makes the model loop and hallucinate.
"""

from __future__ import annotations

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer

FRAMES_PER_SECOND = 100  # Whisper's mel features
FULL_WINDOW_FRAMES = 30 * FRAMES_PER_SECOND
MIN_WINDOW_FRAMES = 10 * FRAMES_PER_SECOND
MARGIN_FRAMES = 3 * FRAMES_PER_SECOND
# A greedy decode that loops is cut here: fast speech is ~4 tokens a second.
TOKENS_PER_SECOND_AT_MOST = 10
# faster-whisper's test for "nothing was said" (its no_speech_threshold and log_prob_threshold defaults).
NO_SPEECH_PROBABILITY = 0.6
LOW_AVERAGE_LOG_PROBABILITY = -1.0


def transcribe_in_window(
    model: WhisperModel, audio: np.ndarray, *, at_least: int = MIN_WINDOW_FRAMES, past_speech: int = MARGIN_FRAMES
) -> str | None:
    """The words in `audio` (16 kHz mono float32), decoded greedily without timestamps, from a window of `at_least`
    frames reaching `past_speech` frames past the audio; None when that is longer than Whisper's 30 s (the caller
    then uses faster-whisper's own windows)."""
    features = model.feature_extractor(audio)
    spoken = features.shape[-1]
    window = max(at_least, spoken + past_speech)
    if window > FULL_WINDOW_FRAMES:
        return None
    padded = np.zeros((1, features.shape[0], window), dtype=np.float32)
    padded[0, :, :spoken] = features
    encoded = model.model.encode(ctranslate2.StorageView.from_array(padded))
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en")
    result = model.model.generate(
        encoded,
        [[*tokenizer.sot_sequence, tokenizer.no_timestamps]],
        beam_size=1,
        max_length=16 + TOKENS_PER_SECOND_AT_MOST * spoken // FRAMES_PER_SECOND,
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=[-1],  # the model's own list of symbols never to write
    )[0]
    tokens = result.sequences_ids[0]
    average_log_probability = result.scores[0] * len(tokens) / (len(tokens) + 1)  # as faster-whisper computes it
    if result.no_speech_prob > NO_SPEECH_PROBABILITY and average_log_probability < LOW_AVERAGE_LOG_PROBABILITY:
        return ""
    text = str(tokenizer.decode(tokens)).strip()
    # Silence and line noise come out as "." (or ". . ."): no words, so nothing was said.
    return text if any(character.isalnum() for character in text) else ""
