"""`mocki` command line: up | demo | api | worker | migrate | setup."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import shutil
import signal
import subprocess
import sys
import threading
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

from schema.accounts import Role, Signup
from schema.queues import QUEUE_KINDS, QueueKind
from stack import binaries, database
from stack.logs import configure_logging
from stack.services import Endpoints, LocalStack, StackError, running_endpoints
from stack.settings import Settings, SettingsError, load_settings
from stack.supervisor import ProcessSpec, ServiceFailed, Supervisor, free_port, port_open
from stack.telemetry import serve_metrics, start_telemetry

KEEP_ALIVE_SECONDS = 75

# command -> Debian package; docker-compose only validates docker-compose.yml in the tests (no engine needed)
SYSTEM_PACKAGES = {
    "redis-server": "redis-server",
    "espeak-ng": "espeak-ng",
    "node": "nodejs",  # runs JavaScript submissions in the sandbox
    "npm": "npm",  # builds the web app (web/frontend) at `make install`
    "chromium": "chromium",  # the browser tests (tests/test_web_room.py) drive Debian's Chromium
    "docker-compose": "docker-compose",
    "wrk": "wrk",  # `make bench`: HTTP load on the API (bench/cache.py)
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mocki", description="AI mock interviews.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the whole stack and the app; Ctrl-C stops everything")
    commands.add_parser(
        "demo", help="start the stack, run a scripted interview, import a sample mailbox, print the results, stop"
    )
    commands.add_parser("api", help="serve the API (service URLs must be set, as `mocki up` does)")
    worker = commands.add_parser("worker", help="run the Temporal workers (service URLs must be set)")
    worker.add_argument("--ready-file", type=Path, help="touched once the worker polls its task queues")
    worker.add_argument(
        "--queues",
        type=_queue_kinds,
        default=QUEUE_KINDS,
        help="the task queues to serve, comma-separated (default interview,io,cpu: all in one process)",
    )
    agent = commands.add_parser("agent", help="run the LiveKit voice agent worker (service URLs must be set)")
    agent.add_argument("--ready-file", type=Path, help="touched once LiveKit has registered the agent worker")
    for process in (worker, agent):
        process.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port (/metrics)")
        process.add_argument(
            "--metrics-host", help="the address the metrics port listens on (default: MOCKI_API_HOST, 127.0.0.1)"
        )
    commands.add_parser("migrate", help="apply database migrations to DATABASE_URL")
    seed_parser = commands.add_parser(
        "seed", help="load the starter question bank (migrate does it too), or import your own with --file"
    )
    seed_parser.add_argument("--file", type=Path, help="a bank in the format of activities/question_bank.json")
    commands.add_parser("setup", help="install missing system packages and build the Go binaries once")
    users = commands.add_parser("users", help="manage accounts").add_subparsers(dest="users_command", required=True)
    create = users.add_parser("create", help="create an account (the first admin, say); asks for the password")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--role", choices=["candidate", "recruiter", "admin"], required=True)
    vip = users.add_parser("vip", help="make an account VIP: its interviews, documents and syncs jump queue backlogs")
    vip.add_argument("--email", required=True)
    vip.add_argument("--off", action="store_true", help="make it an ordinary account again")
    keys = commands.add_parser("keys", help="the master key that wraps each document's key")
    keys.add_subparsers(dest="keys_command", required=True).add_parser(
        "rotate",
        help="re-wrap every document's key under the current master key: after you set a new "
        "ENCRYPTION_MASTER_KEY (the old one in ENCRYPTION_PREVIOUS_MASTER_KEYS), or, without one, under a new key "
        "made in the data folder",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "up":
            up(settings)
        elif args.command == "demo":
            demo(settings)
        elif args.command == "api":
            serve_api(settings)
        elif args.command == "worker":
            asyncio.run(run_worker(settings, args.ready_file, args.queues, _metrics_address(settings, args)))
        elif args.command == "agent":
            from agents.worker import run_agent

            endpoints = external_endpoints(settings)
            asyncio.run(run_agent(settings, endpoints, args.ready_file, _metrics_address(settings, args)))
        elif args.command == "migrate":
            asyncio.run(migrate(external_endpoints(settings).database_url))
        elif args.command == "seed":
            seed_questions(settings, args.file)
        elif args.command == "setup":
            setup()
        elif args.command == "users":
            manage_users(settings, args)
        elif args.command == "keys":
            rotate_keys(settings)
    except (SettingsError, StackError, ServiceFailed, binaries.BinaryUnavailable) as exc:
        print(f"mocki: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


# --- set-up ---------------------------------------------------------------------------------------------------


def setup() -> None:
    missing = [pkg for cmd, pkg in SYSTEM_PACKAGES.items() if shutil.which(cmd) is None]
    if missing:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise StackError(
                f"missing system packages: {' '.join(missing)}; install them "
                f"(Debian/Ubuntu: sudo apt-get install -y {' '.join(missing)}) and run `make install` again"
            )
        binaries.log(f"installing {' '.join(missing)} with apt-get")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *missing]):
            if subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False).returncode != 0:
                raise StackError(f"`{' '.join(command)}` failed; install {' '.join(missing)} by hand")
    for tool in binaries.TOOLS:
        path = binaries.ensure(tool)
        binaries.log(f"{tool.name} {tool.version}: {path}")


# --- accounts -------------------------------------------------------------------------------------------------


def manage_users(settings: Settings, args: argparse.Namespace) -> None:
    if args.users_command == "vip":
        set_vip(settings, args.email, vip=not args.off)
    else:
        create_user(settings, args.email, args.name, args.role)


def set_vip(settings: Settings, email: str, *, vip: bool) -> None:
    with _database(settings) as database_url:

        async def update() -> int:
            from schema.tables import AppUser
            from web.accounts import normalise_email

            await migrate(database_url)
            engine = database.bind(database_url)
            await engine.start_connection_pool()
            try:
                changed = (
                    await AppUser.update({AppUser.vip: vip})
                    .where(AppUser.email == normalise_email(email))
                    .returning(AppUser.id)
                )
            finally:
                await engine.close_connection_pool()
            return len(changed)

        if not asyncio.run(update()):
            raise StackError(f"no account {email}")
    print(f"{email} is {'a VIP' if vip else 'an ordinary account'} now: jobs started from now on have that priority")


def create_user(settings: Settings, email: str, name: str, role: Role) -> None:
    # MOCKI_NEW_PASSWORD lets scripts create accounts; people are asked, without echo.
    password = os.environ.get("MOCKI_NEW_PASSWORD") or getpass.getpass(f"password for {email}: ")
    try:
        msgspec.convert({"email": email, "password": password, "display_name": name}, Signup)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"cannot create this account: {exc}") from None
    with _database(settings) as database_url:

        async def create() -> None:
            from web import accounts

            await migrate(database_url)
            engine = database.bind(database_url)
            await engine.start_connection_pool()
            try:
                await accounts.create_user(email, password, name, role)
            except accounts.EmailTaken as exc:
                raise StackError(str(exc)) from None
            finally:
                await engine.close_connection_pool()

        asyncio.run(create())
    print(f"created {role} {email}")


def rotate_keys(settings: Settings) -> None:
    from activities.ingest import rewrap_keys
    from activities.vault import Vault, add_master_key, master_keys_of
    from schema.tables import Document, GmailAccount, ImapAccount, MailMessage

    if settings.encryption_master_key is None:
        add_master_key(settings.data_dir)  # running processes read it when they meet a key wrapped by it
    vault = Vault(lambda: master_keys_of(settings))
    with _database(settings) as database_url:

        async def rewrap() -> list[tuple[int, int]]:
            await migrate(database_url)
            engine = database.bind(database_url)
            await engine.start_connection_pool()
            try:
                tables = (Document, MailMessage, GmailAccount, ImapAccount)
                return [await rewrap_keys(vault, table) for table in tables]
            finally:
                await engine.close_connection_pool()

        (documents, current_documents), (messages, current_messages), (gmail, current_gmail), (imap, current_imap) = (
            asyncio.run(rewrap())
        )
    print(
        f"master key {vault.current}: {documents} document keys re-wrapped, {current_documents} already under it; "
        f"{messages} mail message keys re-wrapped, {current_messages} already under it; "
        f"{gmail} Gmail token keys re-wrapped, {current_gmail} already under it; "
        f"{imap} IMAP password keys re-wrapped, {current_imap} already under it"
    )


def seed_questions(settings: Settings, path: Path | None) -> None:
    """Store the starter bank, or import `path` (the team's own questions, which later starter banks keep)."""
    from activities.question_bank import BankError, packaged_file, read_bank_file, seed

    with _database(settings) as database_url:

        async def load() -> str:
            await migrate(database_url)
            try:
                bank = read_bank_file(path) if path else packaged_file()
                result = await seed(bank, source="imported" if path else "starter")
            except BankError as exc:
                raise StackError(str(exc)) from None
            return f"question bank: {result.added} added, {result.updated} updated, {result.kept} kept"

        print(asyncio.run(load()))


@contextmanager
def _database(settings: Settings) -> Iterator[str]:
    """DATABASE_URL, else the running stack's database, else the embedded stack started just for this."""
    if settings.database_url:
        yield settings.database_url
        return
    running = running_endpoints(settings.data_dir.resolve())
    if running:
        yield running.database_url
        return
    with LocalStack(settings, ports="free") as endpoints:
        yield endpoints.database_url


# --- processes ------------------------------------------------------------------------------------------------


def external_endpoints(settings: Settings) -> Endpoints:
    """The endpoints of a process started by `mocki up` (or pointed at the user's own services)."""
    missing = [
        name
        for name, value in (
            ("DATABASE_URL", settings.database_url),
            ("REDIS_URL", settings.redis_url),
            ("TEMPORAL_ADDRESS", settings.temporal_address),
            ("LIVEKIT_URL", settings.livekit_url),
        )
        if not value
    ]
    if missing:
        raise SettingsError(f"{', '.join(missing)} not set: start everything with `mocki up`, or set them")
    return Endpoints(
        database_url=settings.database_url or "",
        redis_url=settings.redis_url or "",
        temporal_address=settings.temporal_address or "",
        livekit_url=settings.livekit_url or "",
    )


async def migrate(database_url: str) -> None:
    database.bind(database_url)
    await database.migrate()


def serve_api(settings: Settings) -> None:
    import uvicorn

    from web.app import create_app

    configure_logging(settings, "mocki-api")
    telemetry = start_telemetry(settings, "mocki-api")
    app = create_app(settings, external_endpoints(settings))
    # Idle connections are kept longer than clients and load balancers keep theirs (httpx: 5 s, uvicorn's default
    # too): a server closing first races the client's next request on that connection, which then fails.
    try:
        uvicorn.run(
            app,
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,  # uvicorn's records go through configure_logging's handler like every other
            log_level="warning",
            access_log=False,  # web/access_log.py writes one line per request, with its route and trace id
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
    finally:
        telemetry.shutdown()


def _metrics_address(settings: Settings, args: argparse.Namespace) -> tuple[str, int] | None:
    return (args.metrics_host or settings.api_host, args.metrics_port) if args.metrics_port else None


def _queue_kinds(value: str) -> tuple[QueueKind, ...]:
    kinds = tuple(kind.strip() for kind in value.split(","))
    unknown = [kind for kind in kinds if kind not in QUEUE_KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"{', '.join(unknown) or 'none'}: the queues are {', '.join(QUEUE_KINDS)}")
    return typing.cast("tuple[QueueKind, ...]", kinds)


async def run_worker(
    settings: Settings,
    ready_file: Path | None,
    kinds: tuple[QueueKind, ...],
    metrics_address: tuple[str, int] | None = None,
) -> None:
    from redis.asyncio import Redis

    from activities.question_bank import QuestionBank
    from stack.temporal import connect
    from workflows.worker import mocki_workers

    endpoints = external_endpoints(settings)
    service = f"mocki-worker-{'-'.join(kinds)}"
    configure_logging(settings, service)
    telemetry = start_telemetry(settings, service)
    serve_metrics(metrics_address)
    redis = Redis.from_url(endpoints.redis_url)
    db = database.bind(endpoints.database_url)
    await db.start_connection_pool()
    client = await connect(endpoints.temporal_address, settings.temporal_namespace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with await mocki_workers(client, settings, redis, await QuestionBank.load(), kinds=kinds):
            if ready_file:
                ready_file.touch()  # noqa: ASYNC240 - one tiny local write, once, before serving
            await stop.wait()
    finally:
        await redis.aclose()
        await db.close_connection_pool()
        telemetry.shutdown()


def child_env(settings: Settings, endpoints: Endpoints, **extra: str) -> dict[str, str]:
    """The environment of a `mocki` child process (API, worker, agent) on this stack: children read their settings
    from the environment, so they get this process's resolved values."""
    return {
        **os.environ,
        "MOCKI_DATA_DIR": str(settings.data_dir.resolve()),
        "MOCKI_TASK_QUEUE_PREFIX": settings.task_queue_prefix,
        "DATABASE_URL": endpoints.database_url,
        "REDIS_URL": endpoints.redis_url,
        "TEMPORAL_ADDRESS": endpoints.temporal_address,
        "LIVEKIT_URL": endpoints.livekit_url,
        **extra,
    }


@contextmanager
def running_app(settings: Settings) -> Iterator[tuple[Endpoints, str]]:
    """The embedded stack, migrated, plus the worker, the voice agent and the API as supervised child processes."""
    stack = LocalStack(settings, ports=settings.stack_ports)
    endpoints = stack.start()
    app = Supervisor(stack.data_dir / "logs")
    try:
        asyncio.run(migrate(endpoints.database_url))
        if port_open(settings.api_port):
            raise StackError(f"port {settings.api_port} for the API is in use; set MOCKI_API_PORT")
        env = child_env(settings, endpoints, MOCKI_API_HOST=settings.api_host, MOCKI_API_PORT=str(settings.api_port))
        mocki = [sys.executable, "-m", "stack.cli"]
        # A worker process per task queue, so parsing and model batches never hold up a turn; then the agent.
        # Each touches its ready file once it serves.
        children = {f"worker-{kind}": ["worker", "--queues", kind] for kind in QUEUE_KINDS} | {"agent": ["agent"]}
        metrics_ports = {name: free_port() for name in children}
        for name, command in children.items():
            ready_file = stack.data_dir / "run" / f"{name}.ready"
            ready_file.unlink(missing_ok=True)
            app.start(
                ProcessSpec(
                    name,
                    [*mocki, *command, "--ready-file", str(ready_file), "--metrics-port", str(metrics_ports[name])],
                    ready_port=None,
                    env=env,
                    ready_check=ready_file.exists,
                )
            )
        app.start(ProcessSpec("api", [*mocki, "api"], ready_port=settings.api_port, env=env))
        scraped = ", ".join(f"{name} http://{settings.api_host}:{port}/metrics" for name, port in metrics_ports.items())
        print(f"Prometheus metrics: the API's /metrics; {scraped}", flush=True)
        yield endpoints, settings.public_url or f"http://{settings.api_host}:{settings.api_port}"
    finally:
        app.stop()
        stack.stop()


def print_urls(endpoints: Endpoints, api_url: str, namespace: str, heading: str) -> None:
    print(f"\n{heading}")
    print(f"  API            {api_url}")
    print(f"  API docs       {api_url}/docs  (OpenAPI: {api_url}/docs/openapi.json)")
    if endpoints.temporal_ui_url:
        print(f"  Temporal UI    {endpoints.temporal_ui_url}/namespaces/{namespace}/workflows")
    print(f"  Temporal gRPC  {endpoints.temporal_address}")
    print(f"  LiveKit        {endpoints.livekit_url}")
    print(f"  Postgres       {endpoints.database_url}")
    print(f"  Redis          {endpoints.redis_url}")
    print(f"  Web app        {api_url}/app  (sign in, practise, read reports)", flush=True)


def up(settings: Settings) -> None:
    stopped = threading.Event()
    # SIGINT is handled as SIGTERM is, not left to Python: a process started in the background by a shell without
    # job control inherits SIGINT ignored, and Ctrl-C (or `kill -INT`) must still stop the stack.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    with running_app(settings) as (endpoints, api_url):
        print_urls(endpoints, api_url, settings.temporal_namespace, "mocki is running:")
        print("\nCtrl-C stops everything.", flush=True)
        stopped.wait()
        print("\nstopping...", flush=True)


def demo(settings: Settings) -> None:
    import httpx

    from activities.mail_delivery import outbox_folder
    from stack.demo import DEMO_CANDIDATE, run_scripted_interview, sign_in
    from stack.mail_demo import import_sample_mailbox, recommend_jobs, send_weekly_digest
    from stack.voice_demo import voice_exchange

    with running_app(settings) as (endpoints, api_url):
        outcome = run_scripted_interview(api_url)
        with httpx.Client(base_url=api_url, timeout=30) as http:
            token = sign_in(http)
            http.headers["Authorization"] = f"Bearer {token}"
            outbox = None if settings.resend_api_key else outbox_folder(settings)
            import_sample_mailbox(http, outbox)
            me = str(http.get("/users/me").json()["id"])
        recommend_jobs(api_url, token)
        asyncio.run(send_weekly_digest(endpoints.temporal_address, settings.temporal_namespace, me, outbox))
        asyncio.run(voice_exchange(api_url, token))
        print_urls(endpoints, api_url, settings.temporal_namespace, "The demo ran on (stopped when it ends):")
        if endpoints.temporal_ui_url:
            print(
                f"\nThis interview's workflow: {endpoints.temporal_ui_url}/namespaces/"
                f"{settings.temporal_namespace}/workflows/{outcome.workflow_id}"
                "\n(kept in the data folder: run `make up` to browse it in the Temporal UI)"
            )
        print(
            f"\nThis interview in the web app (with `make up`): {api_url}/app#/room/{outcome.workflow_id}"
            f"\n(sign in as {DEMO_CANDIDATE['email']}, password {DEMO_CANDIDATE['password']})"
        )


if __name__ == "__main__":
    main()
