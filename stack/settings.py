"""Every setting mocki reads, from the environment, validated once.

`load_settings()` returns one frozen struct or raises `SettingsError` whose message names the variable and
what is wrong with it, so the CLI can print one readable line and exit. `.env.example` lists the same fields.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from schema.queues import QUEUE_KINDS, queue_name

Provider = Literal["auto", "openai", "offline"]


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is meant for a person."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # Where embedded services keep their data (Postgres cluster, Redis AOF, Temporal SQLite, logs).
    data_dir: Path
    # External services; None means "start the embedded one" (stack/services.py).
    database_url: str | None = None
    redis_url: str | None = None
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    livekit_url: str | None = None
    # The LiveKit address browsers use, when it differs from the one the API reaches (containers, proxies).
    livekit_public_url: str | None = None
    livekit_api_key: str = "devkey"
    # A well-known key pair for the loopback-only embedded LiveKit; set your own for any shared server.
    livekit_api_secret: str = "mocki-local-livekit-secret-not-for-production"  # noqa: S105
    # Embedded services on their well-known ports ("fixed") or on any free ones ("free": tests, a second stack).
    stack_ports: Literal["fixed", "free"] = "fixed"
    # The API server.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str | None = None
    # AI requests a minute from one network address; raise it when many users share one (NAT, a proxy).
    ai_requests_per_ip_per_minute: int = 50
    # Browser origins allowed to call the API (CORS); none by default: same origin only.
    cors_origins: tuple[str, ...] = ()
    # Signs room access tokens; generated and kept under data_dir when unset.
    secret_key: str | None = None
    # Model providers: "auto" uses OpenAI when a key is set, the offline providers otherwise.
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    llm_provider: Provider = "auto"
    llm_model: str = "gpt-4o-mini"
    stt_provider: Provider = "auto"
    stt_model: str = "gpt-4o-mini-transcribe"
    tts_provider: Provider = "auto"
    tts_model: str = "gpt-4o-mini-tts"
    tts_voice: str = "alloy"
    embedding_provider: Provider = "auto"
    # One model call's time limit; then Temporal retries it after 5 s, 10 s and 20 s (doubling from this base).
    llm_timeout_seconds: float = 30.0
    model_retry_seconds: float = 5.0
    # The LLM circuit breaker: this many provider failures in a row open it for the cooldown (API answers 503).
    llm_breaker_failures: int = 5
    llm_breaker_cooldown_seconds: float = 30.0
    embedding_model: str = "text-embedding-3-small"
    # Retrieval over a person's chunks weighs the similarity to each chunk's question by this and to the chunk's
    # text by the rest (1 - weight); tuned on the eval set (`python -m bench retrieval`).
    retrieval_query_weight: float = 0.3
    # Embeddings of searched or asked texts stay in Redis this long, so a repeat costs no embedding call.
    embedding_cache_seconds: int = 7 * 24 * 3600
    # Mail and Gmail.
    resend_api_key: str | None = None
    resend_api_url: str = "https://api.resend.com"
    mail_from: str = "mocki <reminders@mocki.local>"
    # Without a Resend key, the emails mocki would send are written here as .eml files (default data_dir/outbox).
    outbox_dir: Path | None = None
    # Each user's email sync runs by itself this often (minutes) unless they set otherwise.
    mail_sync_every_minutes: int = 15
    # Reminders before a todo's deadline or interview, largest first (REMINDER_LEADS="24h,1h").
    reminder_leads_seconds: tuple[int, ...] = (24 * 3600, 3600)
    # Job recommendations leave out companies that turned the user down within this many days.
    recommendations_skip_rejected_days: int = 180
    # Gmail (OAuth 2.0 web client). The redirect URI defaults to this API's /gmail/callback; the Google endpoints
    # are overridable so a local stand-in can play Google.
    google_client_id: str | None = None
    google_client_secret: str | None = None
    google_redirect_uri: str | None = None
    google_auth_uri: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_uri: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - an address, not a secret
    google_revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    gmail_api_endpoint: str | None = None
    # IMAP accounts may be on private addresses and any port (self-hosted mail, tests); off, the API connects only
    # to ports 993/143 of public addresses, so it cannot be made to probe the network it runs in.
    imap_private_hosts: bool = False
    # AES-256 master key (base64 of 32 bytes) that wraps per-document and per-token data keys; generated and kept
    # under data_dir when unset (the embedded stack). Earlier keys, comma-separated, still open what they wrapped
    # until `mocki keys rotate` has re-wrapped it under the current one.
    encryption_master_key: bytes | None = None
    encryption_previous_master_keys: tuple[bytes, ...] = ()
    # Temporal task queues (schema/queues.py): `{prefix}interview`, `{prefix}io`, `{prefix}cpu`.
    task_queue_prefix: str = ""
    # How many activities one worker process runs at once on each queue.
    interview_concurrency: int = 100
    io_concurrency: int = 20
    cpu_concurrency: int = os.cpu_count() or 2
    # An interview's workflow continues as new once its history holds this many events (Temporal suggests it
    # sooner for very large histories).
    history_event_limit: int = 2000
    # Voice: during coding the agent checks in after this long without speech or edits.
    voice_coding_idle_seconds: float = 90.0
    # Voice: rooms one `mocki agent` process interviews at once; LiveKit sends further rooms to other agents.
    agent_max_rooms: int = 4
    # Voice: a reply whose first audio would come later than this after the candidate stops is preceded by a
    # short acknowledgement; 0 turns acknowledgements off.
    voice_filler_after_seconds: float = 1.0
    # OpenTelemetry: metrics and traces are exported over OTLP/HTTP to this collector base URL when it is set.
    otlp_endpoint: str | None = None
    # Prometheus may scrape the API's GET /metrics from elsewhere than this machine with this bearer token; unset,
    # only loopback callers may.
    metrics_token: str | None = None
    # Logs of the API, workers and voice agent: one JSON object per line with trace ids ("json"), or plain "text".
    log_format: Literal["json", "text"] = "json"
    # The API's two-level cache of hot reads (profiles, recent interviews, rooms' live state); off: every read
    # goes to Postgres or Temporal (for comparison, e.g. `python -m bench cache`).
    cache_enabled: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @property
    def interview_task_queue(self) -> str:
        return queue_name(self.task_queue_prefix, "interview")

    @property
    def io_task_queue(self) -> str:
        return queue_name(self.task_queue_prefix, "io")

    @property
    def cpu_task_queue(self) -> str:
        return queue_name(self.task_queue_prefix, "cpu")

    def resolved_provider(self, provider: Provider) -> Literal["openai", "offline"]:
        if provider == "auto":
            return "openai" if self.openai_api_key else "offline"
        return provider


def _default_data_dir() -> Path:
    # One ignored folder in the working directory (the clone): `make clean` removes it.
    return Path.cwd() / ".mocki"


def _url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError on a non-numeric port
    except ValueError as exc:
        raise SettingsError(f"{name}={value!r} is not a valid URL: {exc}") from None
    if parts.scheme not in schemes or not parts.hostname:
        wanted = " or ".join(f"{s}://host[:port]/..." for s in schemes)
        raise SettingsError(f"{name}={value!r} is not a valid URL; expected {wanted}")
    if port == 0:
        raise SettingsError(f"{name}={value!r} has port 0")
    return value


def _host_port(name: str, value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"{name}={value!r} must be host:port, e.g. 127.0.0.1:7233")
    return value


def _port(name: str, value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise SettingsError(f"{name}={value!r} must be a port number between 1 and 65535")
    return int(value)


def _seconds(name: str, value: str, minimum: float) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r} must be a number of seconds") from None
    if not minimum <= seconds <= 3600:
        raise SettingsError(f"{name}={value!r} must be between {minimum} and 3600 seconds")
    return seconds


def _leads(name: str, value: str) -> tuple[int, ...]:
    """ "24h,1h,30m" -> (86400, 3600, 1800): distinct, largest first."""
    leads = set()
    for part in (part.strip().lower() for part in value.split(",")):
        amount, unit = part[:-1], part[-1:]
        if not amount.isdigit() or unit not in ("d", "h", "m") or int(amount) < 1:
            raise SettingsError(f"{name}={value!r} must list durations like 24h,1h (units: d, h, m)")
        leads.add(int(amount) * {"d": 86400, "h": 3600, "m": 60}[unit])
    return tuple(sorted(leads, reverse=True))


def _provider(name: str, value: str) -> Provider:
    if value not in ("auto", "openai", "offline"):
        raise SettingsError(f"{name}={value!r} must be one of: auto, openai, offline")
    return value  # type: ignore[return-value]


def _master_key(name: str, value: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError(f"{name} must be base64 (e.g. `openssl rand -base64 32`)") from None
    if len(key) != 32:
        raise SettingsError(f"{name} must decode to 32 bytes for AES-256, got {len(key)}")
    return key


def load_settings(env: Mapping[str, str] | None = None) -> Settings:  # noqa: PLR0912, PLR0915 - a branch per setting
    """Read and validate every setting; raises SettingsError with a one-line reason."""
    env = os.environ if env is None else env

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    fields: dict[str, object] = {"data_dir": Path(get("MOCKI_DATA_DIR") or _default_data_dir())}
    if value := get("DATABASE_URL"):
        fields["database_url"] = _url("DATABASE_URL", value, ("postgres", "postgresql"))
    if value := get("REDIS_URL"):
        fields["redis_url"] = _url("REDIS_URL", value, ("redis", "rediss"))
    if value := get("TEMPORAL_ADDRESS"):
        fields["temporal_address"] = _host_port("TEMPORAL_ADDRESS", value)
    if value := get("LIVEKIT_URL"):
        fields["livekit_url"] = _url("LIVEKIT_URL", value, ("ws", "wss", "http", "https"))
    if value := get("LIVEKIT_PUBLIC_URL"):
        fields["livekit_public_url"] = _url("LIVEKIT_PUBLIC_URL", value, ("ws", "wss", "http", "https"))
    if value := get("OPENAI_BASE_URL"):
        fields["openai_base_url"] = _url("OPENAI_BASE_URL", value, ("http", "https"))
    if value := get("RESEND_API_URL"):
        fields["resend_api_url"] = _url("RESEND_API_URL", value, ("http", "https"))
    if value := get("GMAIL_API_ENDPOINT"):
        fields["gmail_api_endpoint"] = _url("GMAIL_API_ENDPOINT", value, ("http", "https"))
    for name in ("GOOGLE_REDIRECT_URI", "GOOGLE_AUTH_URI", "GOOGLE_TOKEN_URI", "GOOGLE_REVOKE_URI"):
        if value := get(name):
            fields[name.lower()] = _url(name, value, ("http", "https"))
    if value := get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        fields["otlp_endpoint"] = _url("OTEL_EXPORTER_OTLP_ENDPOINT", value, ("http", "https")).rstrip("/")
    if value := get("MOCKI_PUBLIC_URL"):
        fields["public_url"] = _url("MOCKI_PUBLIC_URL", value, ("http", "https")).rstrip("/")
    if value := get("MOCKI_PORTS"):
        if value not in ("fixed", "free"):
            raise SettingsError(f"MOCKI_PORTS={value!r} must be fixed or free")
        fields["stack_ports"] = value
    if value := get("MOCKI_AI_REQUESTS_PER_IP_PER_MINUTE"):
        if not value.isdigit() or int(value) < 1:
            raise SettingsError(f"MOCKI_AI_REQUESTS_PER_IP_PER_MINUTE={value!r} must be a whole number of at least 1")
        fields["ai_requests_per_ip_per_minute"] = int(value)
    for name, field, minimum in (
        ("LLM_TIMEOUT_SECONDS", "llm_timeout_seconds", 0.1),
        ("MOCKI_MODEL_RETRY_SECONDS", "model_retry_seconds", 0.1),
        ("LLM_BREAKER_COOLDOWN_SECONDS", "llm_breaker_cooldown_seconds", 1.0),
        ("MOCKI_VOICE_CODING_IDLE_SECONDS", "voice_coding_idle_seconds", 5.0),
        ("MOCKI_VOICE_FILLER_AFTER_SECONDS", "voice_filler_after_seconds", 0.0),
    ):
        if value := get(name):
            fields[field] = _seconds(name, value, minimum)
    if value := get("MOCKI_CACHE"):
        if value not in ("on", "off"):
            raise SettingsError(f"MOCKI_CACHE={value!r} must be on or off")
        fields["cache_enabled"] = value == "on"
    if value := get("MOCKI_LOG_FORMAT"):
        if value not in ("json", "text"):
            raise SettingsError(f"MOCKI_LOG_FORMAT={value!r} must be json or text")
        fields["log_format"] = value
    if value := get("MOCKI_LOG_LEVEL"):
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError(f"MOCKI_LOG_LEVEL={value!r} must be DEBUG, INFO, WARNING or ERROR")
        fields["log_level"] = value.upper()
    if value := get("MOCKI_IMAP_PRIVATE_HOSTS"):
        if value.lower() not in ("true", "false"):
            raise SettingsError(f"MOCKI_IMAP_PRIVATE_HOSTS={value!r} must be true or false")
        fields["imap_private_hosts"] = value.lower() == "true"
    if value := get("MAIL_OUTBOX_DIR"):
        fields["outbox_dir"] = Path(value)
    if value := get("MAIL_SYNC_EVERY_MINUTES"):
        if not value.isdigit() or not 5 <= int(value) <= 1440:
            raise SettingsError(f"MAIL_SYNC_EVERY_MINUTES={value!r} must be a whole number of minutes from 5 to 1440")
        fields["mail_sync_every_minutes"] = int(value)
    for kind in QUEUE_KINDS:
        name = f"MOCKI_{kind.upper()}_CONCURRENCY"
        if value := get(name):
            if not value.isdigit() or not 1 <= int(value) <= 1000:
                raise SettingsError(f"{name}={value!r} must be a whole number from 1 to 1000")
            fields[f"{kind}_concurrency"] = int(value)
    if value := get("RECOMMENDATIONS_SKIP_REJECTED_DAYS"):
        if not value.isdigit() or not 0 <= int(value) <= 3650:
            raise SettingsError(
                f"RECOMMENDATIONS_SKIP_REJECTED_DAYS={value!r} must be a whole number of days from 0 to 3650"
            )
        fields["recommendations_skip_rejected_days"] = int(value)
    if value := get("REMINDER_LEADS"):
        fields["reminder_leads_seconds"] = _leads("REMINDER_LEADS", value)
    if value := get("MOCKI_HISTORY_EVENT_LIMIT"):
        if not value.isdigit() or not 50 <= int(value) <= 50_000:
            raise SettingsError(f"MOCKI_HISTORY_EVENT_LIMIT={value!r} must be a whole number from 50 to 50000")
        fields["history_event_limit"] = int(value)
    if value := get("MOCKI_AGENT_MAX_ROOMS"):
        if not value.isdigit() or not 1 <= int(value) <= 100:
            raise SettingsError(f"MOCKI_AGENT_MAX_ROOMS={value!r} must be a whole number from 1 to 100")
        fields["agent_max_rooms"] = int(value)
    if value := get("RETRIEVAL_QUERY_WEIGHT"):
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not 0.0 <= weight <= 1.0:
            raise SettingsError(f"RETRIEVAL_QUERY_WEIGHT={value!r} must be a number from 0 to 1")
        fields["retrieval_query_weight"] = weight
    if value := get("EMBEDDING_CACHE_SECONDS"):
        if not value.isdigit() or int(value) < 1:
            raise SettingsError(f"EMBEDDING_CACHE_SECONDS={value!r} must be a whole number of seconds, at least 1")
        fields["embedding_cache_seconds"] = int(value)
    if value := get("LLM_BREAKER_FAILURES"):
        if not value.isdigit() or int(value) < 1:
            raise SettingsError(f"LLM_BREAKER_FAILURES={value!r} must be a whole number of at least 1")
        fields["llm_breaker_failures"] = int(value)
    if value := get("MOCKI_CORS_ORIGINS"):
        fields["cors_origins"] = tuple(
            _url("MOCKI_CORS_ORIGINS", origin.strip(), ("http", "https")).rstrip("/") for origin in value.split(",")
        )
    if value := get("MOCKI_API_PORT"):
        fields["api_port"] = _port("MOCKI_API_PORT", value)
    if value := get("ENCRYPTION_MASTER_KEY"):
        fields["encryption_master_key"] = _master_key("ENCRYPTION_MASTER_KEY", value)
    if value := get("ENCRYPTION_PREVIOUS_MASTER_KEYS"):
        fields["encryption_previous_master_keys"] = tuple(
            _master_key("ENCRYPTION_PREVIOUS_MASTER_KEYS", part.strip()) for part in value.split(",") if part.strip()
        )
    if (value := get("MOCKI_SECRET_KEY")) is not None:
        if len(value) < 32:
            raise SettingsError("MOCKI_SECRET_KEY must be at least 32 characters")
        fields["secret_key"] = value
    for name in ("LLM_PROVIDER", "STT_PROVIDER", "TTS_PROVIDER", "EMBEDDING_PROVIDER"):
        if value := get(name):
            fields[name.lower()] = _provider(name, value)
    plain = {
        "TEMPORAL_NAMESPACE": "temporal_namespace",
        "LIVEKIT_API_KEY": "livekit_api_key",
        "LIVEKIT_API_SECRET": "livekit_api_secret",
        "MOCKI_API_HOST": "api_host",
        "OPENAI_API_KEY": "openai_api_key",
        "LLM_MODEL": "llm_model",
        "STT_MODEL": "stt_model",
        "TTS_MODEL": "tts_model",
        "TTS_VOICE": "tts_voice",
        "EMBEDDING_MODEL": "embedding_model",
        "RESEND_API_KEY": "resend_api_key",
        "MAIL_FROM": "mail_from",
        "GOOGLE_CLIENT_ID": "google_client_id",
        "GOOGLE_CLIENT_SECRET": "google_client_secret",
        "MOCKI_TASK_QUEUE_PREFIX": "task_queue_prefix",
        "MOCKI_METRICS_TOKEN": "metrics_token",
    }
    for env_name, field in plain.items():
        if value := get(env_name):
            fields[field] = value
    settings = Settings(**fields)  # type: ignore[arg-type]
    for provider_field in ("llm_provider", "stt_provider", "tts_provider", "embedding_provider"):
        if getattr(settings, provider_field) == "openai" and not settings.openai_api_key:
            raise SettingsError(f"{provider_field.upper()}=openai needs OPENAI_API_KEY")
    if bool(settings.google_client_id) != bool(settings.google_client_secret):
        raise SettingsError("GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together: set both, or neither")
    if len(settings.livekit_api_secret) < 32:
        # LiveKit's tokens are HMAC-SHA256: a shorter key is guessable.
        raise SettingsError("LIVEKIT_API_SECRET must be at least 32 characters")
    return settings
