"""Every long-running mocki process (API, workers, voice agent) logs one JSON object per line to stderr, carrying
the trace and span ids of the request or job it was written for, so ops can go from a log line to its trace (and
from an activity's line to its workflow in the Temporal Web UI). `MOCKI_LOG_FORMAT=text` gives plain lines.

Log messages name routes, providers, queues and ids, never people: no emails, names, answers or mail text.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import msgspec
from opentelemetry import trace
from temporalio import activity

from stack.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        if activity.in_activity():
            job = activity.info()
            entry["workflow_id"] = job.workflow_id
            entry["activity"] = job.activity_type
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry).decode()


def configure_logging(settings: Settings, service: str) -> None:
    """Send this process's log records (ours and its libraries') to stderr in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines(service) if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level)
