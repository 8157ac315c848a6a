"""Runs inside the sandbox (python -I -S): loads the candidate's code, runs the question's tests, prints JSON.

Not imported by mocki; the runner executes this file in a fresh process. Before the candidate's code runs, an
audit hook refuses opening files outside the work folder and the standard library, sockets, subprocesses,
forks, signals to other processes and ctypes. The OS limits around the process (no network namespace, an
unprivileged user, rlimits, a wall-clock kill) hold even if a hook were bypassed.
"""

import json
import os
import sys
import time
import traceback
from typing import Any

WORK = os.path.realpath(sys.argv[1])
READABLE = tuple(
    os.path.realpath(p) for p in {WORK, sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.__file__)}
)
BLOCKED_EVENTS = {
    "socket.__new__",
    "socket.connect",
    "socket.bind",
    "socket.getaddrinfo",
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "os.kill",
    "os.killpg",
    "ctypes.dlopen",
    "ctypes.cdata",
}
BLOCKED_MODULES = {"ctypes", "_ctypes", "socket", "_socket", "subprocess", "multiprocessing", "_posixsubprocess"}


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + os.sep) for root in roots)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event in BLOCKED_EVENTS:
        raise PermissionError(f"not allowed in the sandbox: {event}")
    if event == "import" and args[0].split(".")[0] in BLOCKED_MODULES:
        raise PermissionError(f"not allowed in the sandbox: import {args[0]}")
    if event == "open":
        path, mode = args[0], args[1]
        if isinstance(path, int):
            return
        real = os.path.realpath(os.fsdecode(path))
        writing = mode is not None and any(flag in str(mode) for flag in "wax+")
        if not _inside(real, (WORK,) if writing else READABLE):
            raise PermissionError(f"not allowed in the sandbox: opening {path!r}")


def main() -> None:
    with open(os.path.join(WORK, "job.json")) as handle:
        job = json.load(handle)
    sys.addaudithook(_audit)
    results: list[dict[str, Any]] = []
    namespace: dict[str, Any] = {"__name__": "solution"}
    try:
        exec(compile(job["code"], "solution.py", "exec"), namespace)  # noqa: S102 - this process is the sandbox
        function = namespace[job["function"]]
    except BaseException as exc:  # any failure of the candidate's code is a result
        print(json.dumps({"loaded": False, "error": _describe(exc), "results": []}))
        return
    for case in job["tests"]:
        started = time.perf_counter()
        try:
            actual = function(*case["args"])
            passed = actual == case["expected"]
            outcome: dict[str, Any] = {"passed": passed, "actual": repr(actual)[:200]}
        except BaseException as exc:
            outcome = {"passed": False, "error": _describe(exc)}
        outcome["name"] = case["name"]
        outcome["ms"] = round((time.perf_counter() - started) * 1000, 3)
        results.append(outcome)
    print(json.dumps({"loaded": True, "error": None, "results": results}))


def _describe(exc: BaseException) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)
    line = next((f.lineno for f in reversed(frames) if f.filename == "solution.py"), None)
    return {"type": type(exc).__name__, "message": str(exc)[:300], "line": line}


main()
