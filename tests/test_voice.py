"""A voice interview in a real LiveKit room: the agent speaks, hears the candidate and answers, through the workflow.

The candidate is a livekit rtc participant: it transcribes what it hears with faster-whisper and speaks answers
synthesised with espeak-ng. The agent is a `mocki agent` process, dispatched when the candidate joins.
"""

from __future__ import annotations

import asyncio
import difflib
import itertools
import json
import re
import signal
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from agents.backchannel import is_backchannel
from agents.interviewer import REFUSALS_ALOUD
from stack.services import Endpoints
from stack.settings import Settings
from stack.supervisor import free_port
from stack.voice_candidate import Candidate
from tests.conftest import isolated_api, recruiter_room, service_env, sign_up, start_worker, wait_ready
from tests.standins.openai_api import Behaviour, running
from tests.test_metrics import sample
from tests.test_review import FAILS_EDGE_CASES, job_result, room_at_coding_stage
from workflows.interview import ALL_ANSWERED


def start_agent(env: dict[str, str], ready: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    return start_worker(env, ready, log, "agent", *args)


class MetricsCollector(ThreadingHTTPServer):
    """An OpenTelemetry collector's OTLP/HTTP metrics endpoint: keeps the names and points it receives."""

    def __init__(self) -> None:
        self.points: dict[str, list[float]] = {}
        collector = self

        class Receive(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                export = ExportMetricsServiceRequest.FromString(body)
                for resource in export.resource_metrics:
                    for scope in resource.scope_metrics:
                        for metric in scope.metrics:
                            sums = [point.sum for point in metric.histogram.data_points]
                            collector.points.setdefault(metric.name, []).extend(sums)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()
                self.wfile.write(ExportMetricsServiceResponse().SerializeToString())

            def log_message(self, *_: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Receive)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@asynccontextmanager
async def voice_agent(
    settings: Settings, endpoints: Endpoints, tmp_path: Path, *args: str, **extra_env: str
) -> AsyncIterator[None]:
    ready = tmp_path / "agent.ready"
    agent = start_agent({**service_env(settings, endpoints), **extra_env}, ready, tmp_path / "agent.log", *args)
    try:
        await wait_ready(ready)
        yield
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(timeout=30)
        except subprocess.TimeoutExpired:
            agent.kill()


def assert_heard(heard: str, said: object) -> None:
    """The candidate heard `said`. Its ear is whisper tiny.en on espeak-ng's voice, which gets single words wrong
    ("Backend" -> "Mac and", "covers" -> "Congress"): most of the words, in order, is hearing it; another sentence
    shares few (0.0-0.4 measured), so a wrong or missing utterance still fails."""
    heard_words, said_words = re.findall(r"[a-z']+", heard.lower()), re.findall(r"[a-z']+", str(said).lower())
    similarity = difflib.SequenceMatcher(None, said_words, heard_words).ratio()
    assert similarity >= 0.6, f"heard {heard!r} for {said!r} ({similarity:.2f} alike)"


def speakers_in_order(recorded: list[dict[str, object]]) -> list[object]:
    """Who spoke, in order, one entry per run of turns by the same speaker."""
    return [speaker for speaker, _ in itertools.groupby(turn["speaker"] for turn in recorded)]


async def turns(api: httpx.AsyncClient, room_id: str, auth: dict[str, str]) -> list[dict[str, object]]:
    page = await api.get(f"/rooms/{room_id}/ai/messages", params={"limit": 200}, headers=auth)
    return page.json()["items"]  # type: ignore[no-any-return]


async def test_the_candidate_hears_the_question_answers_by_voice_and_hears_the_reply(
    api: httpx.AsyncClient, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    collector, metrics_port = MetricsCollector(), free_port()
    serving_metrics = ("--metrics-port", str(metrics_port))
    async with voice_agent(settings, endpoints, tmp_path, *serving_metrics, OTEL_EXPORTER_OTLP_ENDPOINT=collector.url):
        auth, _ = await sign_up(api)
        room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
        joined = await api.post(f"/rooms/{room_id}/join", headers=auth)
        assert joined.status_code == 201, joined.text
        grant = joined.json()
        candidate = Candidate()
        await candidate.join(grant["url"], grant["token"])
        try:
            opening = await candidate.hear_an_utterance()
            assert_heard(opening, (await turns(api, room_id, auth))[0]["text"])

            await candidate.say("I am a backend engineer with five years of experience in payments.")
            for _ in range(100):
                said = [t for t in await turns(api, room_id, auth) if t["speaker"] == "candidate"]
                if said:
                    break
                await asyncio.sleep(0.3)
            assert said and "experience" in str(said[0]["text"]).lower(), said

            reply = await candidate.hear_an_utterance()
            assert reply.strip(), "the agent did not answer by voice"
            recorded = await turns(api, room_id, auth)
            assert [t["speaker"] for t in recorded[:3]] == ["ai", "candidate", "ai"]

            # How the spoken reply came about is in the room's record, with the reply.
            for _ in range(50):
                voice = (await turns(api, room_id, auth))[2]["voice"]
                if voice:
                    break
                await asyncio.sleep(0.2)
            assert voice, "no voice metrics were recorded for the reply"
            assert (
                voice["stt_provider"] == "local:faster-whisper-tiny.en" and voice["tts_provider"] == "local:espeak-ng"
            )
            assert 0 < voice["stt_ms"] <= voice["end_of_utterance_ms"] < voice["voice_to_voice_ms"]
            assert voice["llm_first_token_ms"] > 0 and voice["tts_first_byte_ms"] > 0 and not voice["interrupted"]
            assert not voice["acknowledged"]  # the offline interviewer answers at once: no filler needed
            assert recorded[0]["voice"] is None and recorded[1]["voice"] is None  # the opening; the answer

            # Prometheus scrapes the same figures from the agent, with its speech models' calls and audio.
            async with httpx.AsyncClient(timeout=10) as http:
                scraped = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
            assert sample(scraped, "mocki_voice_voice_to_voice_milliseconds_count"), scraped[-3000:]
            whisper = {"provider": "local:faster-whisper-tiny.en", "purpose": "stt"}
            assert sample(scraped, "mocki_model_duration_seconds_count", **whisper, outcome="ok")
            assert (sample(scraped, "mocki_audio_duration_seconds_sum", **whisper) or 0) > 1.0  # the answer
            espeak = {"provider": "local:espeak-ng", "purpose": "tts"}
            assert sample(scraped, "mocki_model_duration_seconds_count", **espeak, outcome="ok")
        finally:
            await candidate.room.disconnect()
    # The agent flushed its metrics on stopping: the same turn, as OpenTelemetry histograms (cumulative sums).
    assert collector.points["mocki.voice.voice_to_voice"][-1] == voice["voice_to_voice_ms"], collector.points
    assert {"mocki.voice.stt", "mocki.voice.llm_first_token", "mocki.voice.tts_first_byte"} <= set(collector.points)
    collector.shutdown()


async def candidate_in_voice_room(api: httpx.AsyncClient) -> tuple[Candidate, str, dict[str, str]]:
    auth, _ = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    joined = await api.post(f"/rooms/{room_id}/join", headers=auth)
    assert joined.status_code == 201, joined.text
    candidate = Candidate()
    await candidate.join(joined.json()["url"], joined.json()["token"])
    return candidate, room_id, auth


@asynccontextmanager
async def heard_the_opening(
    api: httpx.AsyncClient, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> AsyncIterator[tuple[Candidate, str, dict[str, str]]]:
    """An agent, and a candidate in its new room who has heard the opening question; they leave at the end."""
    async with voice_agent(settings, endpoints, tmp_path):
        candidate, room_id, auth = await candidate_in_voice_room(api)
        try:
            await candidate.hear_an_utterance()
            yield candidate, room_id, auth
        finally:
            await candidate.room.disconnect()


async def test_a_pause_mid_answer_is_waited_out_and_talking_over_the_agent_stops_it(
    api: httpx.AsyncClient, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    async with heard_the_opening(api, settings, endpoints, tmp_path) as (candidate, room_id, auth):
        # Thinking aloud, then a trailing, unfinished sentence, each followed by 2.5 s of silence: one answer.
        await candidate.say(
            "Hmm, let me think.", 2.5, "I would start with", 2.5, "a hash map, because lookups take constant time."
        )
        for _ in range(100):
            answers = [t for t in await turns(api, room_id, auth) if t["speaker"] == "candidate"]
            if answers:
                break
            await asyncio.sleep(0.3)
        await asyncio.sleep(2)
        answers = [t for t in await turns(api, room_id, auth) if t["speaker"] == "candidate"]
        assert len(answers) == 1, answers
        said = str(answers[0]["text"]).lower()
        assert "think" in said and "start with" in said and "hash" in said, said

        # The reply starts; the candidate talks over it and the agent goes quiet.
        started = await candidate.talk_over_the_reply("Sorry, can I add something about collisions here?")
        assert candidate.was_talking_just_before(started), "it was not talking"
        # Its reply runs for several seconds; while the candidate is still talking it must be silent. How
        # fast it stops is a speed goal, measured by `make bench` (voice), not asserted here.
        loud_after = [at for at, loud in candidate.heard_at if loud and started + 1.0 < at < started + 2.0]
        assert not loud_after, f"the agent kept talking {loud_after[-1] - started:.2f} s after the barge-in"


async def test_a_murmur_over_the_question_is_not_an_answer_and_the_agent_goes_on_with_it(
    api: httpx.AsyncClient, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    async with heard_the_opening(api, settings, endpoints, tmp_path) as (candidate, room_id, auth):
        await candidate.say("I build payment services in Python and I lead a team of four.")
        murmured = await candidate.talk_over_the_reply("Mm-hmm.")
        # It falls silent while the candidate makes the sound (a barge-in), then resumes where it was.
        assert candidate.was_talking_just_before(murmured), "it was not talking"
        assert not any(loud for at, loud in candidate.heard_at if murmured + 0.5 < at < murmured + 1.0)
        rest = await candidate.hear_after(murmured + 1.0)

        recorded = await turns(api, room_id, auth)
        assert [t["speaker"] for t in recorded] == ["ai", "candidate", "ai"], recorded  # no "mm-hmm" turn
        question = str(recorded[-1]["text"]).split(". ", 1)[-1]  # the reply's question, after its first sentence
        assert_heard(rest, question)


def test_only_a_murmur_with_nothing_of_an_answer_in_it_is_taken_for_one() -> None:
    murmurs = ["Mm-hmm.", "Mm mm", "Mhm.", "Uh-huh.", "Hmm.", "Okay.", "Yeah, right.", "Right, got it.", "I see."]
    said = ["No.", "Yes, I used a hash map.", "Sorry, can I add something?", "Okay, so I would", "Hmm, let me think."]
    assert [is_backchannel(text) for text in murmurs] == [True] * len(murmurs)
    assert [is_backchannel(text) for text in [*said, "", "..."]] == [False] * (len(said) + 2)


async def test_a_restarted_agent_continues_the_same_interview(
    api: httpx.AsyncClient, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    env = service_env(settings, endpoints)
    first = start_agent(env, tmp_path / "first.ready", tmp_path / "first.log")
    second = None
    try:
        await wait_ready(tmp_path / "first.ready")
        candidate, room_id, auth = await candidate_in_voice_room(api)
        await candidate.hear_an_utterance()
        await candidate.say("I am a backend engineer with five years of experience in payments.")
        question = await candidate.hear_an_utterance()  # the next question
        agent_left = asyncio.Event()
        candidate.room.on("participant_disconnected", lambda participant: agent_left.set())
        first.kill()  # SIGKILL: no goodbye
        first.wait()
        second = start_agent(env, tmp_path / "second.ready", tmp_path / "second.log")
        await wait_ready(tmp_path / "second.ready")
        await asyncio.wait_for(agent_left.wait(), 60)

        # The candidate's page rejoins; a new agent comes and asks the workflow where the interview is.
        rejoined = await api.post(f"/rooms/{room_id}/join", headers=auth)
        assert rejoined.status_code == 201, rejoined.text
        repeated = await candidate.hear_an_utterance(within_seconds=60)
        assert set(repeated.lower().split()) & set(question.lower().split()), (question, repeated)
        await candidate.say("Once my manager and I disagreed about a queue; I proposed Postgres and we shipped.")
        for _ in range(100):
            recorded = await turns(api, room_id, auth)
            if len(recorded) >= 5:
                break
            await asyncio.sleep(0.3)
        assert [t["speaker"] for t in recorded] == ["ai", "candidate", "ai", "candidate", "ai"], recorded
        assert [t["seq"] for t in recorded] == list(range(5))
        await candidate.room.disconnect()
    finally:
        for agent in (first, second):
            if agent is not None and agent.poll() is None:
                agent.send_signal(signal.SIGTERM)
                agent.wait(timeout=30)


async def test_the_ai_is_silent_while_a_person_interviews_and_speaks_again_after(
    api: httpx.AsyncClient, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    room_id, candidate_auth, recruiter, interviewer_auth = await recruiter_room(api)
    async with voice_agent(settings, endpoints, tmp_path):
        joined = await api.post(f"/rooms/{room_id}/join", headers=candidate_auth)
        candidate = Candidate()
        await candidate.join(joined.json()["url"], joined.json()["token"])
        interviewer = Candidate()  # a person with a microphone, like the candidate
        try:
            await candidate.hear_an_utterance()
            ai = [p for p in candidate.room.remote_participants.values() if p.attributes.get("role") == "ai"]
            assert ai, "the AI interviewer is not labelled in the room"  # the page shows who is speaking

            handed = await api.post(f"/rooms/{room_id}/interviewer", json={"mode": "human"}, headers=recruiter)
            assert handed.status_code == 200, handed.text
            seat = await api.post(f"/rooms/{room_id}/join", headers=interviewer_auth)
            assert seat.status_code == 201 and seat.json()["role"] == "interviewer", seat.text
            await interviewer.join(seat.json()["url"], seat.json()["token"])

            # The person asks, the candidate answers: both are transcribed into the one transcript.
            await interviewer.say("Tell me about the hardest bug you fixed last year.")
            for _ in range(100):
                recorded = await turns(api, room_id, candidate_auth)
                if len(recorded) > 1:
                    break
                await asyncio.sleep(0.2)
            spoke_at = await candidate.say("To the person: I rewrote our deploy pipeline last year.")
            for _ in range(100):
                recorded = await turns(api, room_id, candidate_auth)
                if len(recorded) > 2:
                    break
                await asyncio.sleep(0.2)
            # (Under load whisper may hear one sentence as two turns: who spoke, in order, is what counts here.)
            assert speakers_in_order(recorded) == ["ai", "human", "candidate"], recorded
            assert "hardest" in str(recorded[1]["text"]).lower(), recorded[1]
            await asyncio.sleep(2)
            assert not [at for at, loud in candidate.heard_at if loud and at > spoke_at], "the AI spoke while muted"

            back = await api.post(f"/rooms/{room_id}/interviewer", json={"mode": "ai"}, headers=recruiter)
            assert back.status_code == 200, back.text
            await candidate.say("At the time our team was late, so I proposed a smaller scope and we shipped.")
            reply = await candidate.hear_an_utterance()
            assert reply.strip()
            assert speakers_in_order(await turns(api, room_id, candidate_auth)) == ["ai", "human", "candidate", "ai"]
        finally:
            await candidate.room.disconnect()
            await interviewer.room.disconnect()


async def test_while_coding_the_agent_waits_out_silence_and_speaks_when_asked_tests_run_or_idle(
    api: httpx.AsyncClient, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    room_id, auth = await room_at_coding_stage(api)
    async with voice_agent(settings, endpoints, tmp_path, MOCKI_VOICE_CODING_IDLE_SECONDS="25"):
        joined = await api.post(f"/rooms/{room_id}/join", headers=auth)
        candidate = Candidate()
        await candidate.join(joined.json()["url"], joined.json()["token"])
        try:
            before = len(await turns(api, room_id, auth))
            assert_heard(await candidate.hear_an_utterance(), (await turns(api, room_id, auth))[-1]["text"])

            # Thinking aloud, then typing in silence for longer than any answer pause: not a turn.
            spoke_at = await candidate.say("Okay, I will push the opening brackets on a stack.", 8.0)
            await asyncio.sleep(1)
            assert len(await turns(api, room_id, auth)) == before
            assert not [at for at, loud in candidate.heard_at if loud and at > spoke_at], "it spoke into the silence"

            # The room's editor and a test run arrive as data messages; the agent speaks to the workflow's review.
            coding = {"topic": "mocki.coding", "reliable": True}
            await candidate.room.local_participant.publish_data(
                json.dumps({"type": "editor", "code": FAILS_EDGE_CASES}), **coding
            )
            await job_result(api, f"/rooms/{room_id}/ai/review", auth, {"code": FAILS_EDGE_CASES})
            await candidate.room.local_participant.publish_data(json.dumps({"type": "tests_run"}), **coding)
            heard = await candidate.hear_an_utterance()  # about the failing test
            remark = (await turns(api, room_id, auth))[-1]
            assert_heard(heard, remark["text"])
            assert remark["speaker"] == "ai" and "of 8 tests pass" in str(remark["text"]), remark

            # A request to the interviewer is a turn: the hint ladder, with the editor's code.
            # Talking over it stops it here too (turns are the agent's to end while coding, barge-in is not).
            await candidate.say("I am stuck. Can you give me a hint?")
            started = await candidate.talk_over_the_reply("Oh wait, I think I see it now, never mind.")
            assert candidate.was_talking_just_before(started), "no spoken hint"
            loud_after = [at for at, loud in candidate.heard_at if loud and started + 1.0 < at < started + 2.0]
            assert not loud_after, f"the hint went on {loud_after[-1] - started:.2f} s after the barge-in"
            recorded = await turns(api, room_id, auth)
            assert [t["speaker"] for t in recorded[-2:]] == ["candidate", "ai"], recorded
            asked = str(recorded[-2]["text"]).lower()
            assert "stack" in asked and "hint" in asked, recorded[-4:]  # thinking aloud and the request: one turn
            assert str(recorded[-1]["text"]).startswith("Hint 1:"), recorded[-1]

            # A long silence: the agent checks in.
            check_in = await candidate.hear_an_utterance(within_seconds=60)
            idle_check_in = (await turns(api, room_id, auth))[-1]["text"]
            assert "How's it going?" in str(idle_check_in)
            assert_heard(check_in, idle_check_in)
        finally:
            await candidate.room.disconnect()


async def test_a_slow_model_s_reply_opens_with_an_acknowledgement_of_what_was_said_never_the_same_twice(
    db: None, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    # The interviewer model (OpenAI's SDK against a stand-in) takes 3 s: every reply is late. (With 2 s, a loaded CI
    # machine's local speech-to-text and TTS once took as long, and the acknowledgement came 11 ms after the model.)
    behaviour = Behaviour(chat_delay_seconds=3)
    async with running(behaviour) as base_url:
        queue = f"slow-model-{uuid.uuid4()}"
        slow = {"MOCKI_TASK_QUEUE_PREFIX": queue, "OPENAI_API_KEY": "sk-standin", "OPENAI_BASE_URL": base_url}
        worker = start_worker(service_env(settings, endpoints, **slow), tmp_path / "slow.ready", tmp_path / "slow.log")
        try:
            await wait_ready(tmp_path / "slow.ready")
            async with (
                isolated_api(settings, endpoints, **slow) as isolated,
                voice_agent(settings, endpoints, tmp_path),
            ):
                api = isolated.client
                candidate, room_id, auth = await candidate_in_voice_room(api)
                try:
                    await candidate.hear_an_utterance()
                    heard = []
                    for n, answer in enumerate(
                        (
                            "I would use a hash map for that, so lookups stay fast.",
                            "Then the hash map was kept in memory on every server.",
                        )
                    ):
                        await candidate.say(answer)
                        heard.append(re.findall(r"[a-z]+", (await candidate.hear_an_utterance()).lower()))
                        spoke = next(at for at, loud in candidate.heard_at if loud and at > candidate.last_voiced_at)
                        assert spoke < behaviour.chat_finished[n], "the acknowledgement waited for the model"
                        await candidate.listen_past(behaviour.chat_finished[n])  # the question, before answering it
                    # Prepared from the partial transcript while the candidate spoke, said while the model worked;
                    # the second answer is about the hash map too, but no acknowledgement is said twice in a row.
                    assert heard[0][:4] == ["right", "the", "hash", "map"], heard
                    assert heard[1][:4] != heard[0][:4], heard
                    replies = [t for t in await turns(api, room_id, auth) if t["speaker"] == "ai"][1:]
                    assert len(replies) == 2 and not any(str(t["text"]).startswith("Right,") for t in replies)
                    for _ in range(25):
                        if all(t["voice"] for t in replies):
                            break
                        await asyncio.sleep(0.2)
                        replies = [t for t in await turns(api, room_id, auth) if t["speaker"] == "ai"][1:]
                    assert all(t["voice"] and t["voice"]["acknowledged"] for t in replies), replies
                finally:
                    await candidate.room.disconnect()
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)


async def test_a_remote_model_s_acknowledgement_is_spoken_while_the_model_is_still_writing(
    db: None, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    # The model (OpenAI's SDK against a stand-in) writes its acknowledgement at once, then takes 4 s over the score.
    behaviour = Behaviour(
        chat_content='{"acknowledgement": "Thanks, that covers the main idea.", "covered": [], "score": 3, '
        '"feedback": "Clear.", "follow_up": ""}',
        chat_pause_before='"covered"',
        chat_pause_seconds=4,
    )
    async with running(behaviour) as base_url:
        queue = f"streaming-model-{uuid.uuid4()}"
        remote = {"MOCKI_TASK_QUEUE_PREFIX": queue, "OPENAI_API_KEY": "sk-standin", "OPENAI_BASE_URL": base_url}
        ready, log = tmp_path / "remote.ready", tmp_path / "remote.log"
        worker = start_worker(service_env(settings, endpoints, **remote), ready, log)
        try:
            await wait_ready(ready)
            async with (
                isolated_api(settings, endpoints, **remote) as isolated,
                # No filler: what is heard early can only be the model's own words.
                voice_agent(settings, endpoints, tmp_path, MOCKI_VOICE_FILLER_AFTER_SECONDS="0"),
            ):
                api = isolated.client
                candidate, room_id, auth = await candidate_in_voice_room(api)
                try:
                    await candidate.hear_an_utterance()
                    await candidate.say("I am a backend engineer with five years of experience in payments.")
                    opening = await candidate.hear_an_utterance()
                    first_sound = next(at for at, loud in candidate.heard_at if loud and at > candidate.last_voiced_at)
                    assert_heard(opening, "Thanks, that covers the main idea.")
                    assert behaviour.chat_finished and first_sound < behaviour.chat_finished[0], "it waited"
                    rest = await candidate.hear_an_utterance()  # the next question, once the workflow has it
                    assert rest.strip() and "main idea" not in rest.lower(), rest  # the opening is not said twice
                    reply = [t for t in await turns(api, room_id, auth) if t["speaker"] == "ai"][1]
                    assert str(reply["text"]).startswith("Thanks, that covers the main idea. "), reply  # whole, once
                finally:
                    await candidate.room.disconnect()
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)


async def test_after_the_last_question_the_agent_says_the_interview_is_over(
    api: httpx.AsyncClient, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    auth, _ = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    finished, n = False, 0
    while not finished:  # typed answers, all the way through the plan
        n += 1
        finished = (await job_result(api, f"/rooms/{room_id}/ai/message", auth, {"text": f"Answer {n}."}))["finished"]
    async with voice_agent(settings, endpoints, tmp_path):
        joined = await api.post(f"/rooms/{room_id}/join", headers=auth)
        candidate = Candidate()
        await candidate.join(joined.json()["url"], joined.json()["token"])
        try:
            await candidate.hear_an_utterance()  # the interviewer's last words
            recorded = len(await turns(api, room_id, auth))
            await candidate.say("Thank you, I have nothing else to add.")
            assert_heard(await candidate.hear_an_utterance(), REFUSALS_ALOUD[ALL_ANSWERED])
            assert len(await turns(api, room_id, auth)) == recorded  # refused by the workflow: nothing recorded
        finally:
            await candidate.room.disconnect()
