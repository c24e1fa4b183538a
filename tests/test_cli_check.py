"""``devicelint check``: the real command on real files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import devicelint, devicelint_json, flake8

BUGGY = '''\
import torch


def load(batch, device):
    device = "auto" if device == "cuda" else device
    return batch.to(device)
'''

TWO_RULES = '''\
import torch


def load(batch, device, other="balanced"):
    device = "auto" if device == "cuda" else device
    batch.to(other)
    return batch.to(device)
'''


def test_clean_file_exits_0(write) -> None:
    path = write("ok.py", "import torch\n\ndef f(x):\n    return x.to('cuda')\n")
    result = devicelint("check", path)
    assert result.returncode == 0
    assert result.stdout == "All checks passed!\n"


def test_findings_exit_1_with_text_lines_and_summary(write) -> None:
    path = write("bug.py", BUGGY)
    result = devicelint("check", path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f'{path}:5:14: DEV001 [*] inverted device conditional turns "cuda" into "auto", which reaches .to() '
        'on line 6; use "cuda" if device == "auto" else device'
    )
    assert lines[-1] == "Found 1 problem (1 fixable with `devicelint fix`)."


def test_json_format(write) -> None:
    path = write("bug.py", TWO_RULES)
    items = devicelint_json(path)
    assert [(i["code"], i["line"], i["column"], i["fixable"]) for i in items] == [
        ("DEV001", 5, 14, True),
        ("DEV002", 6, 14, False),
    ]
    first = items[0]
    assert set(first) >= {"filename", "line", "column", "end_line", "end_column", "code", "message", "fixable"}
    assert (first["end_line"], first["end_column"]) == (5, 52)
    assert first["filename"] == str(path)
    assert [e["replacement"] for e in first["fix"]["edits"]] == ['"cuda"', '"auto"']
    assert first["related"][0]["label"] == ".to()"


@pytest.mark.parametrize(
    ("options", "codes"),
    [
        ((), ["DEV001", "DEV002"]),
        (("--select", "DEV001"), ["DEV001"]),
        (("--select", "DEV00"), ["DEV001", "DEV002"]),
        (("--ignore", "DEV001"), ["DEV002"]),
        (("--select", "DEV002,DEV001", "--ignore", "DEV002"), ["DEV001"]),
        (("--ignore", "DEV"), []),
        (("--select", "dev002"), ["DEV002"]),
    ],
)
def test_select_and_ignore(write, options, codes) -> None:
    path = write("bug.py", TWO_RULES)
    assert [i["code"] for i in devicelint_json(*options, path)] == codes


@pytest.mark.parametrize(
    ("comment", "reported"),
    [
        ("# noqa", False),
        ("# noqa: DEV001", False),
        ("# noqa:DEV001", False),
        ("# NOQA: DEV", False),
        ("# noqa: E501,DEV001", False),
        ("# noqa: DEV002", True),
        ("# noqa : DEV002", False),  # flake8 reads this as a blanket noqa
        ("# not a noqa", True),
    ],
)
def test_noqa_agrees_with_flake8(write, comment, reported) -> None:
    path = write("bug.py", BUGGY.replace("else device\n", f"else device  {comment}\n"))
    codes = [i["code"] for i in devicelint_json(path)]
    assert ("DEV001" in codes) is reported
    assert ("DEV001" in flake8("--select", "DEV", path).stdout) is reported


def test_file_level_noqa(write) -> None:
    path = write("bug.py", "# flake8: noqa\n" + BUGGY)
    assert devicelint("check", path).returncode == 0


def test_syntax_error_is_dev900_and_the_run_goes_on(write, tmp_path) -> None:
    write("a_broken.py", 'device = "auto"\ndef f(:\n    pass\n')
    write("b_bug.py", BUGGY)
    items = devicelint_json(tmp_path)
    assert [(i["filename"].rsplit("/", 1)[-1], i["code"]) for i in items] == [
        ("a_broken.py", "DEV900"),
        ("b_bug.py", "DEV001"),
    ]
    assert items[0]["message"].startswith("syntax error:")
    assert items[0]["line"] == 2


def test_syntax_error_only_matters_in_files_the_prescan_keeps(write) -> None:
    """A broken file without any candidate string costs nothing and reports nothing."""
    path = write("broken.py", "def f(:\n")
    assert devicelint("check", path).returncode == 0


def test_syntax_error_with_candidate_is_reported(write) -> None:
    path = write("broken.py", 'x = "auto"\ndef f(:\n')
    result = devicelint("check", path)
    assert result.returncode == 1
    assert f"{path}:2:7: DEV900 syntax error:" in result.stdout


@pytest.mark.parametrize("content", ["", "# just a comment\n# and another one, mentioning 'auto'\n", "\n\n\n"])
def test_empty_and_comment_only_files_are_clean(write, content) -> None:
    path = write("empty.py", content)
    result = devicelint("check", path)
    assert (result.returncode, result.stdout) == (0, "All checks passed!\n")


def test_non_utf8_file_with_coding_cookie(write) -> None:
    source = (
        "# -*- coding: latin-1 -*-\n"
        "import torch\n"
        "def f(x, device):\n"
        '    d = "auto" if device == "cuda" else device; s = "é"\n'
        '    s = "é"; return x.to("auto" if device == "cuda:0" else device)\n'
    )
    path = write("latin.py", source.encode("latin-1"))
    items = devicelint_json(path)
    # Columns count characters, not bytes: "é" is one column, as flake8 prints it.
    assert [(i["code"], i["line"], i["column"]) for i in items] == [("DEV001", 5, 26)]
    assert f"{path}:5:26: DEV001" in flake8("--select", "DEV", path).stdout


def test_undecodable_file_is_dev900(write) -> None:
    path = write("bad.py", b'x = "auto"\ny = "\xff\xfe"\n')
    items = devicelint_json(path)
    assert [i["code"] for i in items] == ["DEV900"]
    assert "decode" in items[0]["message"]


def test_directory_without_python_files(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text('device = "auto"\n')
    result = devicelint("check", tmp_path)
    assert result.returncode == 0
    assert "no Python files" in result.stderr


def test_directories_skip_virtualenvs_and_build_output(write, tmp_path) -> None:
    write("pkg/mod.py", BUGGY)
    for skipped in (".git/hooks/x.py", "build/lib/x.py", "venv/lib/x.py", "node_modules/x.py", "__pycache__/x.py"):
        write(skipped, BUGGY)
    write("env/pyvenv.cfg", "home = /usr\n")
    write("env/lib/x.py", BUGGY)
    assert [i["filename"] for i in devicelint_json(tmp_path)] == [str(tmp_path / "pkg" / "mod.py")]


def test_explicit_file_in_excluded_directory_is_checked(write) -> None:
    path = write("build/x.py", BUGGY)
    assert devicelint("check", path).returncode == 1


def test_default_path_is_current_directory(write, tmp_path) -> None:
    write("bug.py", BUGGY)
    result = devicelint("check", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("bug.py:5:14: DEV001")


@pytest.mark.parametrize(
    "args",
    [
        ("check", "/nonexistent/path.py"),
        ("check", "--select", "E501", "."),
        ("check", "--format", "xml", "."),
        ("check", "--jobs", "many", "."),
        ("frobnicate",),
        (),
        ("rule", "DEV999"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args, tmp_path) -> None:
    result = devicelint(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()


def test_console_script_and_module_agree(write) -> None:
    path = write("bug.py", BUGGY)
    script = shutil.which("devicelint")
    assert script is not None, "the devicelint console script is installed"
    from helpers import run

    assert run(script, "check", path).stdout == devicelint("check", path).stdout


def test_version() -> None:
    from devicelint import __version__

    result = devicelint("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"devicelint {__version__}")


def test_rule_docs_have_the_four_sections() -> None:
    for code in ("DEV001", "DEV002", "DEV900"):
        result = devicelint("rule", code)
        assert result.returncode == 0
        for section in ("## What it does", "## Why is this bad?", "## Example", "## Fix"):
            assert section in result.stdout, (code, section)


def test_output_is_machine_readable_json(write) -> None:
    path = write("bug.py", BUGGY)
    result = devicelint("check", "--format", "json", path)
    assert result.returncode == 1
    assert isinstance(json.loads(result.stdout), list)


# Start-up (issue 16: one file in 0.1 s): what a run on one file must not import. Each of
# these is only needed by something that run does not do: a configuration file (tomllib),
# SARIF (urllib, pathlib), a process pool (concurrent.futures), a fix (devicelint.rewrite), a write
# (tempfile), help text (shutil), a notebook (devicelint.notebooks); and nothing needs the
# standard dataclasses (devicelint.dataclass makes the classes) with the inspect they import,
# typing (only type checkers read the annotations) or hashlib's OpenSSL bindings (_hashlib).
_NOT_FOR_ONE_FILE = (
    "tomllib", "pathlib", "urllib.parse", "concurrent.futures", "shutil", "tempfile", "devicelint.rewrite", "devicelint.notebooks",
    "dataclasses", "inspect", "typing", "_hashlib",
)
_IMPORTED = """
import sys
from devicelint.cli import main
code = main(sys.argv[1:])
print(code, *sorted(m for m in {names!r} if m in sys.modules))
"""


@pytest.mark.parametrize(
    ("pyproject", "imported"),
    [
        (None, ()),
        ('[tool.ruff]\nline-length = 99\n', ()),  # not ours: not parsed
        ("[tool.devicelint]\n", ("tomllib", "typing")),  # the check can fail: reading a configuration imports tomllib (and it typing)
    ],
)
def test_a_run_on_one_file_imports_only_what_it_needs(write, tmp_path, pyproject, imported) -> None:
    import sys

    from helpers import run

    if pyproject is not None:
        write("pyproject.toml", pyproject)
    write("bug.py", BUGGY)
    script = _IMPORTED.format(names=_NOT_FOR_ONE_FILE)
    result = run(sys.executable, "-c", script, "check", "--no-cache", "--files", "bug.py", cwd=tmp_path)
    assert result.stdout.splitlines()[-1].split() == ["1", *imported], result.stderr


@pytest.mark.parametrize("columns", ["40", "80", "132", "250"])
@pytest.mark.parametrize("command", [None, "check", "fix", "clean", "rule"])
def test_help_is_argparse_own_at_any_width(monkeypatch, columns, command) -> None:
    """cli._HelpFormatter looks the terminal width up only when help is printed; the help (and
    usage) must be what argparse's own formatter prints at that width."""
    import argparse

    from devicelint import cli

    monkeypatch.setenv("COLUMNS", columns)
    ours = cli.build_parser(command)
    monkeypatch.setattr(cli, "_HelpFormatter", argparse.RawDescriptionHelpFormatter)
    stock = cli.build_parser(command)
    if command is None:
        assert ours.format_help() == stock.format_help()
        return
    pick = [action for action in ours._actions if isinstance(action, argparse._SubParsersAction)][0]
    stock_pick = [action for action in stock._actions if isinstance(action, argparse._SubParsersAction)][0]
    assert pick.choices[command].prog == f"devicelint {command}"
    assert pick.choices[command].format_help() == stock_pick.choices[command].format_help()
    assert pick.choices[command].format_usage() == stock_pick.choices[command].format_usage()


