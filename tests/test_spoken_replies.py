"""Replies spoken on request: the WAV is served to the room's readers; when speech fails the reply is text only."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

from httpx import AsyncClient as Client

from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import isolated_api, service_env, sign_up, start_worker, wait_ready
from tests.standins.openai_api import Behaviour, running
from tests.test_review import job_result


async def test_a_reply_asked_to_be_spoken_comes_with_its_audio_for_the_rooms_readers_only(api: Client) -> None:
    auth, _ = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    path = f"/rooms/{room_id}/ai/message"
    spoken = await job_result(api, path, auth, {"text": "I build payment systems in Go.", "speak": True})
    audio = spoken["audio"]
    assert audio["provider"] == "local:espeak-ng" and audio["seconds"] > 1
    assert audio["url"] == f"/rooms/{room_id}/ai/messages/2/audio"  # the opening, the answer, this reply
    wav = await api.get(audio["url"], headers=auth)
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    assert wav.content[:4] == b"RIFF" and len(wav.content) > 10_000

    stranger, _ = await sign_up(api)
    assert (await api.get(audio["url"], headers=stranger)).status_code == 404
    assert (await api.get(audio["url"])).status_code == 401

    silent = await job_result(api, path, auth, {"text": "Hmm, let me think for a moment."})
    assert silent["audio"] is None and silent["audio_error"] is None
    missing = await api.get(f"/rooms/{room_id}/ai/messages/4/audio", headers=auth)
    assert missing.status_code == 404
    assert "has no audio" in missing.json()["detail"]


async def test_when_speech_fails_the_reply_still_arrives_as_text_and_says_why(
    db: None, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    behaviour = Behaviour(speech_status=500)
    async with running(behaviour) as base_url:
        queue = f"tts-failure-{uuid.uuid4()}"
        env = {
            "MOCKI_TASK_QUEUE_PREFIX": queue,
            "OPENAI_API_KEY": "sk-standin",
            "OPENAI_BASE_URL": base_url,
            "LLM_PROVIDER": "offline",
            "TTS_PROVIDER": "openai",
        }
        worker = start_worker(service_env(settings, endpoints, **env), tmp_path / "ready", tmp_path / "worker.log")
        try:
            await wait_ready(tmp_path / "ready")
            async with isolated_api(settings, endpoints, **env) as isolated:
                api = isolated.client
                auth, _ = await sign_up(api)
                room_id = (await api.post("/rooms", json={"role": "SRE"}, headers=auth)).json()["room_id"]
                path = f"/rooms/{room_id}/ai/message"
                text_only = await job_result(api, path, auth, {"text": "I run Kubernetes clusters.", "speak": True})
                assert text_only["text"] and text_only["audio"] is None
                assert text_only["audio_error"] == ("the reply could not be turned into speech, so it is text only")
                assert len([r for r in behaviour.requests if r[0] == "speech"]) == 2  # one retry, then text only

                behaviour.speech_status = 200
                spoken = await job_result(
                    api, path, auth, {"text": "Once our deploys broke on a Friday.", "speak": True}
                )
                assert spoken["audio"]["provider"] == "openai:gpt-4o-mini-tts"
                wav = await api.get(spoken["audio"]["url"], headers=auth)
                assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
