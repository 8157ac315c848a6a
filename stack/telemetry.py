"""OpenTelemetry for mocki's processes: metrics and traces go to an OTLP/HTTP collector when
`OTEL_EXPORTER_OTLP_ENDPOINT` is set; without one, instruments and spans still work and record nothing anywhere.

Traces follow a request across processes: the API's span for each request (named by its route template, never by
the ids or text in it), then Temporal's spans for starting the workflow, running it and each activity, in whichever
worker ran them (stack/temporal.py gives every client the SDK's tracing interceptor, which carries the trace in
Temporal's headers).
"""

from __future__ import annotations

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from stack.settings import Settings

EXPORT_INTERVAL_MILLIS = 10_000


def start_metrics(settings: Settings, service: str) -> MeterProvider | None:
    """Install this process's meter provider; shut it down on exit so the last figures are flushed."""
    if settings.otlp_endpoint is None:
        return None
    exporter = OTLPMetricExporter(endpoint=f"{settings.otlp_endpoint}/v1/metrics")
    provider = MeterProvider(
        resource=Resource.create({"service.name": service}),
        metric_readers=[PeriodicExportingMetricReader(exporter, export_interval_millis=EXPORT_INTERVAL_MILLIS)],
    )
    metrics.set_meter_provider(provider)
    return provider


def start_tracing(settings: Settings, service: str) -> TracerProvider | None:
    """Install this process's tracer provider; shut it down on exit so the last spans are sent."""
    if settings.otlp_endpoint is None:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{settings.otlp_endpoint}/v1/traces")))
    trace.set_tracer_provider(provider)
    return provider
