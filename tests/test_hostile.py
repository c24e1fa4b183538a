"""Hostile input (issue 14): one bad file never costs the rest of the run, and nothing is
written where it must not be. Every test runs the real CLI / flake8 / libcst on real files."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ROOT, devicelint, flake8, run

from devicelint.analysis import DEFAULT_SETTINGS

BUG = 'import torch\n\n\ndef f(device):\n    device = "auto" if device == "cuda" else device\n    return torch.zeros(1).to(device)\n'
FIXED = BUG.replace('"auto" if device == "cuda"', '"cuda" if device == "auto"')


def deep_shapes() -> dict[str, str]:
    """Valid Python that made the analysis recurse past the limit (each also holds a bug)."""
    tail = 'torch.device(d)\n'
    return {
        "elif400.py": "import torch\ndef f(x, d):\n    if x == 0:\n        d = 'auto'\n"
        + "".join(f"    elif x == {i}:\n        d = 'cpu'\n" for i in range(1, 400))
        + "    torch.device(d)\n",
        "plus1000.py": "import torch\nd = 'auto'\nx = " + "+".join(["a"] * 1000) + "\n" + tail,
        "not1000.py": "import torch\nd = 'auto'\nx = " + "not " * 1000 + "a\n" + tail,
        "attr1000.py": "import torch\nd = 'auto'\nx = a" + ".a" * 1000 + "\n" + tail,
        "selfpath900.py": "import torch\nclass C:\n    def f(self, device):\n"
        "        device = 'auto' if device == 'cuda' else device\n"
        "        self" + ".a" * 900 + " = device\n        self.d = device\n    def g(self, x):\n        x.to(self.d)\n",
    }


def cpython_limits() -> dict[str, str]:
    """Past CPython's own limits: the parser gives up (MemoryError, RecursionError)."""
    return {
        "elif10000.py": "import torch\ndef f(x, d):\n    if x == 0:\n        d = 'auto'\n"
        + "".join(f"    elif x == {i}:\n        d = 'cpu'\n" for i in range(1, 10000))
        + "    torch.device(d)\n",
        "not100000.py": "import torch\nd = 'auto'\nx = " + "not " * 100000 + "a\ntorch.device(d)\n",
        "plus100000.py": "import torch\nd = 'auto'\nx = " + "+".join(["a"] * 100000) + "\ntorch.device(d)\n",
    }


