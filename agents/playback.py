"""The agent's voice in the room, silenced the moment it is paused.

livekit-agents' room output keeps up to 200 ms of the reply queued in its `AudioSource` and drops that queue only when
its forwarding loop takes the next frame: up to one 50 ms frame after a pause while the reply is still being
synthesised, and never when the reply's last frames are already queued, which then play out in full. A candidate
who talks over the agent heard that much more of it. Here the queue is dropped as the output pauses, with the same
playback accounting the forwarding loop does (the dropped audio never played, so a resumed sentence continues past it).
"""

from __future__ import annotations

import time

from livekit.agents.voice.io import AudioOutput
from livekit.agents.voice.room_io._output import _ParticipantAudioOutput


class PromptlyPausedOutput(_ParticipantAudioOutput):
    def pause(self) -> None:
        super().pause()
        queued = self._audio_source.queued_duration
        if not queued:
            return
        self._source_discarded_duration += queued
        self._report_run(
            offset=self._source_pushed_duration - queued,
            ended_at=time.time(),
            resumes_at=self._source_pushed_duration,
        )
        self._audio_source.clear_queue()


def pause_promptly(output: AudioOutput | None) -> None:
    """Make the room output at the end of `output`'s chain drop its queue on pause. RoomIO builds that output
    itself, so the subclass is put on the instance it made."""
    while output is not None and not isinstance(output, _ParticipantAudioOutput):
        output = output.next_in_chain
    if output is None:
        raise RuntimeError("the session has no room audio output to silence")
    output.__class__ = PromptlyPausedOutput
