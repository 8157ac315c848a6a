"""OpenTelemetry for mocki's processes: metrics are scraped by Prometheus (each process's registry) and, like traces,
go to an OTLP/HTTP collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; without one, spans are still made (their
ids are in every log line, stack/logs.py, so one request's lines can be found across processes) but not sent.

Traces follow a request across processes: the API's span for each request (named by its route template, never by
the ids or text in it), then Temporal's spans for starting the workflow, running it and each activity, in whichever
worker ran them (stack/temporal.py gives every client the SDK's tracing interceptor, which carries the trace in
Temporal's headers).
"""

from __future__ import annotations

from dataclasses import dataclass

import prometheus_client
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from stack.settings import Settings

EXPORT_INTERVAL_MILLIS = 10_000


@dataclass(frozen=True)
class Telemetry:
    """This process's meter and tracer providers; `shutdown` on exit flushes the last figures and spans."""

    meters: MeterProvider
    tracing: TracerProvider

    def shutdown(self) -> None:
        self.meters.shutdown()
        self.tracing.shutdown()


def start_telemetry(settings: Settings, service: str) -> Telemetry:
    return Telemetry(meters=_start_metrics(settings, service), tracing=_start_tracing(settings, service))


def serve_metrics(address: tuple[str, int] | None) -> None:
    """Serve this process's Prometheus registry on (host, port) at /metrics; the API serves its own route."""
    if address is not None:
        host, port = address
        prometheus_client.start_http_server(port, addr=host)


def _start_metrics(settings: Settings, service: str) -> MeterProvider:
    """Install this process's meter provider: its figures are in the Prometheus client's registry (the API's
    `GET /metrics`, a worker's `--metrics-port`) and, with an OTLP endpoint, exported there too."""
    readers: list[MetricReader] = [PrometheusMetricReader()]
    if settings.otlp_endpoint is not None:
        exporter = OTLPMetricExporter(endpoint=f"{settings.otlp_endpoint}/v1/metrics")
        readers.append(PeriodicExportingMetricReader(exporter, export_interval_millis=EXPORT_INTERVAL_MILLIS))
    provider = MeterProvider(resource=Resource.create({"service.name": service}), metric_readers=readers)
    metrics.set_meter_provider(provider)
    return provider


def _start_tracing(settings: Settings, service: str) -> TracerProvider:
    """Install this process's tracer provider; its spans are exported when there is somewhere to send them."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if settings.otlp_endpoint is not None:
        exporter = OTLPSpanExporter(endpoint=f"{settings.otlp_endpoint}/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider
