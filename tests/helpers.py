"""Shared helpers: the real CLI and flake8 in subprocesses, and the rule fixtures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULE_FIXTURES = ROOT / "fixtures" / "rules"
EXPECT = re.compile(r"#\s*expect:\s*(DEV\d{3}(?::\d+)?(?:\s*,\s*DEV\d{3}(?::\d+)?)*)")


def expected_positions(path: Path) -> set[tuple[int, int, str]]:
    """(line, 1-based column, code) written next to the cases as ``# expect: DEV001:17``,
    as flake8-bugbear's eval files give each finding's line and column."""
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = EXPECT.search(line)
        if match:
            for item in match.group(1).split(","):
                code, _, column = item.strip().partition(":")
                assert column, f"{path.name}:{number}: give the column: # expect: {code}:COLUMN"
                found.add((number, int(column), code))
    return found


def expected_findings(path: Path) -> set[tuple[int, str]]:
    """(line, code) pairs of the ``# expect:`` markers."""
    return {(line, code) for line, _, code in expected_positions(path)}


def run(*args: str | Path, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300
    )


def devicelint(*args: str | Path, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, as ``python -m devicelint``."""
    return run(sys.executable, "-m", "devicelint", *args, cwd=cwd, stdin=stdin)


def devicelint_json(*args: str | Path, cwd: Path | None = None) -> list[dict]:
    result = devicelint("check", "--format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def flake8(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "flake8", "--isolated", *args, cwd=cwd)
