"""Starts child processes, waits until they serve, restarts the ones that crash, and stops them all.

Each child runs in its own session (process group) so that stopping it also stops whatever it spawned, and
its output goes to `<log_dir>/<name>.log`. Nothing is left running after `stop()`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stack.binaries import log


class ServiceFailed(RuntimeError):
    """A child did not come up; the message carries the end of its log."""


def run_as(user: str | None) -> dict[str, Any]:
    """subprocess keyword arguments that drop to `user` with its own group only (not root's gid 0)."""
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    ready_port: int | None  # None: ready when `ready_check` says so
    env: dict[str, str] | None = None
    user: str | None = None
    stop_signal: signal.Signals = signal.SIGTERM
    ready_timeout: float = 60.0
    ready_check: Callable[[], bool] | None = None  # beyond the port being open


@dataclass
class _Child:
    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    restarts: list[float] = field(default_factory=list)


class Supervisor:
    MAX_RESTARTS_PER_MINUTE = 3

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self._children: list[_Child] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def log_path(self, name: str) -> Path:
        return self._log_dir / f"{name}.log"

    def start(self, spec: ProcessSpec) -> None:
        child = _Child(spec, self._spawn(spec))
        try:
            self._wait_ready(child)
        except ServiceFailed:
            self._stop_child(child, timeout=5)
            raise
        with self._lock:
            self._children.append(child)
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="mocki-supervisor", daemon=True)
            self._watcher.start()

    def _spawn(self, spec: ProcessSpec) -> subprocess.Popen[bytes]:
        with self.log_path(spec.name).open("ab") as log_file:
            return subprocess.Popen(
                spec.argv,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=spec.env,
                start_new_session=True,
                **run_as(spec.user),
            )

    def _wait_ready(self, child: _Child) -> None:
        spec = child.spec
        deadline = time.monotonic() + spec.ready_timeout
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise ServiceFailed(
                    f"{spec.name} exited with code {child.process.returncode} while starting; "
                    f"end of {self.log_path(spec.name)}:\n{self.log_tail(spec.name)}"
                )
            port_ready = spec.ready_port is None or port_open(spec.ready_port)
            if port_ready and (spec.ready_check is None or spec.ready_check()):
                return
            time.sleep(0.1)
        raise ServiceFailed(
            f"{spec.name} was not ready within {spec.ready_timeout:.0f} s; "
            f"end of {self.log_path(spec.name)}:\n{self.log_tail(spec.name)}"
        )

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.log_path(name)
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            with self._lock:
                crashed = [c for c in self._children if c.process.poll() is not None]
            for child in crashed:
                self._restart(child)

    def _restart(self, child: _Child) -> None:
        now = time.monotonic()
        child.restarts = [t for t in child.restarts if now - t < 60] + [now]
        name = child.spec.name
        if len(child.restarts) > self.MAX_RESTARTS_PER_MINUTE:
            log(f"{name} keeps crashing; giving up (see {self.log_path(name)})")
            with self._lock:
                self._children.remove(child)
            return
        log(f"{name} exited with code {child.process.returncode}; restarting")
        if self._stopping.is_set():
            return
        child.process = self._spawn(child.spec)
        try:
            self._wait_ready(child)
        except ServiceFailed as exc:
            log(str(exc))

    def restart(self, name: str, down_seconds: float = 0.0) -> None:
        """Stop the child `name`, keep it down `down_seconds` (the outage of a fault drill), start it again and
        wait until it serves."""
        with self._lock:
            child = next(c for c in self._children if c.spec.name == name)
            self._children.remove(child)  # not the watcher's to restart meanwhile
        self._stop_child(child, timeout=15.0)
        time.sleep(down_seconds)
        self.start(child.spec)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop children newest first (the API before the database it uses)."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
        with self._lock:
            children = list(reversed(self._children))
            self._children.clear()
        for child in children:
            self._stop_child(child, timeout)

    def _stop_child(self, child: _Child, timeout: float) -> None:
        # A second signal forces servers that ignore the first while still starting (LiveKit does).
        for grace in (3.0, timeout):
            _signal_group(child.process, child.spec.stop_signal)
            try:
                child.process.wait(grace)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            log(f"{child.spec.name} did not stop; killing it")
        # Whatever the child left in its group (or the child itself, if it hung) goes now.
        _signal_group(child.process, signal.SIGKILL)
        child.process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
