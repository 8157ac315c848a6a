"""Each API request's span, named by its route template ("POST /rooms/{room_id}/ai/message"): the ids and
text in a path or query are the caller's business, not the trace store's. Without an OTLP endpoint the span is
not sent, but its ids are in the request's log lines (web/access_log.py)."""

from __future__ import annotations

from litestar.plugins.opentelemetry import OpenTelemetryConfig
from litestar.types import ASGIApp, Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE

# The ASGI instrumentation names the span before routing and records the raw path and URL; once routed, the span
# is renamed and those attributes are overwritten with the route.
TRACING = OpenTelemetryConfig(exclude_spans=["receive", "send"])


def route_span_names(app: ASGIApp) -> ASGIApp:
    async def named(scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()
        if span.is_recording():
            route = f"{scope.get('method', '')} {scope.get('path_template', '')}".strip()
            span.update_name(route)
            span.set_attributes({HTTP_ROUTE: route, "http.target": route, "http.url": route})
        await app(scope, receive, send)

    return named
