"""Go programs: found on PATH or in the per-version cache outside the clone, built only when neither has them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stack import binaries

TOOL = binaries.GoTool("mocki-test-tool", "example.invalid/mocki/cmd/tool", "v0.0.1", "tool")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", "/usr/bin:/bin:/usr/local/go/bin:" + os.environ.get("PATH", ""))
    return tmp_path


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\necho cached\n")
    path.chmod(0o755)
    return path


def test_a_cached_build_is_reused_and_keyed_by_version(cache: Path) -> None:
    cached = _executable(cache / "mocki" / "bin" / "mocki-test-tool-v0.0.1" / "mocki-test-tool")
    assert binaries.cached_path(TOOL) == cached
    assert binaries.ensure(TOOL) == cached  # no build: `go install` of this module would fail
    newer = binaries.GoTool(TOOL.name, TOOL.module, "v0.0.2", TOOL.built_name)
    assert binaries.find(newer) is None


def test_the_program_on_path_wins(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = _executable(cache / "path-bin" / "mocki-test-tool")
    _executable(binaries.cached_path(TOOL))
    monkeypatch.setenv("PATH", f"{on_path.parent}:{os.environ['PATH']}")
    assert binaries.find(TOOL) == on_path


def test_a_failed_build_says_why_and_leaves_no_binary(cache: Path) -> None:
    with pytest.raises(binaries.BinaryUnavailable, match="building mocki-test-tool failed"):
        binaries.ensure(TOOL)
    assert not binaries.cached_path(TOOL).exists()
