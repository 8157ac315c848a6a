"""Accounts through the API: sign-up, sign-in, rotating refresh tokens, sign-out, and bad tokens."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
import uuid

import jwt
from httpx import AsyncClient as Client

from schema.tables import AppUser
from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import PASSWORD, sign_up
from web.accounts import Tokens, load_or_create_secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_sign_up_then_me_and_the_password_is_stored_as_argon2id(api: Client) -> None:
    email = f"Mixed.Case-{uuid.uuid4().hex[:8]}@Test.Mocki.Local"
    response = await api.post(
        "/auth/signup", json={"email": email, "password": PASSWORD, "display_name": "Grace", "role": "recruiter"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    me = (await api.get("/users/me", headers=bearer(body["access_token"]))).json()
    assert me["email"] == email.lower() and me["role"] == "recruiter" and me["display_name"] == "Grace"
    stored = await AppUser.select(AppUser.password_hash).where(AppUser.email == email.lower()).first()
    assert stored is not None
    assert stored["password_hash"].startswith("$argon2id$") and PASSWORD not in stored["password_hash"]

    again = await api.post("/auth/signup", json={"email": email.upper(), "password": PASSWORD, "display_name": "Other"})
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]


async def test_sign_up_refuses_admin_weak_passwords_and_bad_emails(api: Client) -> None:
    base = {"email": f"x-{uuid.uuid4().hex[:8]}@test.mocki.local", "password": PASSWORD, "display_name": "X"}
    for override, mention in (
        ({"role": "admin"}, "role"),
        ({"password": "short"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"is_admin": True}, "is_admin"),
    ):
        response = await api.post("/auth/signup", json={**base, **override})
        assert response.status_code == 400, (override, response.text)
        assert mention in response.text
    assert await AppUser.count().where(AppUser.email == base["email"]) == 0


async def test_sign_in_says_the_same_for_a_wrong_password_and_an_unknown_email(api: Client) -> None:
    _auth, email = await sign_up(api)
    ok = await api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert ok.status_code == 200
    wrong = await api.post("/auth/login", json={"email": email, "password": PASSWORD + "!"})
    unknown = await api.post("/auth/login", json={"email": f"nobody-{email}", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "the email or the password is wrong"


async def test_refresh_rotates_and_a_reused_refresh_token_signs_the_whole_family_out(api: Client) -> None:
    _auth, email = await sign_up(api)
    first = (await api.post("/auth/login", json={"email": email, "password": PASSWORD})).json()
    second = await api.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert (await api.get("/users/me", headers=bearer(rotated["access_token"]))).status_code == 200

    # The first token again: someone else has it. Refused, and the rotated one dies with it.
    replay = await api.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    after = await api.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401
    # Another sign-in of the same account is a different family and keeps working.
    other = (await api.post("/auth/login", json={"email": email, "password": PASSWORD})).json()
    assert (await api.post("/auth/refresh", json={"refresh_token": other["refresh_token"]})).status_code == 200


async def test_logout_revokes_the_refresh_token_and_only_its_owner_can(api: Client) -> None:
    auth, email = await sign_up(api)
    stranger, _ = await sign_up(api)
    pair = (await api.post("/auth/login", json={"email": email, "password": PASSWORD})).json()
    not_yours = await api.post("/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=stranger)
    assert not_yours.status_code == 404
    assert (await api.post("/auth/logout", json={"refresh_token": pair["refresh_token"]})).status_code == 401
    out = await api.post("/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=auth)
    assert out.status_code == 204
    refused = await api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


async def test_expired_tampered_foreign_and_unsigned_access_tokens_are_refused(api: Client, settings: Settings) -> None:
    auth, _email = await sign_up(api)
    token = auth["Authorization"].removeprefix("Bearer ")
    tokens = Tokens(load_or_create_secret(settings.secret_key, settings.data_dir))
    me = tokens.verify(token)
    expired = tokens.access_token(me.id, me.role, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    cases = {
        "expired": (expired, "expired"),
        "tampered": (f"{header}.{forged_payload}.{signature}", "not valid"),
        "foreign key": (
            jwt.encode({**claims, "role": "candidate"}, "another-secret-of-32-characters!!", "HS256"),
            "not valid",
        ),
        "alg none": (jwt.encode(claims, key=None, algorithm="none"), "not valid"),
        "garbage": ("not.a.jwt", "not valid"),
    }
    for name, (bad, mention) in cases.items():
        response = await api.get("/users/me", headers=bearer(bad))
        assert response.status_code == 401, name
        assert mention in response.json()["detail"], name
    anonymous = await api.get("/users/me")
    assert anonymous.status_code == 401
    assert "sign in first" in anonymous.json()["detail"]


async def test_the_first_admin_is_created_from_the_command_line(api: Client, endpoints: Endpoints) -> None:
    email = f"admin-{uuid.uuid4().hex[:8]}@test.mocki.local"
    env = {**os.environ, "DATABASE_URL": endpoints.database_url, "MOCKI_NEW_PASSWORD": PASSWORD}
    command = [sys.executable, "-m", "stack.cli", "users", "create", "--email", email, "--name", "Root", "--role"]
    created = subprocess.run([*command, "admin"], env=env, capture_output=True, text=True, check=False, timeout=60)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == f"created admin {email}"
    login = await api.post("/auth/login", json={"email": email, "password": PASSWORD})
    me = (await api.get("/users/me", headers=bearer(login.json()["access_token"]))).json()
    assert me["role"] == "admin"
    twice = subprocess.run([*command, "admin"], env=env, capture_output=True, text=True, check=False, timeout=60)
    assert twice.returncode == 2
    assert "already exists" in twice.stderr
    weak = subprocess.run(
        [*command, "admin"], env={**env, "MOCKI_NEW_PASSWORD": "short"}, capture_output=True, text=True, check=False
    )
    assert weak.returncode == 2
    assert "password" in weak.stderr
