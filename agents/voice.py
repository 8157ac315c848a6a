"""Our speech providers (faster-whisper / espeak-ng offline, OpenAI with a key) as livekit-agents STT and TTS.

The pipeline hands the STT one utterance at a time (segmented by the local VAD), so batch recognition is enough;
TTS is asked for one sentence at a time as the reply streams in, so the first audio goes out after the first
sentence rather than after the whole reply.
"""

from __future__ import annotations

import io
import wave

from livekit import rtc
from livekit.agents import LanguageCode, stt, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr

from activities.speech import Speech, SpeechToText, TextToSpeech

PREPARED_KEPT = 8


class RecognisedSpeech(stt.STT[None]):
    def __init__(self, engine: SpeechToText) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._engine = engine

    @property
    def provider(self) -> str:
        return self._engine.provider

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        transcript = await self._engine.transcribe(rtc.combine_audio_frames(buffer).to_wav_bytes())
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language=LanguageCode("en"), text=transcript.text)],
        )


class _Utterance(tts.ChunkedStream):
    def __init__(self, *, voice: SpokenVoice, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=voice, input_text=input_text, conn_options=conn_options)
        self._voice = voice

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        speech = self._voice.prepared(self._input_text) or await self._voice.engine.synthesize(self._input_text)
        with wave.open(io.BytesIO(speech.wav)) as reader:
            rate, channels = reader.getframerate(), reader.getnchannels()
        output_emitter.initialize(
            request_id=utils.shortuuid(), sample_rate=rate, num_channels=channels, mime_type="audio/wav"
        )
        output_emitter.push(speech.wav)
        output_emitter.flush()


class SpokenVoice(tts.TTS[None]):
    def __init__(self, engine: TextToSpeech) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False), sample_rate=engine.sample_rate, num_channels=1
        )
        self.engine = engine
        self._ready: dict[str, Speech] = {}  # said ahead of need (acknowledgements), by text

    @property
    def provider(self) -> str:
        return self.engine.provider

    async def prepare(self, text: str) -> None:
        """Synthesise `text` now, so saying it later starts at once (kept for the next few sayings)."""
        if text not in self._ready:
            self._ready[text] = await self.engine.synthesize(text)
            while len(self._ready) > PREPARED_KEPT:
                del self._ready[next(iter(self._ready))]

    def prepared(self, text: str) -> Speech | None:
        return self._ready.get(text.strip())

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _Utterance(voice=self, input_text=text, conn_options=conn_options)
