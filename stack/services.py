"""The embedded local stack: Postgres 16 + pgvector (pgserver's build), Redis, Temporal dev server, LiveKit.

A service whose URL is set in the settings is used as it is; the others are started here, supervised, bound
to loopback, with their data under `settings.data_dir` so a restart keeps it. `mocki up` uses the well-known
ports (Temporal UI on 8233, ...); tests ask for free ports so two runs on one machine never collide.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import msgspec

from stack import binaries
from stack.settings import Settings
from stack.supervisor import ProcessSpec, ServiceFailed, Supervisor, free_port, port_open, run_as

DATABASE_NAME = "mocki"
POSTGRES_SYSTEM_USER = "mocki-postgres"  # postgres refuses to run as root

PortPolicy = Literal["fixed", "free"]
FIXED_PORTS = {"postgres": 54329, "redis": 63799, "temporal": 7233, "temporal-ui": 8233, "livekit": 7880}


class StackError(RuntimeError):
    """The embedded stack cannot start; the message says why and what to do."""


class Endpoints(msgspec.Struct, frozen=True):
    database_url: str
    redis_url: str
    temporal_address: str
    livekit_url: str
    temporal_ui_url: str | None = None  # None when Temporal is external (its UI is wherever the user runs it)


@dataclass
class _Ports:
    policy: PortPolicy

    def take(self, name: str) -> int:
        if self.policy == "free":
            return free_port()
        port = FIXED_PORTS[name]
        if port_open(port):
            raise StackError(
                f"port {port} (embedded {name}) is already in use: is another `mocki up` running? "
                "Stop it, or point the matching *_URL / TEMPORAL_ADDRESS setting at that service."
            )
        return port


class LocalStack:
    """Start with `start()`, stop with `stop()` (or use it as a context manager)."""

    def __init__(self, settings: Settings, *, ports: PortPolicy = "fixed", durable: bool = True) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        self._ports = _Ports(ports)
        # Tests trade crash-safety for speed (no fsync); a developer's stack keeps it.
        self._durable = durable
        self._supervisor = Supervisor(self.data_dir / "logs")
        self._lock_file: IO[str] | None = None
        self._temporal_ui_url: str | None = None

    def __enter__(self) -> Endpoints:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> Endpoints:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_data_dir()
        try:
            s = self.settings
            endpoints = Endpoints(
                database_url=s.database_url or self._retrying(self._start_postgres),
                redis_url=s.redis_url or self._retrying(self._start_redis),
                temporal_address=s.temporal_address or self._retrying(self._start_temporal),
                livekit_url=s.livekit_url or self._retrying(self._start_livekit),
                temporal_ui_url=None if s.temporal_address else self._temporal_ui_url,
            )
            # Published for other commands (`mocki users create`) while this stack runs.
            self._published.write_bytes(msgspec.json.encode(endpoints))
            return endpoints
        except (ServiceFailed, binaries.BinaryUnavailable) as exc:
            self.stop()
            raise StackError(str(exc)) from exc
        except BaseException:
            self.stop()
            raise

    def _retrying(self, start: Callable[[], str]) -> str:
        # A free port can be taken by another process between our choosing it and the service binding it:
        # with free ports, try again on fresh ones. Fixed ports are checked up front instead.
        retries = 2 if self._ports.policy == "free" else 0
        for _ in range(retries):
            try:
                return start()
            except ServiceFailed as exc:
                binaries.log(f"{str(exc).splitlines()[0]}; retrying on other ports")
        return start()

    @property
    def _published(self) -> Path:
        return self.data_dir / "endpoints.json"

    def restart(self, service: str, down_seconds: float = 0.0) -> None:
        """Restart one of the embedded services ("postgres", "redis", ...), kept down `down_seconds` in between:
        fault drills (bench/drills.py) use it to take Postgres away under load."""
        self._supervisor.restart(service, down_seconds)

    def stop(self) -> None:
        self._published.unlink(missing_ok=True)
        self._supervisor.stop()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _lock_data_dir(self) -> None:
        self._lock_file = (self.data_dir / ".lock").open("w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            self._lock_file = None
            raise StackError(
                f"{self.data_dir} is in use by another mocki stack; stop it or set MOCKI_DATA_DIR"
            ) from None

    # --- Postgres -------------------------------------------------------------------------------------------

    def _start_postgres(self) -> str:
        bin_dir = _pgserver_bin_dir()
        pgdata = self.data_dir / "postgres"
        sockets = self.data_dir / "run"
        user = _postgres_user()
        for folder in (pgdata, sockets):
            folder.mkdir(exist_ok=True)
            if user:
                _let_others_traverse(folder)
                shutil.chown(folder, user, user)
        if user:
            _let_others_traverse(bin_dir)
        pgdata.chmod(0o700)
        if not (pgdata / "PG_VERSION").exists():
            initdb = subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                capture_output=True,
                text=True,
                check=False,
                cwd=pgdata,  # initdb must be able to stat its working directory as `user`
                **run_as(user),
            )
            if initdb.returncode != 0:
                raise StackError(f"initdb failed for {pgdata}:\n{initdb.stderr.strip()}")
        port = self._ports.take("postgres")
        argv = [
            str(bin_dir / "postgres"),
            "-D", str(pgdata),
            "-h", "127.0.0.1",
            "-p", str(port),
            "-k", str(sockets),
        ]  # fmt: skip
        if not self._durable:
            argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self._supervisor.start(
            ProcessSpec("postgres", argv, port, user=user, stop_signal=signal.SIGINT)  # SIGINT: fast shutdown
        )
        self._ensure_database(bin_dir, port)
        return f"postgresql://postgres@127.0.0.1:{port}/{DATABASE_NAME}"

    def _ensure_database(self, bin_dir: Path, port: int) -> None:
        psql = [str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-tA"]
        exists = subprocess.run(
            [*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"],  # noqa: S608 - a constant
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not exists:
            subprocess.run([*psql, "-c", f"CREATE DATABASE {DATABASE_NAME}"], check=True, capture_output=True)

    # --- Redis ----------------------------------------------------------------------------------------------

    def _start_redis(self) -> str:
        redis_server = shutil.which("redis-server")
        if redis_server is None:
            raise StackError(
                "redis-server is not installed: run `make install` (it installs Debian's redis-server), "
                "or set REDIS_URL to a Redis you run"
            )
        folder = self.data_dir / "redis"
        folder.mkdir(exist_ok=True)
        port = self._ports.take("redis")
        argv = [
            redis_server,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(folder),
            "--save", "",
            "--appendonly", "yes" if self._durable else "no",
            "--protected-mode", "yes",
        ]  # fmt: skip
        self._supervisor.start(ProcessSpec("redis", argv, port))
        return f"redis://127.0.0.1:{port}/0"

    # --- Temporal -------------------------------------------------------------------------------------------

    def _start_temporal(self) -> str:
        temporal = binaries.ensure(binaries.TEMPORAL)
        port = self._ports.take("temporal")
        ui_port = self._ports.take("temporal-ui")
        argv = [
            str(temporal), "server", "start-dev",
            "--db-filename", str(self.data_dir / "temporal.sqlite"),
            "--ip", "127.0.0.1",
            "--port", str(port),
            "--ui-ip", "127.0.0.1",
            "--ui-port", str(ui_port),
            "--namespace", self.settings.temporal_namespace,
            "--log-level", "warn",
            # Task priority (VIP accounts' jobs first) needs the priority matcher, and holds across a queue only
            # when it has one partition (tasks spread over partitions are ordered within each); one node needs no more.
            "--dynamic-config-value", "matching.useNewMatcher=true",
            "--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
            "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
        ]  # fmt: skip
        self._supervisor.start(
            ProcessSpec(
                "temporal",
                argv,
                port,
                ready_timeout=90,
                ready_check=lambda: port_open(ui_port),
            )
        )
        self._temporal_ui_url = f"http://127.0.0.1:{ui_port}"
        return f"127.0.0.1:{port}"

    # --- LiveKit --------------------------------------------------------------------------------------------

    def _start_livekit(self) -> str:
        livekit = binaries.ensure(binaries.LIVEKIT)
        port = self._ports.take("livekit")
        # WebRTC media on two more ports: the fixed stack uses LiveKit's usual ones, tests free ones.
        rtc_tcp, rtc_udp = (port + 1, port + 2) if self._ports.policy == "fixed" else (free_port(), free_port())
        config = {
            "port": port,
            "bind_addresses": ["127.0.0.1"],
            "rtc": {"tcp_port": rtc_tcp, "udp_port": rtc_udp, "use_external_ip": False, "node_ip": "127.0.0.1"},
            "keys": {self.settings.livekit_api_key: self.settings.livekit_api_secret},
            "logging": {"level": "warn"},
        }
        argv = [str(livekit), "--dev", "--bind", "127.0.0.1", "--config-body", msgspec.json.encode(config).decode()]
        self._supervisor.start(ProcessSpec("livekit", argv, port))
        return f"ws://127.0.0.1:{port}"


def running_endpoints(data_dir: Path) -> Endpoints | None:
    """The endpoints of the stack running on `data_dir`, if one is (its lock is held)."""
    path = data_dir / "endpoints.json"
    if not path.exists():
        return None
    with (data_dir / ".lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return msgspec.json.decode(path.read_bytes(), type=Endpoints)
    return None  # left behind by a stack that was killed


def _pgserver_bin_dir() -> Path:
    # Located, not imported: importing pgserver starts its own server machinery we do not use.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("the pgserver package is not installed: run `make install`, or set DATABASE_URL")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _postgres_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", POSTGRES_SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return POSTGRES_SYSTEM_USER


def _let_others_traverse(path: Path) -> None:
    """Add search (x) permission for others on each parent, so the postgres user can reach `path`."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)
