"""Speaking the interviewer's replies for clients that ask for audio; the WAV goes to Postgres, not into history."""

from __future__ import annotations

import datetime as dt

from temporalio import activity

from activities.speech import TextToSpeech
from schema.interview import SpeakRequest, SpokenReply
from schema.tables import ReplyAudio, TranscriptTurn


class VoiceActivities:
    def __init__(self, tts: TextToSpeech) -> None:
        self._tts = tts

    @activity.defn
    async def speak_reply(self, request: SpeakRequest) -> SpokenReply:
        row = (
            await TranscriptTurn.select(TranscriptTurn.text)
            .where((TranscriptTurn.room == request.room_id) & (TranscriptTurn.seq == request.seq))
            .first()
        )
        if row is None:
            raise LookupError(f"turn {request.seq} of room {request.room_id} was not recorded")
        speech = await self._tts.synthesize(row["text"])
        seconds = speech.seconds
        await ReplyAudio.insert(
            ReplyAudio(
                room=request.room_id,
                seq=request.seq,
                wav=speech.wav,
                seconds=seconds,
                provider=speech.provider,
                created_at=dt.datetime.now(dt.UTC),
            )
        ).on_conflict(target=(ReplyAudio.room, ReplyAudio.seq), action="DO NOTHING")
        return SpokenReply(
            url=f"/rooms/{request.room_id}/ai/messages/{request.seq}/audio",
            seconds=round(seconds, 2),
            provider=speech.provider,
        )
