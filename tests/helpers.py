"""Shared helpers: the CLI (in process, or as a real subprocess), flake8, and the rule fixtures.

``devicelint(...)`` runs ``devicelint.cli.main`` in this process with its own working
directory, standard streams and exit status, and returns what a subprocess would: tables
of cases cost milliseconds instead of an interpreter start each. ``devicelint_process(...)``
is the real ``python -m devicelint`` in a subprocess, for the tests that are about the
process itself (entry points, exit status of the interpreter, signals, terminals).
"""

from __future__ import annotations

import io
import json
import os
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


def devicelint_process(
    *args: str | Path, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command line, as ``python -m devicelint`` in a subprocess."""
    return run(sys.executable, "-m", "devicelint", *args, cwd=cwd, stdin=stdin)


def _universal_newlines(data: bytes) -> str:
    """What ``subprocess.run(..., text=True)`` gives for ``data``: UTF-8, \\r\\n and \\r read as \\n."""
    return data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")


def in_process(main, argv: list[str], cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``main(argv)`` in this process as a subprocess would report it: its exit status (also
    from ``SystemExit``), stdout and stderr as text with universal newlines, run in ``cwd``
    with ``stdin`` (empty when None) as standard input."""
    out, err = io.BytesIO(), io.BytesIO()
    streams = (sys.stdin, sys.stdout, sys.stderr)
    sys.stdin = io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    previous = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse: --help, --version, usage errors
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            if exit_.code is not None and not isinstance(exit_.code, int):
                print(exit_.code, file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os.chdir(previous)
        for wrapper in (sys.stdout, sys.stderr):
            wrapper.detach()  # keep the buffers open after the wrappers are gone
        sys.stdin, sys.stdout, sys.stderr = streams
    return subprocess.CompletedProcess(argv, code, _universal_newlines(out.getvalue()), _universal_newlines(err.getvalue()))


def devicelint(*args: str | Path, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``devicelint ARGS`` through ``devicelint.cli.main`` in this process: the same command
    line, exit status, stdout and stderr as ``devicelint_process``, in milliseconds.

    A run with ``--jobs N`` (N > 1) is a real subprocess: its workers would otherwise be
    forked from this process, with whatever earlier in-process runs left in module caches,
    and ``--jobs`` tests compare exactly those runs against serial ones."""
    from devicelint.cli import main

    argv = [str(a) for a in args]
    if _parallel(argv):
        return devicelint_process(*argv, cwd=cwd, stdin=stdin)
    return in_process(main, argv, cwd=cwd, stdin=stdin)


def _parallel(argv: list[str]) -> bool:
    for index, arg in enumerate(argv):
        if arg in ("--jobs", "-j") and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith("--jobs="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-j") and arg[2:].isdigit():
            value = arg[2:]
        else:
            continue
        if value != "1":
            return True
    return False


def devicelint_json(*args: str | Path, cwd: Path | None = None) -> list[dict]:
    result = devicelint("check", "--format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def flake8(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "flake8", "--isolated", *args, cwd=cwd)
