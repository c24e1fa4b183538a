"""Shared pytest fixtures and the quick/full switch (helpers that are plain functions live
in helpers.py; the switch itself in speed.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

import speed

# The persistent cache of `devicelint check` goes to a folder of this session, never the
# user's home (subprocesses inherit it). Set at import, before any test runs the CLI.
_CACHE_HOME = tempfile.TemporaryDirectory(prefix="devicelint-test-cache-")
os.environ["DEVICELINT_CACHE_DIR"] = _CACHE_HOME.name


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="the full run (what .ci/run does): also the tests marked slow, and property tests with all their examples",
    )


def pytest_configure(config: pytest.Config) -> None:
    speed.FULL = bool(config.getoption("--slow"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without --slow, deselect the slow tests (unless a -m expression names them)."""
    if speed.FULL or "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]


def pytest_report_header(config: pytest.Config) -> str:
    if speed.FULL:
        return "devicelint: full run (--slow): slow tests included, property tests at full example counts"
    return "devicelint: quick run: slow tests deselected, property tests at a twentieth of their examples (--slow runs everything)"


@pytest.fixture
def write(tmp_path: Path):
    """Write a file under tmp_path: ``write("a.py", "source")`` -> its path."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
        return path

    return _write
