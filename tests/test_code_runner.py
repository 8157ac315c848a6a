"""The code runner: tests really run, and code that tries to escape is stopped while the host stays healthy."""

from __future__ import annotations

import errno
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from activities import code_runner
from activities.code_runner import CodeTest, run_tests

TWO_SUM_TESTS = [
    CodeTest("example", [[2, 7, 11, 15], 9], [0, 1]),
    CodeTest("negatives", [[-3, 4, 3, 90], 0], [0, 2]),
    CodeTest("duplicates", [[3, 3], 6], [0, 1]),
]
GOOD = """
def two_sum(nums, target):
    seen = {}
    for i, n in enumerate(nums):
        if target - n in seen:
            return [seen[target - n], i]
        seen[n] = i
"""


def test_a_correct_solution_passes_every_test() -> None:
    result = run_tests(GOOD, "two_sum", TWO_SUM_TESTS)
    assert result.status == "ran"
    assert [o.passed for o in result.outcomes] == [True, True, True]


def test_a_wrong_solution_fails_with_what_it_returned_and_an_exception_with_its_line() -> None:
    wrong = "def two_sum(nums, target):\n    return [0, 0]\n"
    result = run_tests(wrong, "two_sum", TWO_SUM_TESTS)
    assert result.passed == 0 and result.outcomes[0].actual == "[0, 0]"
    raising = "def two_sum(nums, target):\n    x = 1\n    return nums[99]\n"
    crashed = run_tests(raising, "two_sum", TWO_SUM_TESTS)
    assert crashed.outcomes[0].error == {"type": "IndexError", "message": "list index out of range", "line": 3}


def test_code_that_does_not_load_says_why() -> None:
    result = run_tests("def two_sum(nums, target)\n    pass\n", "two_sum", TWO_SUM_TESTS)
    assert result.status == "did_not_load"
    assert (result.detail or "").startswith("SyntaxError: ") and "{" not in (result.detail or "")  # for a person
    missing = run_tests("def other():\n    pass\n", "two_sum", TWO_SUM_TESTS)
    assert missing.status == "did_not_load" and "KeyError" in (missing.detail or "")


@pytest.fixture
def listener() -> tuple[int, list[bytes]]:
    """A server on the host: the sandbox must not reach it."""
    received: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(10)

    def accept() -> None:
        try:
            conn, _ = server.accept()
            received.append(conn.recv(100))
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    return server.getsockname()[1], received


