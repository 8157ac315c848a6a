"""The files people configure mocki with stay true to the code."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from stack.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


class RecordingEnv(Mapping[str, str]):
    """An empty environment that remembers which variables were asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        self.asked.add(key)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_env_example_lists_exactly_the_settings_the_code_reads() -> None:
    env = RecordingEnv()
    load_settings(env)
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert env.asked == documented


def test_docker_compose_file_is_accepted_by_compose() -> None:
    compose = shutil.which("docker-compose")
    assert compose, "docker-compose is installed by `make setup`"
    result = subprocess.run(
        [compose, "-f", str(ROOT / "docker-compose.yml"), "config", "--services"],
        env={"MOCKI_SECRET_KEY": "x" * 40, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert {"postgres", "redis", "temporal", "temporal-ui", "livekit", "migrate", "api", "agent"} <= services
    assert {"worker-interview", "worker-io", "worker-cpu"} <= services  # one per task queue
