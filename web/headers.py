"""Security headers on every response, errors and unknown paths included (an app-level before_send hook)."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), geolocation=(), payment=()",
    "cache-control": "no-store",
}
# The JSON API loads nothing; the docs page loads its viewer script, so it is left without a CSP.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_PREFIX = "/docs"


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)  # a page's own (web/pages.py) stands
    if not scope["path"].startswith(DOCS_PREFIX):
        headers.setdefault("content-security-policy", API_CSP)
