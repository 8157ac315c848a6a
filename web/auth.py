"""Sign-up, sign-in, token refresh, sign-out, and the middleware that turns an access token into a Principal."""

from __future__ import annotations

from typing import Any

import jwt
from litestar import Controller, Request, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import ClientException, NotAuthorizedException, NotFoundException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT, HTTP_409_CONFLICT
from piccolo.columns import Column

from schema.accounts import Login, RefreshRequest, Signup, TokenResponse
from schema.tables import AppUser
from web import accounts
from web.accounts import Principal, Tokens
from web.limits import SIGN_IN, enforce

PUBLIC = {"exclude_from_auth": True}


class BearerAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("sign in first: send `Authorization: Bearer <access token>`")
        tokens: Tokens = connection.app.state.tokens
        try:
            principal = tokens.verify(token.strip())
        except jwt.ExpiredSignatureError:
            raise NotAuthorizedException("the access token has expired; get a new one at POST /auth/refresh") from None
        except jwt.InvalidTokenError:
            raise NotAuthorizedException("the access token is not valid; sign in again") from None
        return AuthenticationResult(user=principal, auth=None)


AUTHENTICATION = DefineMiddleware(BearerAuthentication, exclude=["^/docs"])


async def signed_in_account(principal: Principal, *columns: Column) -> dict[str, Any]:
    """The caller's account row; its token can outlive a deleted account by up to 15 minutes."""
    row = await AppUser.select(*columns).where(AppUser.id == principal.id).first()
    if row is None:
        raise NotAuthorizedException("this account no longer exists")
    return row


def _tokens(pair: accounts.TokenPair) -> TokenResponse:
    return TokenResponse(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/signup", status_code=HTTP_201_CREATED, opt=PUBLIC, operation_id="signup")
    async def signup(self, data: JSONBody[Signup], state: State) -> TokenResponse:
        """Create a candidate or recruiter account and sign in. Admins are created with `mocki users create`."""
        try:
            user_id = await accounts.create_user(data.email, data.password, data.display_name, data.role)
        except accounts.EmailTaken as exc:
            raise ClientException(str(exc), status_code=HTTP_409_CONFLICT) from None
        return _tokens(await accounts.issue(state.tokens, Principal(id=user_id, role=data.role)))

    @post("/login", status_code=HTTP_200_OK, opt=PUBLIC, operation_id="login")
    async def login(self, data: JSONBody[Login], state: State, request: Request[Any, None, Any]) -> TokenResponse:
        """Sign in with email and password: a short-lived access token and a refresh token."""
        await enforce(request, SIGN_IN, email=accounts.normalise_email(data.email))
        try:
            principal = await accounts.authenticate(data.email, data.password)
        except accounts.BadCredentials as exc:
            raise NotAuthorizedException(str(exc)) from None
        return _tokens(await accounts.issue(state.tokens, principal))

    @post("/refresh", status_code=HTTP_200_OK, opt=PUBLIC, operation_id="refresh")
    async def refresh(self, data: JSONBody[RefreshRequest], state: State) -> TokenResponse:
        """Trade a refresh token (once) for a new pair. Reusing a spent one signs that whole sign-in out."""
        try:
            return _tokens(await accounts.rotate(state.tokens, data.refresh_token))
        except accounts.RefreshRejected as exc:
            raise NotAuthorizedException(str(exc)) from None

    @post("/logout", status_code=HTTP_204_NO_CONTENT, operation_id="logout")
    async def logout(self, data: JSONBody[RefreshRequest], request: Request[Principal, None, Any]) -> None:
        """Sign out: the refresh token and every token rotated from the same sign-in stop working."""
        try:
            await accounts.logout(data.refresh_token, request.user)
        except accounts.RefreshRejected as exc:
            raise NotFoundException(str(exc)) from None
