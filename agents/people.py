"""The people in a voice room besides the AI: which participant is the candidate (the agent listens to them), and
the human interviewers, whose words are transcribed for the one transcript (speaker "human") whether the AI or a
person is asking the questions. Roles come from the join token (web/media.py): candidate, interviewer, observer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from livekit import rtc
from livekit.agents import inference, stt
from temporalio.client import WorkflowHandle

from agents.voice import RecognisedSpeech
from schema.interview import PersonSaid
from workflows.interview import InterviewWorkflow

log = logging.getLogger(__name__)
RATE = 16_000


async def the_candidate(room: rtc.Room, within_seconds: float = 60) -> rtc.RemoteParticipant:
    """The room's candidate: the agent is dispatched as they join, so they are usually here already."""
    arrived: asyncio.Future[rtc.RemoteParticipant] = asyncio.get_running_loop().create_future()

    def joined(participant: rtc.RemoteParticipant) -> None:
        if participant.attributes.get("role") == "candidate" and not arrived.done():
            arrived.set_result(participant)

    room.on("participant_connected", joined)
    try:
        for participant in room.remote_participants.values():
            joined(participant)
        return await asyncio.wait_for(arrived, within_seconds)
    finally:
        room.off("participant_connected", joined)


class InterviewerTranscriber:
    """Each human interviewer's microphone, cut into utterances by the local VAD and transcribed."""

    def __init__(self, room: rtc.Room, speech: RecognisedSpeech, handle: WorkflowHandle[InterviewWorkflow, Any]):
        self._room = room
        self._speech = speech
        self._handle = handle
        self._listening: dict[str, asyncio.Task[None]] = {}  # by track id

    def attach(self) -> None:
        self._room.on("track_subscribed", self._on_track)
        self._room.on("track_unsubscribed", self._on_track_gone)
        for participant in self._room.remote_participants.values():
            for publication in participant.track_publications.values():
                if publication.track is not None:
                    self._on_track(publication.track, publication, participant)

    def _on_track(
        self, track: rtc.Track, _publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        if participant.attributes.get("role") != "interviewer" or track.kind != rtc.TrackKind.KIND_AUDIO:
            return
        if track.sid not in self._listening:
            log.info("transcribing a human interviewer for the record")
            self._listening[track.sid] = asyncio.create_task(self._transcribe(track))

    def _on_track_gone(self, track: rtc.Track, *_: object) -> None:
        listening = self._listening.pop(track.sid, None)
        if listening is not None:
            listening.cancel()

    async def _transcribe(self, track: rtc.Track) -> None:
        recognition = stt.StreamAdapter(stt=self._speech, vad=inference.VAD()).stream()

        async def hear() -> None:
            async for event in rtc.AudioStream(track, sample_rate=RATE, num_channels=1):
                recognition.push_frame(event.frame)
            recognition.end_input()

        hearing = asyncio.create_task(hear())
        try:
            async for event in recognition:
                text = event.alternatives[0].text.strip() if event.alternatives else ""
                if event.type == stt.SpeechEventType.FINAL_TRANSCRIPT and text:
                    await self._handle.signal(InterviewWorkflow.person_said, PersonSaid(text=text))
        finally:
            hearing.cancel()
            await recognition.aclose()
