"""`mocki agent`: the LiveKit Agents worker. LiveKit dispatches it into an ai room when the candidate joins
(`POST /rooms/{id}/join`); the LiveKit room name is the room id, which is also its workflow id."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from livekit.agents import AgentServer, AgentSession, JobContext, JobExecutorType, room_io
from livekit.agents.voice.turn import TurnHandlingOptions
from redis.asyncio import Redis

from activities.speech import SpeechToText, build_stt, build_tts
from agents import AGENT_NAME
from agents.coding import CodingFloor
from agents.fillers import Acknowledgements
from agents.interviewer import InterviewerAgent, WorkflowInterviewer, interview_handle
from agents.listening import SampleDatedVAD
from agents.metrics import SampleClock, SpokenReplies, VoiceTurnRecorder
from agents.people import InterviewerTranscriber, the_candidate
from agents.playback import pause_promptly
from agents.turns import InterviewTurnDetector
from agents.voice import RecognisedSpeech, SpokenVoice
from stack.logs import configure_logging
from stack.services import Endpoints
from stack.settings import Settings
from stack.telemetry import serve_metrics, start_telemetry
from stack.temporal import connect

# Turn-taking for interviews, where being cut off is the top complaint. The transcript decides whether a pause ends
# the answer (agents/turns.py): a finished sentence is answered after 0.6 s, a trailing "I would start by..." or a
# "let me think" waits up to 6 s. Talking over the agent stops it after 0.08 s of speech; a noise or a murmur
# ("mm-hmm", "okay": agents/backchannel.py) resumes its sentence 1 s after it ends. No speculative replies: every
# call to the workflow records a turn.
INTERVIEW_TURNS: TurnHandlingOptions = {
    "endpointing": {"min_delay": 0.6, "max_delay": 6.0},
    "interruption": {
        "mode": "vad",
        "min_duration": 0.08,
        "resume_false_interruption": True,
        "false_interruption_timeout": 1.0,
    },
    "preemptive_generation": {"enabled": False},
}


INPUT_FRAME_MS = 20
FULL = 0.999  # LiveKit wants a threshold below 1: the agent is full at agent_max_rooms rooms


def agent_server(settings: Settings, endpoints: Endpoints, stt: SpeechToText) -> AgentServer:
    """`stt` is loaded once per process and shared by its rooms, like the speech synthesiser."""
    tts = build_tts(settings)

    async def interview(ctx: JobContext) -> None:
        await ctx.connect()
        client = await connect(endpoints.temporal_address, settings.temporal_namespace)
        handle = interview_handle(client, ctx.room.name)
        redis = Redis.from_url(endpoints.redis_url)  # per room, like the client: each room runs its own loop
        ctx.add_shutdown_callback(redis.aclose)
        replies, clock, voice = SpokenReplies(), SampleClock(), SpokenVoice(tts)
        interviewer = WorkflowInterviewer(handle, replies, redis)
        interviewer.acknowledgements = Acknowledgements(
            stt, voice, clock, late_after=settings.voice_filler_after_seconds
        )
        clock.on_frame = interviewer.acknowledgements.hear
        session: AgentSession[None] = AgentSession(
            vad=SampleDatedVAD(),
            stt=RecognisedSpeech(stt),
            tts=voice,
            llm=interviewer,
            turn_handling={**INTERVIEW_TURNS, "turn_detection": InterviewTurnDetector()},
        )
        VoiceTurnRecorder(handle, replies, clock).attach(session)
        candidate = await the_candidate(ctx.room)
        await ctx.room.local_participant.set_attributes({"role": "ai"})  # the room's page shows who is speaking
        await session.start(
            agent=InterviewerAgent(handle, clock),
            room=ctx.room,
            room_options=room_io.RoomOptions(
                participant_identity=candidate.identity,
                # The candidate's audio in 20 ms frames, not the default 50: each frame is that much later to the
                # VAD, which a barge-in and the end of an answer both wait on.
                audio_input=room_io.AudioInputOptions(frame_size_ms=INPUT_FRAME_MS),
                # Captions paced to the audio cost a speaking-rate STFT on this loop over each whole synthesised
                # reply at once: measured 0.5 s blocked as the first reply began, a gap that garbled its first
                # words ("Welcome" heard as "The Lord will come"). The record is the workflow's; captions go as-is.
                text_output=room_io.TextOutputOptions(sync_transcription=False),
            ),
        )
        pause_promptly(session.output.audio)
        InterviewerTranscriber(ctx.room, RecognisedSpeech(stt), handle).attach()
        interviewer.floor = CodingFloor(session, handle, idle_seconds=settings.voice_coding_idle_seconds)
        interviewer.floor.attach(ctx.room)

    server = AgentServer(
        ws_url=endpoints.livekit_url,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret,
        # Rooms share this process's models (faster-whisper is ~75 MB): one thread each, not a process each.
        job_executor_type=JobExecutorType.THREAD,
        # Capacity is rooms, not CPU: the default (70% of the machine's CPU) marks the only agent of the embedded
        # stack full whenever whisper runs, and LiveKit then leaves a joining candidate without an interviewer.
        load_fnc=lambda server: len(server.active_jobs) / settings.agent_max_rooms,
        load_threshold=FULL,
        port=0,
    )
    server.rtc_session(interview, agent_name=AGENT_NAME)
    return server


async def run_agent(
    settings: Settings, endpoints: Endpoints, ready_file: Path | None, metrics_address: tuple[str, int] | None = None
) -> None:
    """Serve until SIGINT/SIGTERM; `ready_file` is touched once LiveKit has registered the worker; Prometheus
    metrics (voice latencies, speech models) on `metrics_address` when given."""
    # Rooms taken, capacity changes, check-ins and failures, for whoever reads the agent's log (no transcripts:
    # livekit-agents logs those at DEBUG only).
    configure_logging(settings, "mocki-agent")
    telemetry = start_telemetry(settings, "mocki-agent")
    serve_metrics(metrics_address)
    stt = build_stt(settings)
    await stt.load()  # before registering: the first candidate's answer is not kept waiting for weights
    server = agent_server(settings, endpoints, stt)
    if ready_file is not None:
        server.on("worker_registered", lambda *_: ready_file.touch())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    serving = asyncio.create_task(server.run())
    await asyncio.wait({serving, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
    await server.aclose()
    telemetry.shutdown()  # flushes the last turns' figures and spans
    if serving.done():
        serving.result()  # a worker that stopped by itself says why
