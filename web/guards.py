"""Who may touch which room: a room's access token is an HMAC of its id, given to whoever created it.

Accounts and roles arrive with issue 3; until then the token is the capability for one room and no other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler


class RoomTokens:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def issue(self, room_id: str) -> str:
        digest = hmac.new(self._secret, f"room:{room_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def valid(self, room_id: str, token: str) -> bool:
        return hmac.compare_digest(self.issue(room_id), token)


def load_or_create_secret(configured: str | None, data_dir: Path) -> bytes:
    """MOCKI_SECRET_KEY when set, else a random key kept (0600) in the data folder for every process to share."""
    if configured:
        return configured.encode()
    path = data_dir / "secret_key"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x") as handle:  # exclusive create: two processes starting at once agree on one key
            path.chmod(0o600)
            handle.write(secrets.token_urlsafe(48))
    except FileExistsError:
        pass
    return path.read_text().strip().encode()


def require_room_token(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    header = connection.headers.get("authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthorizedException("send this room's access token as `Authorization: Bearer <token>`")
    tokens: RoomTokens = connection.app.state.room_tokens
    if not tokens.valid(str(connection.path_params["room_id"]), token.strip()):
        raise PermissionDeniedException("this access token is not valid for this room")