def make(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def by_file(stdout: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in json.loads(stdout):
        found.setdefault(Path(item["filename"]).name, []).append(item["code"])
    return found


# --- crashes that lost the whole run ------------------------------------------------------


def test_prescan_is_linear_on_one_long_line() -> None:
    """8,000 "auto" strings on one line (64 KB) took 30 s: one lexing pass per candidate."""
    text = "x = [" + ", ".join(['"auto"'] * 8000) + "]\n"
    started = time.perf_counter()
    assert len(DEFAULT_SETTINGS.prescan.candidates(text)) == 8000
    assert time.perf_counter() - started < 1.0


@pytest.mark.slow
def test_deep_input_is_analysed_and_never_ends_the_run(tmp_path: Path) -> None:
    """RecursionError was "internal error", exit 2, JSON empty. Now deep but valid code is
    analysed on a deep stack, and what CPython itself refuses is that file's DEV900."""
    root = make(tmp_path / "t", {**deep_shapes(), **cpython_limits(), "ok.py": BUG})
    result = devicelint("check", "--jobs", "1", "--format", "json", ".", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    found = by_file(result.stdout)
    assert found["ok.py"] == ["DEV001"] and found["selfpath900.py"] == ["DEV001"]
    for name in ("elif400.py", "plus1000.py", "not1000.py", "attr1000.py"):
        assert found[name] == ["DEV002"], name
    for name in cpython_limits():
        assert found[name] == ["DEV900"], name
    messages = [i["message"] for i in json.loads(result.stdout) if i["code"] == "DEV900"]
    assert all("too deeply nested or too complex" in m for m in messages), messages


def test_fix_with_deep_input_reports_and_writes_only_what_it_can(tmp_path: Path) -> None:
    limits = cpython_limits()
    root = make(tmp_path / "t", {**deep_shapes(), **limits, "ok.py": BUG})
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    result = devicelint("fix", "--jobs", "1", ".", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr
    assert "fixed ok.py (1 problem)" in result.stdout and "fixed selfpath900.py (1 problem)" in result.stdout
    assert (root / "ok.py").read_text() == FIXED
    for name in limits:
        assert (root / name).read_bytes() == before[name], name  # DEV900: never written
        assert f"{name}:1:1: DEV900" in result.stdout


def test_flake8_plugin_never_raises_on_deep_input(tmp_path: Path) -> None:
    """The same files made the plugin raise, which ends flake8's whole run. (Real flake8 cannot
    show it on these shapes: its own pyflakes fails on them first, so the plugin is called as
    flake8 calls it, with the tree flake8 parsed.)"""
    import ast

    from devicelint.flake8_plugin import DeviceLintChecker

    root = make(tmp_path / "t", deep_shapes())
    for path in sorted(root.iterdir()):
        text = path.read_text()
        tree = ast.parse(text)  # flake8 parses before the plugins run
        results = list(DeviceLintChecker(tree, text.splitlines(keepends=True), str(path)).run())
        codes = [message.split()[0] for _, _, message, _ in results]
        assert codes == (["DEV001"] if path.name == "selfpath900.py" else ["DEV002"]), (path.name, results)


def test_libcst_codemod_skips_deep_input_with_one_line(tmp_path: Path) -> None:
    root = make(tmp_path / "t", {"plus1000.py": deep_shapes()["plus1000.py"], "ok.py": BUG})
    result = run(sys.executable, "-P", "-m", "libcst.tool", "codemod", "-x",
                 "devicelint.codemod.FixInvertedDeviceConditional", "--no-format", "-j", "1", ".", cwd=root)  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 0
    assert (root / "ok.py").read_text() == FIXED


def test_hostile_notebook_json_is_that_notebooks_dev900(tmp_path: Path) -> None:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ['device = "auto"\n', "import torch\n", "torch.device(device)\n"]}  # fmt: skip
    nested = '{"cells": [' + json.dumps(cell) + '], "metadata": {"x": ' + "[" * 2000 + "]" * 2000 + "}}"
    digits = '{"cells": [' + json.dumps(cell) + '], "metadata": {"x": ' + "9" * 5000 + "}}"
    root = make(tmp_path / "t", {"nested.ipynb": nested, "digits.ipynb": digits, "ok.py": BUG})
    for command in (("check",), ("fix", "--check")):
        result = devicelint(*command, "--jobs", "1", ".", cwd=root)
        assert "internal error" not in result.stderr and result.returncode == 1, result.stderr
        assert "nested.ipynb:1:1: DEV900 notebook JSON is nested too deeply" in result.stdout
        assert "digits.ipynb:1:1: DEV900 notebook is not valid JSON" in result.stdout
    assert "ok.py:5:14: DEV001" in devicelint("check", ".", cwd=root).stdout


def test_file_names_that_are_not_utf8_in_every_format(tmp_path: Path) -> None:
    """--format sarif and -o raised UnicodeEncodeError (after -o had truncated the old report)."""
    root = tmp_path / "t"
    root.mkdir()
    (root / os.fsdecode(b"caf\x87.py")).write_text(BUG)
    (root / "report.sarif").write_text("old report\n")
    sarif = devicelint("check", "--format", "sarif", "-o", "report.sarif", ".", cwd=root)
    assert sarif.returncode == 1, sarif.stderr
    log = json.loads((root / "report.sarif").read_text())
    assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "caf%87.py"
    for fmt in ("text", "json", "github"):
        result = devicelint("check", "--format", fmt, ".", cwd=root)
        assert result.returncode == 1 and "Traceback" not in result.stderr, (fmt, result.stderr)
    assert devicelint("check", ".", cwd=root).stdout.startswith("caf\\x87.py:5:14: DEV001")


# --- writes where they must not be -----------------------------------------------------------


def test_a_file_named_like_an_option_never_receives_the_report(tmp_path: Path) -> None:
    """`devicelint check *.py` with a file named --output-file=setup.py overwrote setup.py."""
    root = make(tmp_path / "t", {"setup.py": "from setuptools import setup\n", "--output-file=setup.py": BUG, "-osetup.py": BUG})
    names = sorted(p.name for p in root.iterdir())  # what the shell's *.py expands to
    for args in (names, ["--files", "--", *names]):
        result = devicelint("check", *args, cwd=root)
        assert (root / "setup.py").read_text() == "from setuptools import setup\n"
        if args[0] == "--files":  # the hook's form: "--" ends the options
            assert result.returncode == 1 and result.stdout.count("DEV001") == 2, result.stderr
        else:
            assert result.returncode == 2 and "refusing to overwrite a Python file" in result.stderr


def test_pre_commit_hooks_end_options_before_file_names() -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert all(hook["args"] == ["--"] for hook in hooks)


def test_the_report_never_replaces_a_checked_file(tmp_path: Path) -> None:
    root = make(tmp_path / "t", {"a.py": BUG, "b.py": BUG, "notes.txt": BUG})
    result = devicelint("check", "-o", "a.py", "a.py", "b.py", cwd=root)
    assert result.returncode == 2 and (root / "a.py").read_text() == BUG
    result = devicelint("check", "-o", "notes.txt", "notes.txt", "b.py", cwd=root)
    assert result.returncode == 2 and "being checked" in result.stderr and (root / "notes.txt").read_text() == BUG


def test_fix_files_with_an_empty_name_fixes_nothing(tmp_path: Path) -> None:
    """`fix --files ""` treated "" as "." and rewrote the whole tree."""
    root = make(tmp_path / "t", {"a.py": BUG, "sub/b.py": BUG})
    result = devicelint("fix", "--files", "", cwd=root)
    assert result.returncode == 2 and "'': error: empty path" in result.stderr
    assert (root / "a.py").read_text() == (root / "sub" / "b.py").read_text() == BUG


def test_fix_does_not_follow_links_out_of_the_tree(tmp_path: Path) -> None:
    outside = make(tmp_path / "outside", {"lib.py": BUG, "pkg/mod.py": BUG})
    root = make(tmp_path / "tree", {"own.py": BUG, "inner/x.py": BUG})
    (root / "link.py").symlink_to(outside / "lib.py")
    (root / "pkglink").symlink_to(outside / "pkg")
    (root / "inner_link.py").symlink_to(root / "inner" / "x.py")  # stays inside: fixed
    result = devicelint("fix", "--jobs", "1", ".", cwd=root)
    assert result.returncode == 2
    assert "link.py: error: not fixed: reached through a symbolic link that leads out of the tree" in result.stderr
    assert "pkglink/mod.py: error: not fixed" in result.stderr
    assert (outside / "lib.py").read_text() == (outside / "pkg" / "mod.py").read_text() == BUG
    assert (root / "own.py").read_text() == (root / "inner" / "x.py").read_text() == FIXED
    assert "not fixable" not in result.stdout and "2 fixable problems not fixed" in result.stdout
    explicit = devicelint("fix", "link.py", cwd=root)
    assert explicit.returncode == 2 and (outside / "lib.py").read_text() == BUG


def test_fix_leaves_hard_links_intact(tmp_path: Path) -> None:
    root = make(tmp_path / "t", {"a.py": BUG})
    os.link(root / "a.py", root / "b.py")
    result = devicelint("fix", ".", cwd=root)
    assert result.returncode == 2 and "has 2 hard links" in result.stderr
    assert (root / "a.py").read_text() == (root / "b.py").read_text() == BUG
    assert os.stat(root / "a.py").st_ino == os.stat(root / "b.py").st_ino
    assert devicelint("fix", "--check", ".", cwd=root).returncode == 1  # consistent: still to fix


EDIT_BETWEEN_READ_AND_RENAME = '''\
import os, tempfile
_real = tempfile.mkstemp
def _mkstemp(*args, **kwargs):
    for name in os.environ["DEVICELINT_TEST_EDIT"].split(","):
        with open(name, "a") as handle:
            handle.write("# the user's edit\\n")
    return _real(*args, **kwargs)
tempfile.mkstemp = _mkstemp
'''


def test_an_edit_made_while_fixing_is_never_lost(tmp_path: Path) -> None:
    root = make(tmp_path / "t", {"a.py": BUG})
    hooks = make(tmp_path / "hooks", {"sitecustomize.py": EDIT_BETWEEN_READ_AND_RENAME})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hooks), *filter(None, [os.environ.get("PYTHONPATH")])]), "DEVICELINT_TEST_EDIT": str(root / "a.py")}
    result = subprocess.run([sys.executable, "-m", "devicelint", "fix", "a.py"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2 and "changed on disk while it was being fixed" in result.stderr
    assert (root / "a.py").read_text() == BUG + "# the user's edit\n"
    assert not [p for p in root.iterdir() if p.name.startswith(".devicelint-")]


@pytest.mark.parametrize("encoding", ["cp932", "big5", "iso2022_jp", "utf-7"])
def test_fix_changes_only_the_literals_bytes(tmp_path: Path, encoding: str) -> None:
    """cp932 comment bytes \\x87\\x90 came back as \\x81\\xe0: the file was re-encoded whole."""
    # Bytes that decode but do not come back the same when the text is encoded again.
    comment = {
        "cp932": b"# \x87\x90 \x82\xa0\n",  # NEC special: encodes back as \x81\xe0
        "big5": b"# \xa2\xcc\n",  # a duplicate code: encodes back as \xa4\x51
        "iso2022_jp": b'# \x1b$B$"\x1b(B\x1b(B\n',  # a redundant shift back to ASCII
        "utf-7": b"# +AGE-\n",  # "a" written in base64
    }[encoding]
    data = f"# -*- coding: {encoding} -*-\n".encode() + comment + BUG.encode(encoding) + comment
    root = make(tmp_path / "t", {"a.py": data})
    result = devicelint("fix", "a.py", cwd=root)
    after = (root / "a.py").read_bytes()
    if after == data:  # refused: said so, nothing changed
        assert result.returncode == 2 and "cannot be written in the file's encoding" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert after == data.replace(b'"auto" if device == "cuda"', b'"cuda" if device == "auto"')
    assert encoding in ("iso2022_jp", "utf-7") or after != data  # the stateless ones are fixed


INTERRUPT_AT_RENAME = '''\
import os, signal, multiprocessing
# Ctrl-C as a terminal sends it: a shell's background job starts with SIGINT ignored, and
# the run must see the signal whatever started the test.
signal.signal(signal.SIGINT, signal.default_int_handler)
_real = os.replace
_calls = 0
def _replace(src, dst, *args, **kwargs):
    global _calls
    result = _real(src, dst, *args, **kwargs)
    if os.fspath(dst).endswith(".py"):
        _calls += 1
        if _calls == int(os.environ["DEVICELINT_TEST_AT"]):
            main = os.getppid() if multiprocessing.parent_process() is not None else os.getpid()
            os.kill(main, getattr(signal, os.environ["DEVICELINT_TEST_SIGNAL"]))
    return result
os.replace = _replace
'''


@pytest.mark.parametrize(("jobs", "count", "signame"), [(1, 30, "SIGINT"), (1, 30, "SIGTERM"), (2, 120, "SIGINT")])
def test_an_interrupted_fix_lists_what_it_wrote_and_leaves_no_temp_file(tmp_path: Path, jobs: int, count: int, signame: str) -> None:
    root = make(tmp_path / "t", {f"m{i:03}.py": BUG for i in range(count)})
    hooks = make(tmp_path / "hooks", {"sitecustomize.py": INTERRUPT_AT_RENAME})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hooks), *filter(None, [os.environ.get("PYTHONPATH")])]), "DEVICELINT_TEST_AT": "5", "DEVICELINT_TEST_SIGNAL": signame}
    result = subprocess.run([sys.executable, "-m", "devicelint", "fix", "--jobs", str(jobs), "."], cwd=root, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 128 + getattr(signal, signame), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    rewritten = sorted(p.name for p in root.glob("*.py") if p.read_text() == FIXED)
    listed = sorted(line.split()[1] for line in result.stdout.splitlines() if line.startswith("fixed "))
    assert rewritten and len(rewritten) < count
    assert listed == rewritten
    assert f"interrupted; {len(rewritten)} file" in result.stderr
    assert not [p for p in root.iterdir() if p.name.startswith(".devicelint-")]


def test_codemod_keeps_the_last_carriage_return(tmp_path: Path) -> None:
    """libcst dropped the final \\r of a CR-only file: the codemod now leaves such a file alone."""
    cr = BUG.replace("\n", "\r").encode()
    root = make(tmp_path / "t", {"cr.py": cr})
    result = run(sys.executable, "-P", "-m", "libcst.tool", "codemod", "-x",
                 "devicelint.codemod.FixInvertedDeviceConditional", "--no-format", "-j", "1", ".", cwd=root)  # fmt: skip
    assert (root / "cr.py").read_bytes() == cr
    assert "libcst cannot write this file back byte for byte" in result.stderr
    assert devicelint("fix", "cr.py", cwd=root).returncode == 0
    assert (root / "cr.py").read_bytes() == FIXED.replace("\n", "\r").encode()


# --- hangs and memory ------------------------------------------------------------------------


def test_special_files_are_never_read(tmp_path: Path) -> None:
    """A FIFO .gitignore or x.py blocked forever; a .gitignore linked to /dev/zero read until OOM."""
    root = make(tmp_path / "t", {"ok.py": BUG, "sub/ok2.py": BUG})
    (root / ".git").mkdir()
    os.mkfifo(root / ".gitignore")
    (root / "sub" / ".gitignore").symlink_to("/dev/zero")
    os.mkfifo(root / "x.py")
    result = devicelint("check", ".", "x.py", cwd=root)  # run() has a timeout: a hang fails
    assert result.returncode == 1, result.stderr
    assert "x.py:1:1: DEV900 not a regular file" in result.stdout
    assert "ok.py:5:14: DEV001" in result.stdout and "ok2.py:5:14: DEV001" in result.stdout


def test_a_file_over_the_size_limit_is_skipped_with_a_message(tmp_path: Path) -> None:
    big = "x = [" + ", ".join(['"auto"'] * 700_000) + "]\n"  # 5.6 MB on one line
    root = make(tmp_path / "t", {"big.py": big, "ok.py": BUG})
    started = time.perf_counter()
    result = devicelint("check", ".", cwd=root)
    assert time.perf_counter() - started < 20
    assert "big.py:1:1: DEV900 file too large to check (5.3 MiB; the limit is 4 MiB)" in result.stdout
    assert "ok.py:5:14: DEV001" in result.stdout


def test_job_counts_are_bounded() -> None:
    """--jobs 300 forked 301 processes for 64 files; --jobs 100000 hung under a process limit."""
    from devicelint.runner import worker_count

    assert worker_count(300, 64) == 8
    assert worker_count(100_000, 10_000) <= 4 * (os.cpu_count() or 1)
    assert worker_count(0, 64) >= 1


def test_sigterm_to_the_parent_leaves_no_worker_behind(tmp_path: Path) -> None:
    """`timeout 1 devicelint check .` left the pool's workers blocked forever."""
    marker = f"devicelint-test-{os.getpid()}-{time.time_ns()}"
    root = make(tmp_path / "t", {f"m{i:04}.py": BUG * 20 for i in range(1500)})
    env = {**os.environ, "DEVICELINT_TEST_MARKER": marker}
    process = subprocess.Popen([sys.executable, "-m", "devicelint", "check", "--jobs", "2", "."], cwd=root, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    time.sleep(1.5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    # 143: handled (the run takes ~10 s); -15: the signal came before devicelint's handler was set
    assert process.returncode in (143, -signal.SIGTERM), stderr
    deadline = time.monotonic() + 20
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_with(marker) == []
    assert b"Traceback" not in stderr


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


# --- output and exit codes ---------------------------------------------------------------------


def test_names_are_escaped_in_every_format(tmp_path: Path) -> None:
    """A newline in a name injected GitHub ::error commands; ANSI escapes passed through."""
    root = tmp_path / "t"
    root.mkdir()
    (root / "a\n::error file=x::forged.py").write_text(BUG)
    (root / "\x1b[31mred.py").write_text(BUG)
    github = devicelint("check", "--format", "github", ".", cwd=root)
    assert all(line.startswith("::error file=") for line in github.stdout.splitlines())
    assert len(github.stdout.splitlines()) == 2
    assert "forged" in github.stdout and not any(line.startswith("::error file=x") for line in github.stdout.splitlines())
    text = devicelint("check", ".", cwd=root)
    assert "\x1b" not in text.stdout and "\\x1b[31mred.py:5:14: DEV001" in text.stdout
    assert "a\\n::error file=x::forged.py:5:14" in text.stdout


@pytest.mark.skipif(os.name != "posix", reason="permission bits")
def test_a_read_only_files_finding_is_not_called_unfixable(tmp_path: Path) -> None:
    root = make(tmp_path / "t", {"ro.py": BUG})
    (root / "ro.py").chmod(stat.S_IRUSR)
    result = devicelint("fix", "ro.py", cwd=root)
    assert result.returncode == 2 and "cannot write" in result.stderr
    assert result.stdout.endswith("1 fixable problem not fixed (see the errors above).\n"), result.stdout
    assert "not fixable" not in result.stdout


def test_fix_check_fails_on_a_file_it_cannot_parse(tmp_path: Path) -> None:
    """`fix --check` exited 0 (JSON []) on an unparsable file."""
    root = make(tmp_path / "t", {"broken.py": 'device = "auto"\ndef f(:\n'})
    result = devicelint("fix", "--check", "--format", "json", ".", cwd=root)
    assert result.returncode == 1
    assert [i["code"] for i in json.loads(result.stdout)] == ["DEV900"]
    assert devicelint("fix", "--check", ".", cwd=root).returncode == 1


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"# -*- coding: nosuchcodec -*-\n" + BUG.encode(), "1:1"),
        (BUG.encode() + b"# caf\xe9\n", "7:6"),
        (b"# caf\xe9\n" + BUG.encode(), "1:6"),  # line 1: the exact byte, not 1:1
        (b"import os\n# \xff\n" + BUG.encode(), "2:3"),
    ],
)
def test_bytes_that_do_not_decode_are_dev900_in_the_cli_and_flake8(tmp_path: Path, data: bytes, where: str) -> None:
    """The CLI said DEV900, flake8 DEV001 (it falls back to latin-1); line 1-2 were 1:1."""
    root = make(tmp_path / "t", {"bad.py": data})
    cli = devicelint("check", "bad.py", cwd=root)
    assert cli.stdout.startswith(f"bad.py:{where}: DEV900"), cli.stdout
    plugin = flake8("--select", "DEV", "bad.py", cwd=root)
    assert plugin.stdout.startswith(f"bad.py:{where}: DEV900"), plugin.stdout + plugin.stderr
    assert "DEV001" not in plugin.stdout


