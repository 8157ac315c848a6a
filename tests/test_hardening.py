"""What every response carries, who may call from a browser, and what never reaches the logs."""

from __future__ import annotations

import uuid

from httpx import AsyncClient as Client

from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import PASSWORD, isolated_api, sign_up
from workflows.worker import WorkerGroup


async def test_security_headers_are_on_successes_and_errors_alike(api: Client) -> None:
    for path, status in (("/health", 200), ("/users/me", 401), (f"/rooms/{uuid.uuid4()}", 401), ("/nowhere", 404)):
        response = await api.get(path)
        assert response.status_code == status, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response.headers["cache-control"] == "no-store"
    docs = await api.get("/docs")
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers


async def test_only_configured_origins_may_call_from_a_browser(
    worker: WorkerGroup, settings: Settings, endpoints: Endpoints
) -> None:
    allowed = "https://app.mocki.example"
    async with isolated_api(settings, endpoints, MOCKI_CORS_ORIGINS=allowed) as isolated:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        ok = await isolated.client.options("/rooms", headers={"Origin": allowed, **preflight})
        assert ok.status_code in (200, 204)
        assert ok.headers["access-control-allow-origin"] == allowed
        evil = await isolated.client.options("/rooms", headers={"Origin": "https://evil.example", **preflight})
        assert evil.headers.get("access-control-allow-origin") != "https://evil.example"
    default = await isolated_origin_header(
        api_origin="https://app.mocki.example", settings=settings, endpoints=endpoints
    )
    assert default is None


async def isolated_origin_header(api_origin: str, settings: Settings, endpoints: Endpoints) -> str | None:
    """Without MOCKI_CORS_ORIGINS no origin is allowed."""
    async with isolated_api(settings, endpoints) as isolated:
        response = await isolated.client.get("/health", headers={"Origin": api_origin})
        return response.headers.get("access-control-allow-origin")


async def test_passwords_tokens_emails_and_answers_never_reach_the_log(
    worker: WorkerGroup, settings: Settings, endpoints: Endpoints
) -> None:
    email = f"private-{uuid.uuid4().hex[:8]}@test.mocki.local"
    answer = f"my secret answer {uuid.uuid4().hex}"
    async with isolated_api(settings, endpoints) as isolated:
        client = isolated.client
        signup = await client.post("/auth/signup", json={"email": email, "password": PASSWORD, "display_name": "Priv"})
        tokens = signup.json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        await client.post("/auth/login", json={"email": email, "password": "a wrong password"})
        room_id = (await client.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
        await client.post(f"/rooms/{room_id}/ai/message", json={"text": answer}, headers=auth)
        await client.post(f"/rooms/{room_id}/ai/message", content=b'{"text": "broken', headers=auth)
        await client.post("/auth/refresh", json={"refresh_token": "x" * 40})
        log = isolated.log.read_text()
    assert log, "the API wrote nothing at all: this test would prove nothing"
    for secret in (email, PASSWORD, "a wrong password", answer, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in log, f"{secret[:12]}... is in the log"


async def test_an_oversized_body_is_refused_with_413_keyed_or_not(api: Client) -> None:
    signup = await api.post(
        "/auth/signup",
        json={"email": f"big-{uuid.uuid4().hex[:8]}@test.mocki.local", "password": PASSWORD, "display_name": "Big"},
    )
    auth = {"Authorization": f"Bearer {signup.json()['access_token']}"}
    huge = b'{"role": "' + b"x" * 70_000 + b'"}'
    for extra in ({}, {"Idempotency-Key": "big-body"}):
        response = await api.post("/rooms", content=huge, headers={**auth, **extra, "Content-Type": "application/json"})
        assert response.status_code == 413, (extra, response.text)


async def test_a_binary_form_field_sent_without_a_filename_is_a_400_on_every_upload(api: Client) -> None:
    auth, _ = await sign_up(api)
    # Found by `make fuzz`: a PNG sent as a plain form field (no filename) failed Litestar's form parsing with a 500.
    form = (
        b'--XX\r\nContent-Disposition: form-data; name="file"\r\n\r\n\x89PNG\r\n\x1a\n\x00\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="kind"\r\n\r\nresume\r\n--XX--\r\n'
    )
    for path in ("/documents", "/applications/import", "/postings/import"):
        response = await api.post(
            path, content=form, headers={**auth, "Content-Type": "multipart/form-data; boundary=XX"}
        )
        assert response.status_code == 400, (path, response.text)
        assert "not UTF-8 text: send a file as a file part" in response.json()["detail"]
