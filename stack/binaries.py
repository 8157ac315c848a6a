"""Finds (or builds once) the Go programs the embedded stack runs: Temporal's dev server and LiveKit.

Resolution order: the program on PATH, then the per-version build cache outside the clone
(`$XDG_CACHE_HOME/mocki/bin/<tool>-<version>/`), else `go install <module>@<version>` into that cache, with
progress on stderr. Fresh clones, CI and `make demo` therefore build each version once per machine.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


class BinaryUnavailable(RuntimeError):
    """The program is not on PATH, not cached, and could not be built."""


@dataclass(frozen=True)
class GoTool:
    name: str  # the command's name on PATH and in the cache
    module: str  # `go install` target
    version: str
    built_name: str  # what `go install` names the binary (the last path element of the package)

    @property
    def install_spec(self) -> str:
        return f"{self.module}@{self.version}"


TEMPORAL = GoTool("temporal", "github.com/temporalio/cli/cmd/temporal", "v1.5.1", "temporal")
LIVEKIT = GoTool("livekit-server", "github.com/livekit/livekit-server/cmd/server", "v1.13.5", "server")
TOOLS = (TEMPORAL, LIVEKIT)


def user_cache() -> Path:
    """The user's cache folder for mocki, outside any clone, so fresh clones and CI reuse what it holds."""
    return Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "mocki"


def cache_root() -> Path:
    return user_cache() / "bin"


def cached_path(tool: GoTool) -> Path:
    return cache_root() / f"{tool.name}-{tool.version}" / tool.name


def find(tool: GoTool) -> Path | None:
    on_path = shutil.which(tool.name)
    if on_path:
        return Path(on_path)
    cached = cached_path(tool)
    return cached if cached.is_file() and os.access(cached, os.X_OK) else None


def ensure(tool: GoTool) -> Path:
    """Return the program's path, building it into the cache the first time."""
    found = find(tool)
    if found:
        return found
    target = cached_path(tool)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A lock so two clones (or CI and a developer) never build the same version at once.
    with (target.parent / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return target
        _build(tool, target)
    return target


def _build(tool: GoTool, target: Path) -> None:
    go = shutil.which("go")
    if go is None:
        raise BinaryUnavailable(
            f"{tool.name} is not on PATH and Go is not installed to build it; install Go, or put {tool.name} on PATH"
        )
    staging = target.parent / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    log(
        f"building {tool.name} {tool.version} once (go install {tool.install_spec}); "
        f"cached in {target.parent}, a few minutes on a fresh machine"
    )
    env = {**os.environ, "GOBIN": str(staging), "GOFLAGS": os.environ.get("GOFLAGS", "") + " -buildvcs=false"}
    started = time.monotonic()
    process = subprocess.Popen(
        [go, "install", "-v", tool.install_spec],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    tail: list[str] = []
    packages = 0
    for line in process.stdout:
        tail = [*tail, line.rstrip()][-20:]
        if not line.startswith("go: "):
            packages += 1  # `go install -v` prints each package as it compiles it
            if packages % 50 == 0:
                log(f"  {tool.name}: {packages} packages compiled ({time.monotonic() - started:.0f} s)")
    if process.wait() != 0:
        raise BinaryUnavailable(f"building {tool.name} failed:\n" + "\n".join(tail))
    (staging / tool.built_name).rename(target)
    shutil.rmtree(staging, ignore_errors=True)
    log(f"built {tool.name} {tool.version} in {time.monotonic() - started:.0f} s -> {target}")


def log(message: str) -> None:
    print(f"[mocki] {message}", file=sys.stderr, flush=True)
