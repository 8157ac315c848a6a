"""The web room and dashboards: one page (`/app`) and its bundled assets (`/app/static`), built from web/frontend
by `make install` (esbuild; no CDN at run time). The page's CSP lets it load only its own assets and talk only to
this API and the LiveKit server rooms are joined on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

STATIC_DIR = Path(__file__).with_name("static")
STATIC_FILES = create_static_files_router(
    path="/app/static", directories=[STATIC_DIR], opt={"exclude_from_auth": True}, include_in_schema=False
)
PUBLIC = {"exclude_from_auth": True}


def app_csp(livekit_url: str) -> str:
    http_url = livekit_url.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        f"media-src 'self' blob: mediastream:; connect-src 'self' {livekit_url} {http_url}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


class PageController(Controller):
    include_in_schema = False

    @get("/", opt=PUBLIC)
    async def root(self) -> Redirect:
        return Redirect("/app")

    @get("/app", opt=PUBLIC)
    async def app_page(self, state: State) -> Response[Any]:
        page = STATIC_DIR / "index.html"
        if not page.exists():
            raise HTTPException(
                status_code=HTTP_503_SERVICE_UNAVAILABLE, detail="the web app is not built: run `make install`"
            )
        livekit_url = state.settings.livekit_public_url or state.endpoints.livekit_url
        return Response(
            page.read_bytes(),
            media_type="text/html; charset=utf-8",
            headers={
                "content-security-policy": app_csp(livekit_url),
                "permissions-policy": "camera=(self), microphone=(self), geolocation=(), payment=()",
            },
        )
