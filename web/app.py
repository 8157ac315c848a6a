"""The Litestar application: `create_app()` wires settings, the database, Redis and Temporal once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from activities.embeddings import build_embedder
from activities.llm import llm_breaker
from activities.retrieval import BankIndex, CachedEmbedder
from activities.vault import Vault, master_keys_of
from schema.common import Body
from stack import database
from stack.cache import TwoLevelCache
from stack.services import Endpoints
from stack.settings import Settings
from stack.temporal import connect
from web.access_log import access_log
from web.accounts import Tokens, load_or_create_secret
from web.applications import ApplicationController
from web.auth import AUTHENTICATION, AuthController
from web.documents import DocumentController
from web.errors import EXCEPTION_HANDLERS
from web.gmail import GmailController
from web.headers import add_security_headers
from web.health import HealthController
from web.idempotency import IdempotencyMiddleware
from web.imap import ImapController
from web.limits import RateLimiter
from web.metrics import MetricsController
from web.pages import STATIC_FILES, PageController
from web.postings import PostingController, RecommendationController
from web.prep import PrepController
from web.profile import UserController
from web.questions import QuestionController
from web.replay import ReplayDetector
from web.rooms import RoomController
from web.todos import TodoController
from web.tracing import TRACING, route_span_names
from web.weaknesses import WeaknessController


def create_app(settings: Settings, endpoints: Endpoints) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = database.bind(endpoints.database_url)
        await db.start_connection_pool()
        app.state.temporal = await connect(endpoints.temporal_address, settings.temporal_namespace, lazy=True)
        # Short timeouts and no client-side retries: a dead Redis must fail a request fast, not stall it.
        app.state.redis = Redis.from_url(
            endpoints.redis_url, socket_connect_timeout=1, socket_timeout=1, retry=Retry(NoBackoff(), 0)
        )
        app.state.limiter = RateLimiter(app.state.redis, per_ip_per_minute=settings.ai_requests_per_ip_per_minute)
        app.state.replays = ReplayDetector(app.state.redis)
        app.state.breaker = llm_breaker(settings, app.state.redis)
        # Searches embed their text here (the local model loads on the first search) and cache it in Redis.
        app.state.embedder = CachedEmbedder(build_embedder(settings), app.state.redis, settings.embedding_cache_seconds)
        app.state.bank_index = BankIndex(app.state.embedder)
        app.state.http = httpx.AsyncClient(timeout=5)
        # Profiles, recent interviews and rooms' live state: this process's LRU, then Redis (stack/cache.py).
        app.state.cache = TwoLevelCache(app.state.redis, enabled=settings.cache_enabled)
        invalidations = asyncio.create_task(app.state.cache.listen()) if settings.cache_enabled else None
        try:
            yield
        finally:
            if invalidations is not None:
                invalidations.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await invalidations
            await app.state.http.aclose()
            await app.state.redis.aclose()
            await db.close_connection_pool()

    app = Litestar(
        route_handlers=[
            PageController,
            STATIC_FILES,
            AuthController,
            UserController,
            WeaknessController,
            RoomController,
            DocumentController,
            ApplicationController,
            GmailController,
            ImapController,
            PrepController,
            TodoController,
            PostingController,
            RecommendationController,
            QuestionController,
            HealthController,
            MetricsController,
        ],
        # Outermost first: the request's span, then who calls (idempotency keys belong to the authenticated caller).
        middleware=[TRACING.middleware, route_span_names, access_log, AUTHENTICATION, IdempotencyMiddleware()],
        before_send=[add_security_headers],
        cors_config=CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["Retry-After", "Idempotent-Replayed"],
        )
        if settings.cors_origins
        else None,
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        state=State(
            {
                "settings": settings,
                "endpoints": endpoints,
                "tokens": Tokens(load_or_create_secret(settings.secret_key, settings.data_dir)),
                "vault": Vault(lambda: master_keys_of(settings)),
            }
        ),
        openapi_config=OpenAPIConfig(
            title="mocki",
            version="0.1.0",
            description="AI mock interviews: rooms, the AI interviewer's conversation, reports.",
            path="/docs",
        ),
        # The process's logging is stack/logs.py's; errors are logged by our handlers (web/errors.py), and 4xx are
        # the client's business, not the log's.
        logging_config=None,
        request_max_body_size=64 * 1024,  # every JSON body we take is small; uploads get their own limits
    )
    _document_closed_bodies(app)
    return app


def _document_closed_bodies(app: Litestar) -> None:
    """Say in the OpenAPI schema what the API enforces: request bodies take no fields beyond their own."""
    schemas = app.openapi_schema.components.schemas or {}
    pending = list(Body.__subclasses__())
    while pending:
        body = pending.pop()
        pending += body.__subclasses__()
        if body.__name__ in schemas:
            schemas[body.__name__].additional_properties = False
