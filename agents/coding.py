"""Turn-taking while the candidate codes. Silence is not the end of a turn (they are typing or thinking), and
neither is thinking aloud: the agent answers words addressed to it ("can I get a hint?", "does this look right?"),
speaks up when the candidate runs the tests, and checks in after a long silence. It sees the room's editor and
test runs as data messages on the `mocki.coding` topic, from the candidate only:

    {"type": "editor", "code": "...", "language": "python"}   the code as it stands (sent on change)
    {"type": "tests_run"}                                       the room ran the tests (POST /rooms/{id}/ai/review)

What the agent says about a test run comes from the workflow's own review of that code, never from the message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, UserInputTranscribedEvent, UserStateChangedEvent
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from activities.specialists import addresses_the_interviewer
from agents.turns import InterviewTurnDetector
from schema.interview import CheckInReason, CodingCheckIn, Stage
from workflows.interview import InterviewWorkflow

log = logging.getLogger(__name__)
TOPIC = "mocki.coding"
MAX_MESSAGE_BYTES = 64_000
STAGE_POLL_SECONDS = 2.0  # the stage can also move by REST (a typed answer); the agent follows within this


class CodingFloor:
    """Who has the floor in the coding stage, and when the agent speaks up."""

    def __init__(
        self,
        session: AgentSession[None],
        handle: WorkflowHandle[InterviewWorkflow, Any],
        *,
        idle_seconds: float,
    ) -> None:
        self._session = session
        self._handle = handle
        self._idle_seconds = idle_seconds
        self.stage: Stage | None = None
        self.code: str | None = None  # the editor as last sent by the room
        self._last_activity = time.monotonic()  # speech, an edit or the agent speaking
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def coding(self) -> bool:
        return self.stage == "coding"

    def attach(self, room: rtc.Room) -> None:
        self._session.on("user_input_transcribed", self._on_transcript)
        self._session.on("user_state_changed", self._on_user_state)
        self._session.on("agent_state_changed", lambda _: self._active())
        room.on("data_received", self._on_data)
        self._spawn(self._follow_the_interview())

    def entered(self, stage: Stage) -> None:
        """The workflow says the interview is at `stage` (after a reply, or by polling)."""
        if stage == self.stage:
            return
        self.stage = stage
        self._last_activity = time.monotonic()
        log.info("interview at the %s stage", stage)
        # Coding: turns end only when the agent commits them (a request to it). Otherwise: judged from the words.
        self._session.update_options(turn_detection="manual" if self.coding else InterviewTurnDetector())

    def _active(self) -> None:
        self._last_activity = time.monotonic()

    def _on_user_state(self, event: UserStateChangedEvent) -> None:
        self._active()
        # Manual turn detection also switches off livekit's barge-in; talking over the agent must still stop it.
        # Any speech under way counts, not only while it sounds: between two sentences livekit would only pause it,
        # and with no turn ever ending it would resume its sentence over the candidate.
        speech = self._session.current_speech
        under_way = speech is not None and not speech.done() and speech.allow_interruptions
        if self.coding and event.new_state == "speaking" and under_way:
            log.info("coding: the candidate talked over the agent; it stops")
            self._session.interrupt()

    def _on_transcript(self, event: UserInputTranscribedEvent) -> None:
        self._active()
        if self.coding and event.is_final and addresses_the_interviewer(event.transcript):
            log.info("coding: the candidate addressed the interviewer; their turn is over")
            self._session.commit_user_turn()

    def _on_data(self, packet: rtc.DataPacket) -> None:
        sender = packet.participant
        if packet.topic != TOPIC or sender is None or sender.attributes.get("role") != "candidate":
            return
        if len(packet.data) > MAX_MESSAGE_BYTES:
            log.warning("coding message of %d bytes ignored", len(packet.data))
            return
        try:
            message = json.loads(packet.data)
        except ValueError:
            log.warning("coding message that is not JSON ignored")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "editor" and isinstance(message.get("code"), str):
            self.code = message["code"]
            self._active()
        elif kind == "tests_run" and self.coding:
            self._spawn(self._check_in("tests_run"))

    async def _follow_the_interview(self) -> None:
        while True:
            await asyncio.sleep(STAGE_POLL_SECONDS)
            try:
                state = await self._handle.query(InterviewWorkflow.state)
            except Exception:  # Temporal briefly away: keep the current mode, ask again
                log.warning("could not read the interview's stage", exc_info=True)
                continue
            if state.ended:
                return
            if state.stage is not None:
                self.entered(state.stage)
            quiet = self._session.user_state != "speaking" and self._session.agent_state == "listening"
            if self.coding and quiet and time.monotonic() - self._last_activity > self._idle_seconds:
                await self._check_in("idle")

    async def _check_in(self, reason: CheckInReason) -> None:
        self._active()
        try:
            reply = await self._handle.execute_update(InterviewWorkflow.coding_check_in, CodingCheckIn(reason=reason))
        except WorkflowUpdateFailedError as refused:  # no longer coding, or a person took over
            log.info("check-in (%s) not made: %s", reason, refused.cause)
            return
        for _ in range(100):  # never talk over the candidate: let them finish (up to 10 s)
            if self._session.user_state != "speaking":
                break
            await asyncio.sleep(0.1)
        log.info("coding: checked in (%s)", reason)
        self._session.say(reply.text, add_to_chat_ctx=False)
        self._active()

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
