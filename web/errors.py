"""Errors rendered with a message a person understands: bad input is a 4xx, a backing service down a 503."""

from __future__ import annotations

import logging
from typing import Any

from asyncpg.exceptions import PostgresConnectionError
from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException, SerializationException
from litestar.exceptions.responses import create_exception_response
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_503_SERVICE_UNAVAILABLE
from temporalio.service import RPCError, RPCStatusCode

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


class ConflictException(ClientException):
    status_code = HTTP_409_CONFLICT


def room_gone(exc: RPCError) -> Exception:
    """Temporal no longer has the room's workflow open: for the client, the interview has ended."""
    if exc.status == RPCStatusCode.NOT_FOUND:
        return ConflictException("this interview has ended")
    return exc


def client_error(request: Request[Any, Any, Any], exc: ClientException) -> Response[Any]:
    # msgspec's own words ("Input data was truncated") do not say that the body was the problem.
    if isinstance(exc.__cause__, SerializationException):
        exc = ClientException(f"The request body is not valid JSON: {exc.detail}")
    return create_exception_response(request, exc)


def _unavailable(service: str) -> Response[Any]:
    return Response(
        {
            "status_code": HTTP_503_SERVICE_UNAVAILABLE,
            "detail": f"{service} is unavailable right now; try again shortly",
        },
        status_code=HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _route(request: Request[Any, Any, Any]) -> str:
    """The route template: logs name which endpoint failed, not the ids in its path."""
    return str(request.scope.get("path_template") or "(no route)")


def temporal_error(request: Request[Any, Any, Any], exc: RPCError) -> Response[Any]:
    if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        logger.warning("Temporal unavailable during %s %s: %s", request.method, _route(request), exc.message)
        return _unavailable("The interview service (Temporal)")
    logger.exception("Temporal call failed during %s %s", request.method, _route(request), exc_info=exc)
    return create_exception_response(request, exc)


def runtime_error(request: Request[Any, Any, Any], exc: RuntimeError) -> Response[Any]:
    # The Temporal client connects lazily; when it cannot, the SDK raises a bare RuntimeError saying so.
    if str(exc).startswith("Failed client connect"):
        logger.warning("Temporal unreachable during %s %s: %s", request.method, _route(request), exc)
        return _unavailable("The interview service (Temporal)")
    logger.exception("unexpected error during %s %s", request.method, _route(request), exc_info=exc)
    return create_exception_response(request, exc)


def database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.warning("database unavailable during %s %s: %s", request.method, _route(request), exc)
    return _unavailable("The database")


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return create_exception_response(request, exc)


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # Only what we did not foresee is logged with its traceback; the client gets a plain 500.
    logger.exception("unexpected error during %s %s", request.method, _route(request), exc_info=exc)
    return create_exception_response(request, exc)


def undecodable_form(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    # Litestar decodes every multipart part sent without a filename as UTF-8 text, before any handler runs.
    if request.content_type[0] == "multipart/form-data":
        return create_exception_response(
            request,
            ClientException(
                "A form field is not UTF-8 text: send a file as a file part (with a filename), and text fields as "
                "UTF-8."
            ),
        )
    return unexpected_error(request, exc)


EXCEPTION_HANDLERS = {
    Exception: unexpected_error,
    HTTPException: http_error,
    ClientException: client_error,
    RPCError: temporal_error,
    RuntimeError: runtime_error,
    UnicodeDecodeError: undecodable_form,
    PostgresConnectionError: database_error,
    ConnectionRefusedError: database_error,  # asyncpg raises the OS error when it cannot reach Postgres
}
