"""A local stand-in for Google: the OAuth 2.0 endpoints (consent, token, revoke) and the Gmail REST API's read side
(profile, labels, messages list/get, history), in Google's wire format, for driving the real
google-api-python-client and google-auth.

It keeps mailboxes with labels, internal dates and a history id that grows with each message added; checks PKCE,
the client's secret, redirect URIs, single-use codes and bearer tokens; can expire access tokens, revoke a
grant, forget old history (404, as Gmail does after about a week) and fail with 503s; and counts the calls made.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import secrets
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from schema.mailboxes import GMAIL_READONLY
from tests.standins import served

CLIENT_ID = "standin-client.apps.googleusercontent.com"
CLIENT_SECRET = "standin-client-secret"
SYSTEM_LABELS = ("INBOX", "SENT", "SPAM", "TRASH", "DRAFT", "UNREAD")


@dataclass
class Message:
    gmail_id: str
    raw: bytes
    labels: list[str]
    received: dt.datetime
    history_id: int


@dataclass
class Mailbox:
    address: str
    messages: dict[str, Message] = field(default_factory=dict)
    user_labels: dict[str, str] = field(default_factory=dict)  # id -> name
    history_id: int = 1000
    forgotten_before: int = 0  # history older than this is gone: history.list answers 404


@dataclass
class Grant:
    address: str
    scopes: list[str]
    revoked: bool = False


@dataclass
class Google:
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    consent_as: str | None = None  # the account the next consent screen signs in with
    consent_scopes: list[str] = field(default_factory=lambda: [GMAIL_READONLY])
    deny_consent: bool = False
    access_token_seconds: int = 3599
    codes: dict[str, tuple[str, str, str, list[str]]] = field(default_factory=dict)  # code -> address, uri, ...
    grants: dict[str, Grant] = field(default_factory=dict)  # refresh token -> grant
    access: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict)  # access token -> refresh, expiry
    calls: Counter[str] = field(default_factory=Counter)  # "token:refresh_token", "messages.list", ...
    # The same, per Gmail account: other tests' users sync on their own schedules meanwhile.
    account_calls: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failures_left: int = 0  # answer this many Gmail API calls with a 503 first

    def mailbox(self, address: str) -> Mailbox:
        return self.mailboxes.setdefault(address, Mailbox(address))

    def add(
        self, address: str, raw: bytes, labels: tuple[str, ...] = ("INBOX",), received: dt.datetime | None = None
    ) -> str:
        """A message arrives; returns its Gmail id."""
        box = self.mailbox(address)
        box.history_id += 7  # Gmail's ids grow, not by one
        gmail_id = secrets.token_hex(8)
        when = received or dt.datetime.now(dt.UTC)
        box.messages[gmail_id] = Message(gmail_id, raw, list(labels), when, box.history_id)
        return gmail_id

    def label(self, address: str, name: str) -> str:
        label_id = f"Label_{len(self.mailbox(address).user_labels) + 1}"
        self.mailbox(address).user_labels[label_id] = name
        return label_id

    def expire_access_tokens(self, address: str) -> None:
        """Every access token given so far for `address` stops working (as after an hour)."""
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        for token, (refresh, _) in list(self.access.items()):
            if self.grants[refresh].address == address:
                self.access[token] = (refresh, past)

    def revoke_all(self, address: str) -> None:
        """The user removes the app's access in their Google account."""
        for grant in self.grants.values():
            if grant.address == address:
                grant.revoked = True

    def live_grants(self, address: str) -> int:
        return sum(1 for grant in self.grants.values() if grant.address == address and not grant.revoked)


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _api_error(status: int, message: str, reason: str) -> web.Response:
    return web.json_response(
        {"error": {"code": status, "message": message, "errors": [{"message": message, "reason": reason}]}},
        status=status,
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def build_app(google: Google) -> web.Application:
    def issue_access(refresh: str) -> dict[str, Any]:
        token = "ya29." + secrets.token_urlsafe(24)
        google.access[token] = (refresh, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=google.access_token_seconds))
        return {"access_token": token, "expires_in": google.access_token_seconds, "token_type": "Bearer"}

    async def consent(request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return web.Response(status=400, text="Error 401: invalid_client")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return web.Response(status=400, text="Error 400: PKCE required by this stand-in")
        target = query["redirect_uri"]
        back = {"state": query.get("state", "")}
        if google.deny_consent or google.consent_as is None:
            back["error"] = "access_denied"
        else:
            code = "4/" + secrets.token_urlsafe(24)
            granted = [scope for scope in google.consent_scopes if scope in query.get("scope", "").split()]
            google.codes[code] = (google.consent_as, target, query["code_challenge"], granted)
            back |= {"code": code, "scope": " ".join(granted)}
        raise web.HTTPFound(f"{target}?{urlencode(back)}")

    async def token(request: web.Request) -> web.Response:  # noqa: PLR0911 - one answer per OAuth error
        form = await request.post()
        grant_type = str(form.get("grant_type"))
        google.calls[f"token:{grant_type}"] += 1
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if grant_type == "authorization_code":
            found = google.codes.pop(str(form.get("code")), None)  # a code works once
            if found is None:
                return _oauth_error(400, "invalid_grant", "Malformed auth code.")
            address, redirect, challenge, scopes = found
            verifier = str(form.get("code_verifier", ""))
            if _b64url(hashlib.sha256(verifier.encode()).digest()) != challenge:
                return _oauth_error(400, "invalid_grant", "Invalid code verifier.")
            if form.get("redirect_uri") != redirect:
                return _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
            refresh = "1//" + secrets.token_urlsafe(32)
            google.grants[refresh] = Grant(address, scopes)
            return web.json_response({**issue_access(refresh), "refresh_token": refresh, "scope": " ".join(scopes)})
        if grant_type == "refresh_token":
            grant = google.grants.get(str(form.get("refresh_token")))
            if grant is not None:
                google.account_calls[grant.address]["token:refresh_token"] += 1
            if grant is None or grant.revoked:
                return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
            return web.json_response({**issue_access(str(form["refresh_token"])), "scope": " ".join(grant.scopes)})
        return _oauth_error(400, "unsupported_grant_type", "Invalid grant_type")

    async def revoke(request: web.Request) -> web.Response:
        form = await request.post()
        google.calls["revoke"] += 1
        presented = str(form.get("token") or request.query.get("token", ""))
        refresh = google.access.get(presented, (presented, None))[0]
        grant = google.grants.get(refresh)
        if grant is None or grant.revoked:
            return _oauth_error(400, "invalid_token", "Token expired or revoked")
        grant.revoked = True
        return web.Response(status=200)

    def signed_in(request: web.Request, name: str) -> Mailbox:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        found = google.access.get(presented) if scheme == "Bearer" else None
        if found is not None:
            google.account_calls[google.grants[found[0]].address][name] += 1
        if found is None or found[1] <= dt.datetime.now(dt.UTC) or google.grants[found[0]].revoked:
            raise _Refused(_api_error(401, "Request had invalid authentication credentials.", "authError"))
        grant = google.grants[found[0]]
        if GMAIL_READONLY not in grant.scopes:
            raise _Refused(_api_error(403, "Request had insufficient authentication scopes.", "insufficientScopes"))
        if request.match_info.get("user") != "me":
            raise _Refused(_api_error(403, "Delegation denied", "forbidden"))
        return google.mailbox(grant.address)

    def api(name: str) -> Any:
        def decorate(handler: Any) -> Any:
            async def wrapped(request: web.Request) -> web.Response:
                google.calls[name] += 1
                if google.failures_left > 0:
                    google.failures_left -= 1
                    return _api_error(503, "The service is currently unavailable.", "backendError")
                try:
                    box = signed_in(request, name)
                    response: web.Response = await handler(request, box)
                    return response
                except _Refused as refused:
                    return refused.response

            return wrapped

        return decorate

    @api("profile")
    async def profile(_request: web.Request, box: Mailbox) -> web.Response:
        return web.json_response(
            {
                "emailAddress": box.address,
                "messagesTotal": len(box.messages),
                "threadsTotal": len(box.messages),
                "historyId": str(box.history_id),
            }
        )

    @api("labels.list")
    async def labels(_request: web.Request, box: Mailbox) -> web.Response:
        system = [{"id": name, "name": name, "type": "system"} for name in SYSTEM_LABELS]
        own = [{"id": label_id, "name": name, "type": "user"} for label_id, name in box.user_labels.items()]
        return web.json_response({"labels": system + own})

    @api("messages.list")
    async def list_messages(request: web.Request, box: Mailbox) -> web.Response:
        query = request.query.get("q", "")
        after = 0
        for term in query.split():
            if not term.startswith("after:") or not term[6:].isdigit():
                return _api_error(400, f"this stand-in understands only after:EPOCH, not {term!r}", "invalidArgument")
            after = int(term[6:])
        wanted = set(request.query.getall("labelIds", []))
        found = [
            message
            for message in sorted(box.messages.values(), key=lambda m: m.received, reverse=True)
            if message.received.timestamp() > after
            and wanted <= set(message.labels)
            and not {"SPAM", "TRASH"} & set(message.labels)
        ]
        start = int(request.query.get("pageToken", "0"))
        size = min(int(request.query.get("maxResults", "100")), 500)
        page = found[start : start + size]
        body: dict[str, Any] = {"resultSizeEstimate": len(found)}
        if page:
            body["messages"] = [{"id": message.gmail_id, "threadId": message.gmail_id} for message in page]
        if start + size < len(found):
            body["nextPageToken"] = str(start + size)
        return web.json_response(body)

    @api("messages.get")
    async def get_message(request: web.Request, box: Mailbox) -> web.Response:
        message = box.messages.get(request.match_info["id"])
        if message is None:
            return _api_error(404, "Requested entity was not found.", "notFound")
        body: dict[str, Any] = {
            "id": message.gmail_id,
            "threadId": message.gmail_id,
            "labelIds": message.labels,
            "historyId": str(message.history_id),
            "internalDate": str(int(message.received.timestamp() * 1000)),
            "sizeEstimate": len(message.raw),
        }
        form = request.query.get("format", "full")
        if form == "raw":
            body["raw"] = _b64url(message.raw)
        elif form == "full":
            body["payload"] = _payload(message.raw)
        google.calls[f"messages.get:{form}"] += 1
        return web.json_response(body)

    @api("history.list")
    async def history(request: web.Request, box: Mailbox) -> web.Response:
        start = int(request.query.get("startHistoryId", "0"))
        if start < box.forgotten_before:
            return _api_error(404, "Requested entity was not found.", "notFound")
        added = sorted((m for m in box.messages.values() if m.history_id > start), key=lambda m: m.history_id)
        records = [
            {
                "id": str(message.history_id),
                "messages": [{"id": message.gmail_id, "threadId": message.gmail_id}],
                "messagesAdded": [
                    {"message": {"id": message.gmail_id, "threadId": message.gmail_id, "labelIds": message.labels}}
                ],
            }
            for message in added
        ]
        offset = int(request.query.get("pageToken", "0"))
        size = min(int(request.query.get("maxResults", "100")), 500)
        body: dict[str, Any] = {"historyId": str(box.history_id)}
        if records[offset : offset + size]:
            body["history"] = records[offset : offset + size]
        if offset + size < len(records):
            body["nextPageToken"] = str(offset + size)
        return web.json_response(body)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_get("/o/oauth2/v2/auth", consent)
    app.router.add_post("/token", token)
    app.router.add_post("/revoke", revoke)
    app.router.add_get("/gmail/v1/users/{user}/profile", profile)
    app.router.add_get("/gmail/v1/users/{user}/labels", labels)
    app.router.add_get("/gmail/v1/users/{user}/messages", list_messages)
    app.router.add_get("/gmail/v1/users/{user}/messages/{id}", get_message)
    app.router.add_get("/gmail/v1/users/{user}/history", history)
    return app


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


def _payload(raw: bytes) -> dict[str, Any]:
    """Gmail's `full` format: headers, and each part's body inline when small, as an attachment id when not."""

    def part_of(message: Any) -> dict[str, Any]:
        headers = [{"name": name, "value": str(value)} for name, value in message.items()]
        part: dict[str, Any] = {"mimeType": message.get_content_type(), "headers": headers}
        if message.is_multipart():
            part["parts"] = [part_of(child) for child in message.iter_parts()]
            part["body"] = {"size": 0}
            return part
        data = message.get_payload(decode=True) or b""
        if message.get_filename() or len(data) > 1024 * 1024:
            part["body"] = {"attachmentId": secrets.token_hex(8), "size": len(data)}
        else:
            part["body"] = {"data": _b64url(data), "size": len(data)}
        return part

    return part_of(email.message_from_bytes(raw, policy=email.policy.default))


@asynccontextmanager
async def running(google: Google) -> AsyncIterator[str]:
    """Serve on a free loopback port; yields the base URL (the Gmail API endpoint, and the OAuth endpoints under
    it)."""
    async with served(build_app(google)) as url:
        yield url
