"""Accounts: argon2id passwords, short-lived JWT access tokens, rotating refresh tokens with reuse detection."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from asyncpg.exceptions import UniqueViolationError

from schema.accounts import Role
from schema.tables import AppUser, RefreshToken

ACCESS_TOKEN_TTL = dt.timedelta(minutes=15)
REFRESH_TOKEN_TTL = dt.timedelta(days=30)
ISSUER = "mocki"
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile defaults
# Verified when the email is unknown, so that a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(Exception):
    """A request about an account that cannot be honoured; the message is for the person."""


class EmailTaken(AccountError):
    pass


class BadCredentials(AccountError):
    pass


class RefreshRejected(AccountError):
    pass


@dataclass(frozen=True)
class Principal:
    """Who is calling: taken from a verified access token."""

    id: uuid.UUID
    role: Role


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives


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


class Tokens:
    """Signs and checks access tokens (HS256) with the deployment's secret key."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def access_token(self, user_id: uuid.UUID, role: Role, now: dt.datetime | None = None) -> str:
        now = now or dt.datetime.now(dt.UTC)
        claims = {
            "sub": str(user_id),
            "role": role,
            "iss": ISSUER,
            "typ": "access",
            "iat": now,
            "exp": now + ACCESS_TOKEN_TTL,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        """Raises jwt.ExpiredSignatureError or jwt.InvalidTokenError."""
        claims = jwt.decode(
            token,
            self._secret,
            algorithms=["HS256"],  # never "none", never an algorithm the token chooses
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
        if claims.get("typ") != "access" or claims.get("role") not in ("candidate", "recruiter", "admin"):
            raise jwt.InvalidTokenError("not an access token")
        try:
            return Principal(id=uuid.UUID(claims["sub"]), role=claims["role"])
        except ValueError as exc:
            raise jwt.InvalidTokenError("bad subject") from exc


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def hash_password(password: str) -> str:
    # argon2id takes tens of milliseconds of CPU on purpose: keep it off the event loop.
    return await asyncio.to_thread(_hasher.hash, password)


async def create_user(email: str, password: str, display_name: str, role: Role) -> uuid.UUID:
    user_id = uuid.uuid4()
    try:
        await AppUser.insert(
            AppUser(
                id=user_id,
                email=normalise_email(email),
                display_name=display_name,
                password_hash=await hash_password(password),
                role=role,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    except UniqueViolationError:
        raise EmailTaken("an account with this email already exists; sign in instead") from None
    return user_id


async def authenticate(email: str, password: str) -> Principal:
    row = (
        await AppUser.select(AppUser.id, AppUser.role, AppUser.password_hash)
        .where(AppUser.email == normalise_email(email))
        .first()
    )
    stored = row["password_hash"] if row else _DUMMY_HASH
    try:
        await asyncio.to_thread(_hasher.verify, stored, password)
    except VerificationError:
        row = None
    if row is None:
        raise BadCredentials("the email or the password is wrong")
    return Principal(id=row["id"], role=row["role"])


def _digest(token: str) -> str:
    # Refresh tokens are 256 random bits: a plain SHA-256 is enough to keep the database from holding them.
    return hashlib.sha256(token.encode()).hexdigest()


async def _new_refresh_token(account: uuid.UUID, family: uuid.UUID, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(32)
    await RefreshToken.insert(
        RefreshToken(
            id=uuid.uuid4(),
            account=account,
            family=family,
            token_hash=_digest(token),
            expires_at=now + REFRESH_TOKEN_TTL,
            created_at=now,
        )
    )
    return token


async def issue(tokens: Tokens, principal: Principal) -> TokenPair:
    """A fresh login: a new refresh-token family."""
    now = dt.datetime.now(dt.UTC)
    refresh = await _new_refresh_token(principal.id, uuid.uuid4(), now)
    return TokenPair(tokens.access_token(principal.id, principal.role, now), refresh, _ttl_seconds())


async def rotate(tokens: Tokens, refresh_token: str) -> TokenPair:
    """Use a refresh token once: it is spent and the next one of its family is returned."""
    now = dt.datetime.now(dt.UTC)
    digest = _digest(refresh_token)
    # Spending is one conditional UPDATE, so two concurrent refreshes with the same token cannot both win.
    spent = (
        await RefreshToken.update({RefreshToken.used_at: now})
        .where(
            (RefreshToken.token_hash == digest)
            & RefreshToken.used_at.is_null()
            & RefreshToken.revoked_at.is_null()
            & (RefreshToken.expires_at > now)
        )
        .returning(RefreshToken.account, RefreshToken.family)
    )
    if not spent:
        await _reject(digest, now)
    account, family = spent[0]["account"], spent[0]["family"]
    user = await AppUser.select(AppUser.role).where(AppUser.id == account).first()
    if user is None:
        raise RefreshRejected("this account no longer exists")
    refresh = await _new_refresh_token(account, family, now)
    return TokenPair(tokens.access_token(account, user["role"], now), refresh, _ttl_seconds())


async def _reject(digest: str, now: dt.datetime) -> None:
    row = (
        await RefreshToken.select(RefreshToken.family, RefreshToken.used_at, RefreshToken.revoked_at)
        .where(RefreshToken.token_hash == digest)
        .first()
    )
    if row is None:
        raise RefreshRejected("unknown refresh token; sign in again")
    if row["used_at"] is not None and row["revoked_at"] is None:
        await revoke_family(row["family"], now)
        raise RefreshRejected(
            "this refresh token was already used, so it may have been stolen: every session of this sign-in "
            "has been signed out; sign in again"
        )
    raise RefreshRejected("this refresh token has expired or was revoked; sign in again")


async def revoke_family(family: uuid.UUID, now: dt.datetime | None = None) -> None:
    await RefreshToken.update({RefreshToken.revoked_at: now or dt.datetime.now(dt.UTC)}).where(
        (RefreshToken.family == family) & RefreshToken.revoked_at.is_null()
    )


async def logout(refresh_token: str, principal: Principal) -> None:
    """Revoke the sign-in this refresh token belongs to (only the caller's own)."""
    row = (
        await RefreshToken.select(RefreshToken.family)
        .where((RefreshToken.token_hash == _digest(refresh_token)) & (RefreshToken.account == principal.id))
        .first()
    )
    if row is None:
        raise RefreshRejected("unknown refresh token")
    await revoke_family(row["family"])


def _ttl_seconds() -> int:
    return int(ACCESS_TOKEN_TTL.total_seconds())
