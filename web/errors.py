"""Client errors rendered with a message a person understands."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import ClientException, SerializationException
from litestar.exceptions.responses import create_exception_response


def client_error(request: Request[Any, Any, Any], exc: ClientException) -> Response[Any]:
    # msgspec's own words ("Input data was truncated") do not say that the body was the problem.
    if isinstance(exc.__cause__, SerializationException):
        exc = ClientException(f"The request body is not valid JSON: {exc.detail}")
    return create_exception_response(request, exc)


EXCEPTION_HANDLERS = {ClientException: client_error}
