"""OpenTelemetry for mocki's processes: metrics go to an OTLP/HTTP collector when `OTEL_EXPORTER_OTLP_ENDPOINT`
is set; without one, instruments still work and record nothing anywhere."""

from __future__ import annotations

from opentelemetry import metrics
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

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