_COLLECTIONS = """
import gc, sys
from devicelint.cli import GC_THRESHOLDS, main
seen = []
gc.callbacks.append(lambda phase, info: phase == "start" and seen.append(gc.get_threshold()))
before = gc.get_threshold()
code = main(sys.argv[1:])
print(code, before == gc.get_threshold() != GC_THRESHOLDS, GC_THRESHOLDS in seen)
"""


def test_a_run_collects_with_its_thresholds_and_puts_them_back(write, tmp_path) -> None:
    """The collector runs less often during a run (start-up cost), and the caller's
    thresholds are back afterwards (main may be called in a longer-lived process)."""
    import sys

    from helpers import run

    for index in range(300):  # enough objects kept (results, the cache of modules) for the collector to run
        write(f"m{index}.py", BUGGY)
    result = run(sys.executable, "-c", _COLLECTIONS, "check", "--no-cache", "-j1", ".", cwd=tmp_path)
    assert result.stdout.splitlines()[-1].split() == ["1", "True", "True"], result.stderr


ONE_BUG = "import torch\nx = torch.zeros(2)\nx.to('auto')\n"


@pytest.mark.parametrize("command", [[sys.executable, "-m", "devicelint"], [str(Path(sys.executable).with_name("devicelint"))]])
def test_the_process_ends_with_its_output_written_and_its_status(tmp_path: Path, command: list[str]) -> None:
    """The console script and ``python -m devicelint`` end without the interpreter's
    teardown (os._exit): what was printed still reaches a file, and the status is main()'s."""
    if not Path(command[0]).exists():
        pytest.skip("no devicelint script next to this Python")
    for index in range(300):
        (tmp_path / f"bug{index}.py").write_text(ONE_BUG)
    with open(tmp_path / "out.txt", "w") as out:
        status = subprocess.run([*command, "check", "--no-cache", "."], cwd=tmp_path, stdout=out, stderr=subprocess.PIPE, text=True).returncode
    lines = (tmp_path / "out.txt").read_text().splitlines()
    assert status == 1
    assert len([line for line in lines if " DEV002 " in line]) == 300
    assert lines[-1] == "Found 300 problems."


def test_a_reader_that_goes_away_is_no_error(tmp_path: Path) -> None:
    for index in range(2000):
        (tmp_path / f"bug{index}.py").write_text(ONE_BUG)
    process = subprocess.Popen(
        [sys.executable, "-m", "devicelint", "check", "--no-cache", "."], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # as `| head -1` does
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) in (0, 1)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


def test_an_unknown_option_is_the_command_s_usage_error(tmp_path: Path) -> None:
    """The command's own parser reads its arguments (cli.main): its usage and name in the error."""
    result = devicelint("check", "--bogus", "x.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: devicelint check ")
    assert result.stderr.rstrip().endswith("devicelint check: error: unrecognized arguments: --bogus")
