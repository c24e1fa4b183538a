"""The libcst front end, run by libcst's own CLI, against ``devicelint fix``.

    python -m libcst.tool codemod -x devicelint.codemod.FixInvertedDeviceConditional --no-format PATH

Both must rewrite exactly the same files to exactly the same bytes. The command runs through
``libcst.tool.main`` in this process (importing libcst's tool costs about a second per
process); ``test_codemod_on_a_single_file`` also runs it as a real subprocess.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, devicelint, in_process
from test_fix_cli import (
    BENIGN,
    BROKEN,
    BUGGY,
    BUGGY_FIXED,
    CLEAN,
    DEV002_ONLY,
    LATIN1,
    NOQA,
    TWO_BUGS,
    TWO_BUGS_FIXED,
    fingerprint,
    make,
)

CODEMOD = "devicelint.codemod.FixInvertedDeviceConditional"


def codemod(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m libcst.tool codemod ...`` through ``libcst.tool.main`` in this process."""
    from libcst.tool import main

    argv = ["codemod", "-x", CODEMOD, "--no-format", *map(str, args)]
    return in_process(lambda a: main("python -m libcst.tool", a), argv, cwd=cwd)


def codemod_process(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real ``python -m libcst.tool codemod ...`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "libcst.tool", "codemod", "-x", CODEMOD, "--no-format", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def transformed(result: subprocess.CompletedProcess[str]) -> int:
    match = re.search(r"Transformed (\d+) files? successfully", result.stderr)
    assert match, result.stderr
    return int(match.group(1))


def crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


QWEN = (ROOT / "fixtures" / "qwen2_audio" / "buggy_loader.py").read_bytes()
# The sharding-preserving fix: the conditional leaves __init__ and is written at device_map=.
QWEN_FIXED = QWEN.replace(b'        device = "auto" if device == "cuda" else device\n', b"").replace(
    b"self.model_path, device_map=self._device, local_files_only=True",
    b'self.model_path, device_map="auto" if self._device == "cuda" else self._device, local_files_only=True',
)
MIXED = b'import torch\r\n\n\r\ndef load(batch, device):\n    device = "auto" if device == "cuda" else device\r\n    return batch.to(device)\n'
MIXED_FIXED = b'import torch\r\n\n\r\ndef load(batch, device):\n    device = "cuda" if device == "auto" else device\r\n    return batch.to(device)\n'
TABS = b'import torch\n\n\ndef load(batch, device):\n\tdevice = "auto" if device == "cuda" else device\n\treturn batch.to(device)\n'
TABS_FIXED = b'import torch\n\n\ndef load(batch, device):\n\tdevice = "cuda" if device == "auto" else device\n\treturn batch.to(device)\n'
LATIN1_FIXED = LATIN1.replace('"auto" if device == "cuda"', '"cuda" if device == "auto"')

# name -> (content, expected content after the fix)
TREE: dict[str, tuple[bytes, bytes]] = {
    "pkg/__init__.py": (b"", b""),
    "pkg/bug.py": (BUGGY, BUGGY_FIXED),
    "pkg/two.py": (TWO_BUGS, TWO_BUGS_FIXED),
    "pkg/clean.py": (CLEAN, CLEAN),
    "pkg/benign.py": (BENIGN, BENIGN),
    "pkg/noqa.py": (NOQA, NOQA),
    "pkg/dev002.py": (DEV002_ONLY, DEV002_ONLY),
    "pkg/plain.py": (b"print('hello')\n", b"print('hello')\n"),
    "loaders/qwen.py": (QWEN, QWEN_FIXED),
    "enc/crlf.py": (crlf(BUGGY), crlf(BUGGY_FIXED)),
    "enc/bom.py": (b"\xef\xbb\xbf" + BUGGY, b"\xef\xbb\xbf" + BUGGY_FIXED),
    "enc/bom_crlf.py": (b"\xef\xbb\xbf" + crlf(TWO_BUGS), b"\xef\xbb\xbf" + crlf(TWO_BUGS_FIXED)),
    "enc/latin1.py": (LATIN1.encode("latin-1"), LATIN1_FIXED.encode("latin-1")),
    "enc/mixed.py": (MIXED, MIXED_FIXED),
    "enc/tabs.py": (TABS, TABS_FIXED),
}
CHANGED = sorted(name for name, (before, after) in TREE.items() if before != after)


def test_codemod_rewrites_exactly_what_devicelint_fix_rewrites(tmp_path) -> None:
    by_codemod, by_fix = tmp_path / "codemod", tmp_path / "fix"
    for tree in (by_codemod, by_fix):
        make(tree, {name: content for name, (content, _) in TREE.items()})
    before = {name: fingerprint(by_codemod / name) for name in TREE}

    result = codemod(".", cwd=by_codemod)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert transformed(result) == len(CHANGED)

    fix = devicelint("fix", ".", cwd=by_fix)
    assert fix.returncode == 1  # the DEV002 remains
    assert sorted(line.split()[1] for line in fix.stdout.splitlines() if line.startswith("fixed ")) == CHANGED

    for name, (_, expected) in TREE.items():
        assert (by_codemod / name).read_bytes() == (by_fix / name).read_bytes() == expected, name
        if name not in CHANGED:
            assert fingerprint(by_codemod / name) == before[name], f"{name} was written"


@pytest.mark.parametrize("run", [codemod, codemod_process], ids=["main", "process"])
def test_codemod_on_a_single_file(tmp_path, run) -> None:
    path = make(tmp_path, {"bug.py": BUGGY})["bug.py"]
    result = run(path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == BUGGY_FIXED
    again = run(path, cwd=tmp_path)
    assert again.returncode == 0 and transformed(again) == 0
    assert path.read_bytes() == BUGGY_FIXED


def test_codemod_leaves_benign_and_noqa_files_untouched(tmp_path) -> None:
    paths = make(tmp_path, {"benign.py": BENIGN, "noqa.py": NOQA, "clean.py": CLEAN, "dev002.py": DEV002_ONLY})
    before = {name: fingerprint(p) for name, p in paths.items()}
    result = codemod(".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert transformed(result) == 0
    assert {name: fingerprint(p) for name, p in paths.items()} == before


def test_codemod_skips_a_file_with_a_syntax_error_without_writing_it(tmp_path) -> None:
    paths = make(tmp_path, {"a_broken.py": BROKEN, "b_bug.py": BUGGY})
    before = fingerprint(paths["a_broken.py"])
    result = codemod(".", cwd=tmp_path)
    assert result.returncode == 1  # libcst counts the file it could not parse as a failure
    assert "a_broken.py" in result.stderr
    assert fingerprint(paths["a_broken.py"]) == before
    assert paths["b_bug.py"].read_bytes() == BUGGY_FIXED
    assert transformed(result) == 1


def test_codemod_keeps_the_file_mode(tmp_path) -> None:
    path = make(tmp_path, {"tool.py": b"#!/usr/bin/env python\n" + BUGGY})["tool.py"]
    os.chmod(path, 0o755)
    assert codemod(path, cwd=tmp_path).returncode == 0
    assert path.read_bytes() == b"#!/usr/bin/env python\n" + BUGGY_FIXED
    assert path.stat().st_mode & 0o777 == 0o755


def test_codemod_agrees_on_the_rule_fixtures(tmp_path) -> None:
    fixtures = ROOT / "fixtures" / "rules"
    shutil.copytree(fixtures, tmp_path / "codemod")
    shutil.copytree(fixtures, tmp_path / "fix")
    assert codemod(".", cwd=tmp_path / "codemod").returncode == 0
    devicelint("fix", ".", cwd=tmp_path / "fix")
    names = sorted(p.name for p in fixtures.glob("*.py"))
    changed = [n for n in names if (tmp_path / "fix" / n).read_bytes() != (fixtures / n).read_bytes()]
    assert changed and all(n.startswith(("dev001_", "dev002_")) for n in changed)
    for name in names:
        assert (tmp_path / "codemod" / name).read_bytes() == (tmp_path / "fix" / name).read_bytes(), name


@pytest.mark.parametrize("include_generated", [False, True])
def test_generated_files(tmp_path, include_generated: bool) -> None:
    """libcst skips files marked ``@generated`` unless told otherwise; devicelint fix does not."""
    content = b"# @generated by a tool\n" + BUGGY
    path = make(tmp_path, {"gen.py": content})["gen.py"]
    options = ["--include-generated"] if include_generated else []
    result = codemod(*options, path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = b"# @generated by a tool\n" + BUGGY_FIXED
    assert path.read_bytes() == (expected if include_generated else content)


def test_codemod_unsafe_fixes_argument(tmp_path) -> None:
    from test_fix_cli import UNSAFE_ONLY, UNSAFE_ONLY_FIXED

    path = make(tmp_path, {"unsafe.py": UNSAFE_ONLY})["unsafe.py"]
    result = codemod(path, cwd=tmp_path)
    assert result.returncode == 0 and transformed(result) == 0
    assert path.read_bytes() == UNSAFE_ONLY
    assert "1 fix available with --unsafe-fixes" in result.stderr
    result = codemod("--unsafe-fixes", path, cwd=tmp_path)
    assert result.returncode == 0 and transformed(result) == 1, result.stderr
    assert path.read_bytes() == UNSAFE_ONLY_FIXED
