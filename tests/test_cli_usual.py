"""cli.usual_check reads the usual ``check`` command line as argparse reads it, and leaves
every other one to argparse: whatever it accepts, argparse parses to the same values."""

from __future__ import annotations

import contextlib
import functools
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devicelint import cli


@functools.cache
def check_parser():
    return cli.build_parser("check")


def argparse_reading(arguments: list[str]) -> dict | None:
    """What argparse makes of the command line (None: its usage error)."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(SystemExit):
        return vars(check_parser().parse_args(arguments))
    return None


TAKEN = [
    ["check"],
    ["check", "a.py"],
    ["check", "--no-cache", "--files", "pkg/one.py"],  # the bench's one file
    ["check", "--force-exclude", "--files", "--", "a.py", "b.py"],  # pre-commit's hook
    ["check", "--force-exclude", "--files", "--"],  # pre-commit with no file
    ["check", "a.py", "b.py", "--no-cache", "--exit-zero"],
    ["check", "--respect-gitignore", "--no-respect-gitignore", "--statistics", "--isolated", "."],
    ["check", "--no-force-exclude", "", "x y.py", "a=b.py", "check"],
]
LEFT_TO_ARGPARSE = [
    [],
    ["fix", "a.py"],
    ["--version"],
    ["check", "-"],  # standard input
    ["check", "--", "-"],
    ["check", "--", "a.py", "--", "b.py"],
    ["check", "a.py", "--", "b.py"],
    ["check", "a.py", "--no-cache", "b.py"],  # argparse's error: paths on both sides of a flag
    ["check", "--select", "DEV001", "a.py"],
    ["check", "--select=DEV001", "a.py"],
    ["check", "--no-c", "a.py"],  # an abbreviation
    ["check", "-j1", "a.py"],
    ["check", "-h"],
    ["check", "-1"],
]


@pytest.mark.parametrize("arguments", TAKEN)
def test_the_usual_command_lines_are_read_as_argparse_reads_them(arguments: list[str]) -> None:
    usual = cli.usual_check(arguments)
    assert usual is not None
    assert vars(usual) == argparse_reading(arguments)


@pytest.mark.parametrize("arguments", LEFT_TO_ARGPARSE)
def test_anything_else_is_left_to_argparse(arguments: list[str]) -> None:
    assert cli.usual_check(arguments) is None


TOKENS = [*cli._CHECK_FLAGS, "--", "-", "a.py", "b.py", "", "-x", "--no-c", "--files=1", "--select", "DEV001", "-j", "2", "check"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=8))
def test_what_is_taken_is_what_argparse_gives(tokens: list[str]) -> None:
    arguments = ["check", *tokens]
    usual = cli.usual_check(arguments)
    if usual is not None:
        assert vars(usual) == argparse_reading(arguments)


def test_a_usual_run_does_not_import_argparse(write, tmp_path) -> None:
    import sys

    from helpers import run

    write("bug.py", "import torch\ntorch.zeros(1).to('auto')\n")
    script = "import sys\nfrom devicelint.cli import main\ncode = main(sys.argv[1:])\nprint(code, 'argparse' in sys.modules)\n"
    usual = run(sys.executable, "-c", script, "check", "--no-cache", "--files", "bug.py", cwd=tmp_path)
    assert usual.stdout.splitlines()[-1] == "1 False", usual.stderr
    other = run(sys.executable, "-c", script, "check", "--no-cache", "--select", "DEV", "bug.py", cwd=tmp_path)
    assert other.stdout.splitlines()[-1] == "1 True", other.stderr
