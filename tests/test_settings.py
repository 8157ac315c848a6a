"""Settings: read once from the environment, refused with one readable line when wrong."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time

import pytest

from stack.settings import SettingsError, load_settings


def test_without_an_openai_key_every_provider_is_offline() -> None:
    settings = load_settings({})
    for provider in (settings.llm_provider, settings.stt_provider, settings.tts_provider, settings.embedding_provider):
        assert settings.resolved_provider(provider) == "offline"
    keyed = load_settings({"OPENAI_API_KEY": "sk-test"})
    assert keyed.resolved_provider(keyed.llm_provider) == "openai"
    assert keyed.resolved_provider(load_settings({"OPENAI_API_KEY": "sk", "LLM_PROVIDER": "offline"}).llm_provider) == (
        "offline"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL='nonsense' is not a valid URL"),
        ({"DATABASE_URL": "mysql://db/x"}, "expected postgres://"),
        ({"REDIS_URL": "redis://host:notaport"}, "REDIS_URL"),
        ({"TEMPORAL_ADDRESS": "localhost"}, "TEMPORAL_ADDRESS='localhost' must be host:port"),
        ({"MOCKI_API_PORT": "70000"}, "between 1 and 65535"),
        ({"LLM_PROVIDER": "gpt"}, "one of: auto, openai, offline"),
        ({"LLM_PROVIDER": "openai"}, "needs OPENAI_API_KEY"),
        ({"ENCRYPTION_MASTER_KEY": "not base64!"}, "must be base64"),
        ({"ENCRYPTION_MASTER_KEY": base64.b64encode(b"short").decode()}, "32 bytes"),
        ({"MOCKI_SECRET_KEY": "too-short"}, "at least 32 characters"),
        ({"MOCKI_PORTS": "random"}, "fixed or free"),
        ({"LIVEKIT_API_SECRET": "secret"}, "at least 32 characters"),
        ({"MOCKI_AI_REQUESTS_PER_IP_PER_MINUTE": "0"}, "at least 1"),
        ({"REMINDER_LEADS": "24h,soon"}, "must list durations like 24h,1h"),
        ({"REMINDER_LEADS": "0h"}, "must list durations like 24h,1h"),
        ({"MAIL_SYNC_EVERY_MINUTES": "1"}, "from 5 to 1440"),
        ({"GOOGLE_CLIENT_ID": "id.apps.example"}, "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together"),
        ({"GOOGLE_TOKEN_URI": "accounts.google.com/token"}, "GOOGLE_TOKEN_URI"),
        ({"MOCKI_IMAP_PRIVATE_HOSTS": "yes"}, "must be true or false"),
    ],
)
def test_a_bad_setting_names_the_variable_and_the_problem(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace("?", r"\?")):
        load_settings(env)


def test_reminder_leads_are_read_largest_first_without_repeats() -> None:
    assert load_settings({"REMINDER_LEADS": "1h, 2d,30m,60m"}).reminder_leads_seconds == (172800, 3600, 1800)


def test_a_good_master_key_is_decoded() -> None:
    key = os.urandom(32)
    assert load_settings({"ENCRYPTION_MASTER_KEY": base64.b64encode(key).decode()}).encryption_master_key == key


def test_the_cli_refuses_a_bad_setting_fast_with_one_line_and_no_traceback() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "stack.cli", "up"],
        env={**os.environ, "DATABASE_URL": "nonsense"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mocki: DATABASE_URL='nonsense' is not a valid URL; expected postgres://host[:port]/... "
        "or postgresql://host[:port]/..."
    ]
    assert "Traceback" not in result.stderr
    assert elapsed < 5, f"took {elapsed:.1f} s"
