"""Shared helpers: the real CLI and flake8 in subprocesses, and the rule fixtures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULE_FIXTURES = ROOT / "fixtures" / "rules"
EXPECT = re.compile(r"#\s*expect:\s*(DEV\d{3}(?:\s*,\s*DEV\d{3})*)")


def expected_findings(path: Path) -> set[tuple[int, str]]:
    """(line, code) pairs written next to the cases as ``# expect: DEV001``."""
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = EXPECT.search(line)
        if match:
            found.update((number, code.strip()) for code in match.group(1).split(","))
    return found


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
