"""Issue 13 §3: command-line behaviour (list flags, missing paths, notebooks, exit codes, codemod)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from helpers import devicelint, run

nbformat = pytest.importorskip("nbformat")

BUG = 'import torch\n\n\ndef f(device):\n    device = "auto" if device == "cuda" else device\n    return torch.zeros(1).to(device)\n'


def make(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def test_repeated_list_flags_add_up(tmp_path: Path) -> None:
    """`--extend-exclude a --extend-exclude b` kept only b."""
    make(tmp_path, {"a/x.py": BUG, "b/y.py": BUG, "c/z.py": BUG + 'torch.device("gpu")\n'})
    result = devicelint("check", "--format", "json", "--extend-exclude", "a", "--extend-exclude", "b", ".", cwd=tmp_path)
    assert {Path(i["filename"]).parts[0] for i in json.loads(result.stdout)} == {"c"}
    both = devicelint("check", "--format", "json", "--select", "DEV002", "--select", "DEV001", ".", cwd=tmp_path)
    assert {i["code"] for i in json.loads(both.stdout)} == {"DEV001", "DEV002"}
    help_text = " ".join(devicelint("check", "--help").stdout.split())
    assert "comma separated, and the flag may be repeated" in help_text


def test_help_states_the_exit_codes() -> None:
    for args in ((), ("check",), ("fix",)):
        text = devicelint(*args, "--help").stdout
        assert "exit codes:" in text and "0  nothing found" in text and "2  usage or configuration error" in text


def test_a_missing_path_is_an_error_for_that_path_only(tmp_path: Path) -> None:
    """`check src missing.py` printed nothing for src."""
    make(tmp_path, {"src/a.py": BUG})
    result = devicelint("check", "src", "missing.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "missing.py: error: no such file or directory" in result.stderr
    assert "src/a.py:5:14: DEV001" in result.stdout


def test_codemod_configuration_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    make(tmp_path, {"pyproject.toml": '[tool.devicelint]\nselect = "DEV"\n', "a.py": BUG, "b.py": BUG})
    result = run(sys.executable, "-P", "-m", "libcst.tool", "codemod", "-x",
                 "devicelint.codemod.FixInvertedDeviceConditional", "--no-format", "-j", "1", ".", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == ["devicelint: error: pyproject.toml: [tool.devicelint] 'select' must be a list of strings"]
    assert (tmp_path / "a.py").read_text() == BUG


def _notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# demo"),
        nbformat.v4.new_code_cell("import torch\nfrom transformers import AutoModel\ndevice = 'cuda'"),
        nbformat.v4.new_code_cell('device = "auto" if device == "cuda" else device'),
        nbformat.v4.new_code_cell('model = AutoModel.from_pretrained("x", device_map=device)'),
        nbformat.v4.new_code_cell("x = torch.ones(1).to(device)"),
    ]
    nbformat.write(nb, str(path))


def test_notebook_fix_note_names_the_cell(tmp_path: Path) -> None:
    """The note said "line 9" (of the joined cells) where the message said "line 1 of cell 4"."""
    _notebook(tmp_path / "nb.ipynb")
    (item,) = json.loads(devicelint("check", "--format", "json", "nb.ipynb", cwd=tmp_path).stdout)
    assert "device_map= on line 1 of cell 4" in item["message"]
    assert item["fix"]["note"].startswith("the fix moves the conditional to device_map= on line 1 of cell 4,")
    assert item["fix"]["applicability"] == "safe"


def test_a_notebook_that_cannot_be_fixed_is_not_nothing_to_fix(tmp_path: Path) -> None:
    _notebook(tmp_path / "nb.ipynb")
    raw = (tmp_path / "nb.ipynb").read_text()
    (tmp_path / "nb.ipynb").write_text(raw.replace('"cells": [', '"cells":  [', 1))  # a layout json.dumps cannot reproduce
    result = devicelint("fix", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 2 and "cannot reproduce the notebook's JSON layout" in result.stderr
    assert "Nothing to fix." not in result.stdout


def test_fix_diff_prints_a_summary_on_stderr(tmp_path: Path) -> None:
    make(tmp_path, {"a.py": BUG})
    result = devicelint("fix", "--diff", ".", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("--- a.py\n+++ a.py\n")
    assert result.stderr == "Would fix 1 problem in 1 file.\n"
