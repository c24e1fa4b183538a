"""The reference tools on an interpreter without the ``reference`` extra: one line, exit 2.

``python -S`` starts the real interpreter without site-packages, so numpy, torch and
transformers cannot be imported (the same as an environment where only ``pip install .``
ran); devicelint itself comes from the source tree through PYTHONPATH. The slow test in
tests/test_fresh_venvs.py runs the same commands in a real venv made by ``pip install .``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ._support import REPO

TOOLS = ("devicelint.reference.qwen2_audio", "devicelint.reference.tiny")


def without_site_packages(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(REPO / "src")
    return subprocess.run(
        [sys.executable, "-S", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=60, check=False
    )


def test_site_packages_are_really_out_of_reach() -> None:
    result = without_site_packages("-c", "import numpy")
    assert result.returncode == 1 and "ModuleNotFoundError" in result.stderr


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("args", [["--help"], [], ["--model", "m", "--audio", "a.wav"], ["out-dir"]])
def test_reference_tool_without_the_extra_names_it_in_one_line(tool: str, args: list[str]) -> None:
    result = without_site_packages("-m", tool, *args)
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    line = result.stderr.strip()
    assert line.startswith(f"python -m {tool}: error: needs the 'reference' extra ("), line
    assert "not installed" in line and "pip install 'devicelint[reference]'" in line
    assert "torch" in line


def test_the_linter_itself_runs_without_the_extra(tmp_path) -> None:
    """The same interpreter runs ``devicelint check`` (torch is not the linter's business)."""
    bug = tmp_path / "bug.py"
    bug.write_text('import torch\ntorch.device("auto")\n')
    result = without_site_packages("-m", "devicelint", "check", "--isolated", str(bug))
    assert result.returncode == 1, result.stderr
    assert "DEV002" in result.stdout
