"""A local stand-in that speaks OpenAI's REST wire format, for driving the real `openai` SDK in tests.

It answers chat completions (whole, or streamed as server-sent events when asked), embeddings, speech and
transcriptions with fixed, well-formed payloads, records what it was sent, and can be told to misbehave (bad JSON,
an auth error, a server error) or to be slow.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.standins import served


@dataclass
class Behaviour:
    chat_content: str = '{"acknowledgement": "Thanks.", "covered": [], "score": 0, "feedback": "", "follow_up": ""}'
    status: int = 200  # anything else: every call answers with this status and an OpenAI-style error
    # A flaky provider: a chat request whose messages contain a key here fails with 500 this many times first.
    chat_failures: dict[str, int] = field(default_factory=dict)
    chat_delay_seconds: float = 0.0  # a slow provider: chat completions answer this late
    # A model that stops to think mid-reply: a streamed completion pauses this long before `chat_pause_before`.
    chat_pause_before: str = ""
    chat_pause_seconds: float = 0.0
    chat_finished: list[float] = field(default_factory=list)  # time.monotonic() each completion was sent whole
    speech_status: int = 200  # text-to-speech alone failing with this status
    requests: list[tuple[str, Any]] = field(default_factory=list)
    chat_arrivals: list[float] = field(default_factory=list)  # time.monotonic() of each chat request


def _error(status: int) -> web.Response:
    kinds = {401: "invalid_api_key", 429: "rate_limit_exceeded", 500: "server_error"}
    body = {"error": {"message": f"stand-in error {status}", "type": kinds.get(status, "error"), "code": None}}
    return web.json_response(body, status=status)


def _silence_wav(seconds: float = 0.5, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


def _chunk(head: dict[str, Any], delta: dict[str, str], finish_reason: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    return f"data: {json.dumps({**head, 'object': 'chat.completion.chunk', 'choices': [choice]})}\n\n".encode()


def build_app(behaviour: Behaviour) -> web.Application:
    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        behaviour.requests.append(("chat", body))
        behaviour.chat_arrivals.append(time.monotonic())
        await asyncio.sleep(behaviour.chat_delay_seconds)
        if behaviour.status != 200:
            return _error(behaviour.status)
        said = json.dumps(body["messages"])
        for key, left in behaviour.chat_failures.items():
            if left and key in said:
                behaviour.chat_failures[key] = left - 1
                return _error(500)
        head = {"id": "chatcmpl-standin", "created": int(time.time()), "model": body["model"]}
        if not body.get("stream"):
            message = {"role": "assistant", "content": behaviour.chat_content}
            choice = {"index": 0, "finish_reason": "stop", "message": message}
            usage = {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
            behaviour.chat_finished.append(time.monotonic())
            return web.json_response({**head, "object": "chat.completion", "choices": [choice], "usage": usage})
        events = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await events.prepare(request)
        content, pause_at = behaviour.chat_content, behaviour.chat_content.find(behaviour.chat_pause_before)
        for start in range(0, len(content), 8):  # about a token's worth a chunk
            if behaviour.chat_pause_before and start <= pause_at < start + 8:
                await events.write(_chunk(head, {"content": content[start:pause_at]}))
                await asyncio.sleep(behaviour.chat_pause_seconds)
                await events.write(_chunk(head, {"content": content[pause_at : start + 8]}))
            else:
                await events.write(_chunk(head, {"content": content[start : start + 8]}))
        await events.write(_chunk(head, {}, finish_reason="stop"))
        if (body.get("stream_options") or {}).get("include_usage"):  # as OpenAI does: a last chunk of no choices
            usage = {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
            last = {**head, "object": "chat.completion.chunk", "choices": [], "usage": usage}
            await events.write(f"data: {json.dumps(last)}\n\n".encode())
        await events.write(b"data: [DONE]\n\n")
        behaviour.chat_finished.append(time.monotonic())
        return events

    async def embeddings(request: web.Request) -> web.Response:
        body = await request.json()
        behaviour.requests.append(("embeddings", body))
        if behaviour.status != 200:
            return _error(behaviour.status)
        dims = body.get("dimensions", 1536)
        data = [
            {"object": "embedding", "index": i, "embedding": [round((i + 1) / dims, 6)] * dims}
            for i in range(len(body["input"]))
        ]
        return web.json_response(
            {"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 1, "total_tokens": 1}}
        )

    async def speech(request: web.Request) -> web.Response:
        body = await request.json()
        behaviour.requests.append(("speech", body))
        if behaviour.status != 200 or behaviour.speech_status != 200:
            return _error(behaviour.status if behaviour.status != 200 else behaviour.speech_status)
        return web.Response(body=_silence_wav(), content_type="audio/wav")

    async def transcriptions(request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        assert isinstance(upload, web.FileField)
        behaviour.requests.append(("transcriptions", {"model": form["model"], "bytes": len(upload.file.read())}))
        if behaviour.status != 200:
            return _error(behaviour.status)
        return web.json_response({"text": " I would use a hash map. "})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_post("/v1/audio/speech", speech)
    app.router.add_post("/v1/audio/transcriptions", transcriptions)
    return app


@asynccontextmanager
async def running(behaviour: Behaviour) -> AsyncIterator[str]:
    """Serve on a free loopback port; yields the base URL to give as OPENAI_BASE_URL."""
    async with served(build_app(behaviour)) as url:
        yield f"{url}/v1"