ESCAPES = {
    "network via socket": "import socket\nsocket.create_connection(('127.0.0.1', {port})).send(b'leak')",
    "network via raw _socket": "import _socket\ns = _socket.socket()\ns.connect(('127.0.0.1', {port}))",
    "network via urllib": "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/')",
    "read a host file": "print(open('/etc/passwd').read())",
    "read the mocki data": "print(open('{secret}').read())",
    "shell out": "import os\nos.system('touch /tmp/escaped')",
    "subprocess": "import subprocess\nsubprocess.run(['id'])",
    "fork bomb": "import os\nwhile True:\n    os.fork()",
    "ctypes": "import ctypes\nctypes.CDLL(None)",
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_attempts_are_refused(name: str, listener: tuple[int, list[bytes]], tmp_path: Path) -> None:
    port, received = listener
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    attack = ESCAPES[name].format(port=port, secret=secret)
    code = "def two_sum(nums, target):\n" + "".join(f"    {line}\n" for line in attack.splitlines())
    result = run_tests(code, "two_sum", TWO_SUM_TESTS[:1])
    assert result.status == "ran", result
    outcome = result.outcomes[0]
    assert not outcome.passed
    assert outcome.error is not None
    assert outcome.error["type"] in ("PermissionError", "OSError"), outcome.error
    assert received == []
    assert "top secret" not in (outcome.actual or "")
    assert not Path("/tmp/escaped").exists()  # noqa: S108 - the path the attack would create


def test_an_infinite_loop_is_stopped_and_the_next_run_is_fine() -> None:
    spin = "def two_sum(nums, target):\n    while True:\n        pass\n"
    result = run_tests(spin, "two_sum", TWO_SUM_TESTS)
    assert result.status == "timed_out"
    assert "CPU" in (result.detail or "") or "wall" in (result.detail or "")
    assert run_tests(GOOD, "two_sum", TWO_SUM_TESTS).passed == 3


def test_a_memory_hog_is_stopped() -> None:
    hog = "def two_sum(nums, target):\n    x = bytearray(1024 ** 3)\n    return x\n"
    result = run_tests(hog, "two_sum", TWO_SUM_TESTS[:1])
    assert not any(o.passed for o in result.outcomes)
    assert result.status == "crashed" or result.outcomes[0].error == {
        "type": "MemoryError",
        "message": "",
        "line": 2,
    }


def test_the_os_layers_hold_without_the_audit_hook(listener: tuple[int, list[bytes]]) -> None:
    """Plain Python under the runner's isolation, no harness: no network, not root, few processes."""
    port, received = listener
    probe = (
        "import os, socket, resource\n"
        f"print(socket.socket().connect_ex(('127.0.0.1', {port})))\n"
        "print(os.getuid())\n"
        "print(resource.getrlimit(resource.RLIMIT_NPROC)[0])\n"
    )
    completed = subprocess.run(
        [*code_runner._isolation_prefix("python"), code_runner._sandbox_python(), "-I", "-S", "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    errno_code, uid, nproc = completed.stdout.split()
    assert int(errno_code) == errno.ENETUNREACH
    assert int(uid) != 0
    assert int(nproc) == code_runner.MAX_PROCESSES
    assert received == []


GOOD_JS = """
function two_sum(nums, target) {
  const seen = new Map();
  for (let i = 0; i < nums.length; i++) {
    if (seen.has(target - nums[i])) return [seen.get(target - nums[i]), i];
    seen.set(nums[i], i);
  }
}
"""


def test_javascript_runs_the_same_tests_with_the_line_of_an_exception() -> None:
    good = run_tests(GOOD_JS, "two_sum", TWO_SUM_TESTS, "javascript")
    assert good.status == "ran" and [o.passed for o in good.outcomes] == [True, True, True]
    crashing = "function two_sum(nums, target) {\n  return nums.missing.length;\n}\n"
    bad = run_tests(crashing, "two_sum", TWO_SUM_TESTS, "javascript")
    assert bad.passed == 0
    assert bad.outcomes[0].error == {
        "type": "TypeError",
        "message": "Cannot read properties of undefined (reading 'length')",
        "line": 2,
    }
    wrong = run_tests("function two_sum() { return [0, 0]; }", "two_sum", TWO_SUM_TESTS, "javascript")
    assert wrong.outcomes[0].actual == "[0,0]" and not wrong.outcomes[0].passed
    missing = run_tests("function other() {}", "two_sum", TWO_SUM_TESTS, "javascript")
    assert missing.status == "did_not_load" and "two_sum is not defined as a function" in (missing.detail or "")


@pytest.mark.parametrize(
    ("name", "code", "status", "detail"),
    [
        ("endless loop", "function two_sum() { for (;;) {} }", "timed_out", "CPU"),
        (
            "memory hog",
            "function two_sum() { const hog = []; for (;;) hog.push(new Array(1e6).fill(1)); }",
            "crashed",
            "256 MiB",
        ),
        (
            "reaching the host through Function",
            "const host = this.constructor.constructor('return process')();\nfunction two_sum() { return host.pid; }",
            "did_not_load",
            "Code generation from strings disallowed",
        ),
        ("no require", "const fs = require('fs');\nfunction two_sum() {}", "did_not_load", "require is not defined"),
        ("no process", "function two_sum() { return process.pid; }", "ran", None),
    ],
)
def test_javascript_escapes_are_contained(name: str, code: str, status: str, detail: str | None) -> None:
    result = run_tests(code, "two_sum", TWO_SUM_TESTS, "javascript")
    assert result.status == status, result
    if detail:
        assert detail in (result.detail or ""), result
    else:
        assert result.outcomes[0].error and result.outcomes[0].error["message"] == "process is not defined"
