"""A local stand-in for an OpenTelemetry collector's OTLP/HTTP receiver (`POST /v1/traces`, protobuf), recording
every span the real exporters send, with the service that sent it."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.standins import served


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, str]


@dataclass
class Collector:
    spans: list[ReceivedSpan] = field(default_factory=list)

    def trace_of(self, name: str) -> list[ReceivedSpan]:
        """Every span of the (first) trace holding a span called `name`."""
        trace_id = next(span.trace_id for span in self.spans if span.name == name)
        return [span for span in self.spans if span.trace_id == trace_id]


def build_app(collector: Collector) -> web.Application:
    async def traces(request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    collector.spans.append(
                        ReceivedSpan(
                            service=attributes.get("service.name", ""),
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            attributes={a.key: str(a.value).strip() for a in span.attributes},
                        )
                    )
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(), content_type="application/x-protobuf"
        )

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    return app


@asynccontextmanager
async def running(collector: Collector) -> AsyncIterator[str]:
    """Serve on a free loopback port; yields the URL to give as OTEL_EXPORTER_OTLP_ENDPOINT."""
    async with served(build_app(collector)) as url:
        yield url
