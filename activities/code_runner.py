"""Runs a candidate's code (Python or JavaScript) against a question's tests in a sandboxed subprocess.

Layers, each enough against a different escape: a new network namespace with no interfaces (`unshare --net`),
an unprivileged user (`setpriv`, when we are root), rlimits on CPU seconds, memory, processes, file size and open
files, a wall-clock limit that kills the whole process group, an empty temporary folder as the only writable
place, and in the process itself: `python -I -S` (no environment, no site-packages) with an audit hook, or node
running the code in an empty V8 context with code generation from strings disabled. The sandbox is refused
outright (SandboxUnavailable) when the network namespace cannot be made: code never runs with network access.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Literal

import msgspec

HARNESSES = {
    "python": Path(__file__).with_name("sandbox_harness.py"),
    "javascript": Path(__file__).with_name("sandbox_harness.js"),
}
Language = Literal["python", "javascript"]
SANDBOX_USER = "nobody"
CPU_SECONDS = 2
WALL_SECONDS = 5
MEMORY_BYTES = 256 * 1024 * 1024
# V8 reserves gigabytes of address space it never touches, so node is capped on data (what it writes), not on
# address space, and its own heap limit sits below that cap.
NODE_HEAP_MIB = 128
MAX_PROCESSES = 64  # per user: with the fork audit hook, a fork bomb cannot get far even if the hook fails
MAX_FILE_BYTES = 1024 * 1024
MAX_OPEN_FILES = 64
MAX_OUTPUT_BYTES = 256 * 1024


class SandboxUnavailable(RuntimeError):
    """This machine cannot isolate code (no network namespaces): nothing is run."""


class LanguageUnavailable(RuntimeError):
    """The language's runtime is not installed here (node, for JavaScript)."""


class CodeTest(msgspec.Struct, frozen=True):
    name: str
    args: list[object]
    expected: object


class TestOutcome(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    passed: bool
    ms: float
    actual: str | None = None
    error: dict[str, object] | None = None


class RunResult(msgspec.Struct, frozen=True, kw_only=True):
    status: str  # "ran" | "did_not_load" | "timed_out" | "crashed"
    outcomes: list[TestOutcome]
    detail: str | None = None  # why it did not run to the end, for a person

    @property
    def passed(self) -> int:
        return sum(o.passed for o in self.outcomes)


class _HarnessOutput(msgspec.Struct):
    loaded: bool
    error: dict[str, object] | None
    results: list[TestOutcome]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SandboxUnavailable(f"`{name}` (util-linux) is not installed; code cannot be isolated")
    return path


def _isolation_prefix(language: Language) -> list[str]:
    """The commands that wrap the interpreter: limits, then no network, then (as root) an unprivileged user."""
    # prlimit sets the limits and execs: no Python runs in the forked child (which threads would make unsafe).
    memory = f"--as={MEMORY_BYTES}" if language == "python" else f"--data={MEMORY_BYTES}"
    limits = [
        _tool("prlimit"),
        f"--cpu={CPU_SECONDS}",
        memory,
        f"--nproc={MAX_PROCESSES}",
        f"--fsize={MAX_FILE_BYTES}",
        f"--nofile={MAX_OPEN_FILES}",
        "--core=0",
        "--",
    ]
    if os.geteuid() == 0:
        drop = [_tool("setpriv"), "--reuid", SANDBOX_USER, "--regid", "nogroup", "--clear-groups", "--"]
        return [*limits, _tool("unshare"), "--net", "--", *drop]
    # Unprivileged: a user namespace lets us make the network namespace.
    return [*limits, _tool("unshare"), "--net", "--map-root-user", "--"]


def _reachable_by_others(path: Path) -> bool:
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in [path, *path.parents])


def _sandbox_python() -> str:
    """An interpreter the unprivileged sandbox user can run (the harness needs only the standard library)."""
    candidates = [shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin"), sys.executable]
    if os.geteuid() != 0:
        return sys.executable
    for candidate in filter(None, candidates):
        real = Path(os.path.realpath(candidate))
        if _reachable_by_others(real):
            return str(real)
    raise SandboxUnavailable("no Python interpreter that an unprivileged user may run was found")


def _interpreter(language: Language, harness: Path) -> list[str]:
    if language == "python":
        return [_sandbox_python(), "-I", "-S", str(harness)]
    node = shutil.which("node", path="/usr/local/bin:/usr/bin:/bin")
    if node is None or (os.geteuid() == 0 and not _reachable_by_others(Path(os.path.realpath(node)))):
        raise LanguageUnavailable("node is not installed here, so JavaScript cannot be run; submit Python")
    return [node, "--disallow-code-generation-from-strings", f"--max-old-space-size={NODE_HEAP_MIB}", str(harness)]


def run_tests(code: str, function: str, tests: list[CodeTest], language: Language = "python") -> RunResult:
    """Blocking: call it from a thread (or the cpu task queue's worker)."""
    prefix = _isolation_prefix(language)
    with tempfile.TemporaryDirectory(prefix="mocki-sandbox-") as work:
        work_dir = Path(work)
        (work_dir / "job.json").write_bytes(msgspec.json.encode({"code": code, "function": function, "tests": tests}))
        harness = work_dir / HARNESSES[language].name
        shutil.copy(HARNESSES[language], harness)
        if os.geteuid() == 0:
            shutil.chown(work_dir, SANDBOX_USER)  # the sandbox user may write here and nowhere else
        argv = [*prefix, *_interpreter(language, harness), str(work_dir)]
        process = subprocess.Popen(
            argv,
            cwd=work_dir,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=WALL_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return RunResult(status="timed_out", outcomes=[], detail=f"stopped after {WALL_SECONDS} s of wall time")
        finally:
            # Anything the code left running in its process group goes too.
            _kill_group(process.pid)
    return _interpret(process.returncode, stdout[:MAX_OUTPUT_BYTES], stderr[-2000:])


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _interpret(returncode: int, stdout: bytes, stderr: bytes) -> RunResult:
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return RunResult(status="timed_out", outcomes=[], detail=f"used more than {CPU_SECONDS} s of CPU")
    last_line = stdout.strip().splitlines()[-1] if stdout.strip() else b""
    try:
        output = msgspec.json.decode(last_line, type=_HarnessOutput)
    except msgspec.DecodeError:
        reason = stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit code {returncode}"]
        if b"MemoryError" in stderr or b"heap out of memory" in stderr:
            reason = [f"ran out of its {MEMORY_BYTES // 2**20} MiB of memory"]
        return RunResult(status="crashed", outcomes=[], detail=reason[0][:300])
    if not output.loaded:
        return RunResult(status="did_not_load", outcomes=[], detail=_why_not_loaded(output.error))
    return RunResult(status="ran", outcomes=output.results)


def _why_not_loaded(error: dict[str, object] | None) -> str:
    """The harness's account of the error, for a person: "SyntaxError: invalid syntax (line 2)"."""
    if not error:
        return "the code did not load"
    line = f" (line {error['line']})" if error.get("line") else ""
    return f"{error.get('type', 'Error')}: {error.get('message', '')}{line}"


async def run_tests_async(code: str, function: str, tests: list[CodeTest], language: Language = "python") -> RunResult:
    return await asyncio.to_thread(run_tests, code, function, tests, language)