@pytest.mark.parametrize("encoding", ["utf-16", "cp500"])
def test_utf16_and_ebcdic_files_do_not_pass(tmp_path: Path, encoding: str) -> None:
    """They reported "All checks passed!" while holding the bug: Python cannot read them either."""
    root = make(tmp_path / "t", {"odd.py": BUG.encode(encoding)})
    result = devicelint("check", "odd.py", cwd=root)
    assert result.returncode == 1 and "DEV900 cannot decode source" in result.stdout, result.stdout


def test_a_broken_pyproject_never_breaks_flake8(tmp_path: Path) -> None:
    """A malformed pyproject.toml above, or select = "DEV", made every flake8 run exit 2."""
    for content in ("[tool.devicelint\n", '[tool.devicelint]\nselect = "DEV"\n'):
        root = make(tmp_path / str(len(content)), {"pyproject.toml": content, "pkg/a.py": "x = 1\n"})
        result = subprocess.run([sys.executable, "-m", "flake8", "--select", "E501", "a.py"], cwd=root / "pkg",
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stderr.count("devicelint: warning:") == 1


def test_python_m_devicelint_does_not_import_the_checked_repository(tmp_path: Path) -> None:
    """A difflib.py in the checked folder ran under `python -m devicelint`."""
    root = make(tmp_path / "t", {"difflib.py": "open('IMPORTED', 'w').close()\n", "a.py": BUG, "json.py": "open('IMPORTED', 'w').close()\n"})
    result = devicelint("fix", "--diff", ".", cwd=root)
    assert result.returncode == 1, result.stderr
    assert not (root / "IMPORTED").exists()
    readme = (ROOT / "README.md").read_text()
    assert "python -P -m libcst.tool" in readme
