"""The voice pipeline's own overhead: the agent's session (VAD, turn-taking, room I/O) with speech recognition, the
interviewer and speech synthesis replaced by providers that take a fixed, known time.

What a scripted candidate measures from its last voiced sample to the first audio it hears, minus those fixed
times and the endpointing wait the interview turn-taking imposes on purpose, is what the pipeline itself adds:
voice activity detection, transport both ways, buffering and scheduling.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from livekit import api as livekit
from livekit.agents import (
    AgentServer,
    AgentSession,
    ConversationItemAddedEvent,
    JobContext,
    JobExecutorType,
    LanguageCode,
    llm,
    stt,
    tts,
    utils,
)
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr

from agents.listening import SampleDatedVAD
from agents.metrics import SampleClock, TimedVoice
from agents.turns import InterviewTurnDetector
from agents.worker import INTERVIEW_TURNS
from stack.services import Endpoints
from stack.settings import Settings
from stack.voice_candidate import Candidate

STT_SECONDS = 0.1
LLM_SECONDS = 0.2
TTS_SECONDS = 0.1
AGENT_NAME = "mocki-bench-fixed-delay"
TONE_RATE = 24_000
# What the turn-taking waits on purpose (the answer-mode endpointing) and the providers take, per reply.
FLOOR_SECONDS = INTERVIEW_TURNS["endpointing"]["min_delay"] + LLM_SECONDS + TTS_SECONDS


class FixedDelaySTT(stt.STT[None]):
    def __init__(self) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))

    async def _recognize_impl(
        self, buffer: utils.AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions
    ) -> stt.SpeechEvent:
        await asyncio.sleep(STT_SECONDS)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language=LanguageCode("en"), text="That is my whole answer.")],
        )


class _FixedReply(llm.LLMStream):
    async def _run(self) -> None:
        await asyncio.sleep(LLM_SECONDS)
        self._event_ch.send_nowait(
            llm.ChatChunk(id="reply", delta=llm.ChoiceDelta(role="assistant", content="Thanks. Next question."))
        )


class FixedDelayLLM(llm.LLM[None]):
    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return _FixedReply(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _Tone(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        await asyncio.sleep(TTS_SECONDS)
        output_emitter.initialize(
            request_id=utils.shortuuid(), sample_rate=TONE_RATE, num_channels=1, mime_type="audio/pcm"
        )
        seconds = np.arange(int(TONE_RATE * 0.8)) / TONE_RATE
        output_emitter.push((8000 * np.sin(2 * np.pi * 440 * seconds)).astype(np.int16).tobytes())
        output_emitter.flush()


class FixedDelayTTS(tts.TTS[None]):
    def __init__(self) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=TONE_RATE, num_channels=1)

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _Tone(tts=self, input_text=text, conn_options=conn_options)


def _session(measured: list[float]) -> Callable[[JobContext], Awaitable[None]]:
    async def fixed_delay_session(ctx: JobContext) -> None:
        await ctx.connect()
        session: AgentSession[None] = AgentSession(
            vad=SampleDatedVAD(),
            stt=FixedDelaySTT(),
            llm=FixedDelayLLM(),
            tts=FixedDelayTTS(),
            turn_handling={**INTERVIEW_TURNS, "turn_detection": InterviewTurnDetector()},
        )
        clock = SampleClock()

        def replied(event: ConversationItemAddedEvent) -> None:
            if isinstance(event.item, llm.ChatMessage) and event.item.role == "assistant":
                seconds = clock.voice_to_voice(event.item.metrics.get("started_speaking_at"))
                if seconds is not None:
                    measured.append(seconds)

        session.on("conversation_item_added", replied)
        await session.start(agent=TimedVoice(clock, instructions="fixed-delay providers"), room=ctx.room)

    return fixed_delay_session


async def measure_overhead(settings: Settings, endpoints: Endpoints, turns: int) -> tuple[list[float], list[float]]:
    """Seconds the pipeline adds per turn beyond the fixed provider times and the endpointing wait: as the agent
    measures it (its input's last voiced sample to its output's first sound), and as the candidate hears it (the
    room's transport both ways added)."""
    at_agent: list[float] = []
    server = AgentServer(
        ws_url=endpoints.livekit_url,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret,
        job_executor_type=JobExecutorType.THREAD,
        port=0,
    )
    server.rtc_session(_session(at_agent), agent_name=AGENT_NAME)
    registered = asyncio.Event()
    server.on("worker_registered", lambda *_: registered.set())
    serving = asyncio.create_task(server.run())
    candidate = Candidate()
    try:
        await asyncio.wait_for(registered.wait(), 60)
        room = f"bench-{uuid.uuid4()}"
        token = (
            livekit.AccessToken(settings.livekit_api_key, settings.livekit_api_secret)
            .with_identity("bench-candidate")
            .with_grants(livekit.VideoGrants(room_join=True, room=room))
            .to_jwt()
        )
        await candidate.join(endpoints.livekit_url, token)
        agent_joined = asyncio.Event()
        candidate.room.on("participant_connected", lambda *_: agent_joined.set())
        http_url = endpoints.livekit_url.replace("ws://", "http://", 1)
        async with livekit.LiveKitAPI(http_url, settings.livekit_api_key, settings.livekit_api_secret) as lk:
            await lk.agent_dispatch.create_dispatch(
                livekit.CreateAgentDispatchRequest(agent_name=AGENT_NAME, room=room)
            )
        await asyncio.wait_for(agent_joined.wait(), 60)
        await asyncio.sleep(1)  # the agent's session subscribes to the candidate's microphone
        heard = []
        for _ in range(turns):
            await candidate.say("I would keep the answers in a hash map, keyed by the question.")
            heard.append(await candidate.reply_latency() - FLOOR_SECONDS)
        return [seconds - FLOOR_SECONDS for seconds in at_agent], heard
    finally:
        await candidate.room.disconnect()
        await server.aclose()
        serving.cancel()
