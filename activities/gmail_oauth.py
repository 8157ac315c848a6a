"""Connecting Gmail: Google's OAuth 2.0 authorization-code flow for a web server, with PKCE, asking only for
`gmail.readonly` and for offline access (a refresh token), and revoking the access on disconnect.

The endpoints come from settings (GOOGLE_AUTH_URI, GOOGLE_TOKEN_URI, GOOGLE_REVOKE_URI), so tests point them at a
local stand-in that speaks Google's wire format.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from urllib.parse import urlencode

import httpx

from schema.mailboxes import GMAIL_READONLY, GmailTokens
from stack.settings import Settings


class ConsentRefused(ValueError):
    """Google did not give the access asked for; the message is for the person."""


def code_verifier() -> str:
    return secrets.token_urlsafe(48)  # 64 characters, within RFC 7636's 43-128


def authorization_url(settings: Settings, redirect_uri: str, state: str, verifier: str) -> str:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "client_id": settings.google_client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": GMAIL_READONLY,
        "access_type": "offline",  # a refresh token, so the sync runs while the user is away
        "prompt": "consent",  # and again on a reconnect: Google gives one only with consent
        "include_granted_scopes": "true",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{settings.google_auth_uri}?{urlencode(query)}"


async def exchange_code(
    http: httpx.AsyncClient, settings: Settings, code: str, redirect_uri: str, verifier: str
) -> GmailTokens:
    """The tokens for an authorization code. Raises ConsentRefused when Google refuses the code or the access
    granted is not enough, httpx.HTTPError when Google cannot be reached."""
    response = await http.post(
        settings.google_token_uri,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": settings.google_client_id or "",
            "client_secret": settings.google_client_secret or "",
            "code_verifier": verifier,
        },
    )
    if response.status_code >= 500:
        response.raise_for_status()
    body = response.json()
    if response.status_code != 200:
        raise ConsentRefused(
            f"Google did not accept the sign-in ({body.get('error', response.status_code)}): start again"
        )
    scopes = str(body.get("scope", "")).split()
    if GMAIL_READONLY not in scopes:
        # What was granted is of no use to mocki: give it back rather than hold it.
        await _revoke_token(http, settings, body.get("refresh_token") or body.get("access_token", ""))
        raise ConsentRefused("Gmail read access was not granted: connect again and allow mocki to read your email")
    if not body.get("refresh_token"):
        raise ConsentRefused("Google gave no refresh token: remove mocki's access in your Google account, then connect")
    # google-auth keeps expiries naive, in UTC.
    expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=int(body.get("expires_in", 3600)))
    return GmailTokens(
        access_token=body["access_token"], refresh_token=body["refresh_token"], expiry=expiry.isoformat(), scopes=scopes
    )


async def revoke(http: httpx.AsyncClient, settings: Settings, tokens: GmailTokens) -> bool:
    """Asks Google to revoke the access (the refresh token, and with it its access tokens). True when Google
    confirmed it or already had no such token."""
    return await _revoke_token(http, settings, tokens.refresh_token)


async def _revoke_token(http: httpx.AsyncClient, settings: Settings, token: str) -> bool:
    try:
        response = await http.post(settings.google_revoke_uri, data={"token": token})
    except httpx.HTTPError:
        return False
    # 400 invalid_token: already revoked or expired, which is what was wanted.
    return response.status_code == 200 or (response.status_code == 400 and "invalid_token" in response.text)
