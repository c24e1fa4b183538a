"""Jupyter notebooks: discovered, checked cell by cell through the same engine, reported with
the cell number, and fixed without touching anything but the changed cells' source."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import devicelint

nbformat = pytest.importorskip("nbformat")

INVERTED = 'device = "auto" if device == "cuda" else device'
CORRECTED = 'device = "cuda" if device == "auto" else device'


def _notebook(*cells: tuple[str, str], outputs: dict[int, list] | None = None, language: str = "python"):
    """An nbformat v4 notebook from (cell_type, source) pairs; outputs by 0-based cell index."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": language, "name": "python3"}
    nb.metadata["language_info"] = {"name": language, "version": "3.11.7"}
    for index, (kind, source) in enumerate(cells):
        if kind == "code":
            cell = nbformat.v4.new_code_cell(source, execution_count=index + 1)
            cell.outputs = [nbformat.from_dict(o) for o in (outputs or {}).get(index, [])]
        else:
            cell = nbformat.v4.new_markdown_cell(source)
        nb.cells.append(cell)
    return nb


OUTPUTS = {
    1: [{"output_type": "stream", "name": "stdout", "text": ["Température: 21°C\n", "ok\n"]}],
    2: [
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\n", "text/plain": ["<Figure>"]},
        }
    ],
}


def _write_with_nbformat(path, nb) -> bytes:
    nbformat.write(nb, str(path))
    return path.read_bytes()


def _model_notebook():
    return _notebook(
        ("markdown", "# Loading the model\nPick a device."),
        ("code", "%matplotlib inline\nimport torch\n!pip install -q transformers\ndevice = 'cuda'"),
        ("code", f"# choose the device\n{INVERTED}\nprint(device)"),
        ("code", "%%bash\necho 'device = \"auto\"' > /dev/null"),
        ("code", "x = torch.zeros(3)\nx = x.to(device)"),
        outputs=OUTPUTS,
    )


@pytest.fixture
def model_notebook(tmp_path):
    path = tmp_path / "model.ipynb"
    original = _write_with_nbformat(path, _model_notebook())
    return path, original


def test_finding_in_a_middle_cell_is_reported_with_its_cell(model_notebook) -> None:
    path, _ = model_notebook
    result = devicelint("check", path.name, cwd=path.parent)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        'model.ipynb:cell 3:2:10: DEV001 [*] inverted device conditional turns "cuda" into "auto", '
        'which reaches .to() on line 2 of cell 5; use "cuda" if device == "auto" else device'
    )
    assert lines[-1] == "Found 1 problem (1 fixable with `devicelint fix`)."


def test_json_has_the_cell_and_cell_relative_positions(model_notebook) -> None:
    path, _ = model_notebook
    (item,) = json.loads(devicelint("check", "--format", "json", path.name, cwd=path.parent).stdout)
    assert (item["filename"], item["cell"], item["line"], item["column"]) == ("model.ipynb", 3, 2, 10)
    assert [(e["line"], e["column"]) for e in item["fix"]["edits"]] == [(2, 10), (2, 30)]
    assert item["related"] == [{"line": 2, "column": 10, "end_line": 2, "end_column": 16, "cell": 5, "label": ".to()"}]


def test_github_and_sarif_use_the_notebook_and_name_the_cell(model_notebook) -> None:
    path, _ = model_notebook
    github = devicelint("check", "--format", "github", path.name, cwd=path.parent).stdout
    assert github.startswith(f"::error file={path},title=devicelint (DEV001)::model.ipynb:cell 3:2:10: DEV001 ")
    log = json.loads(devicelint("check", "--format", "sarif", path.name, cwd=path.parent).stdout)
    (result,) = log["runs"][0]["results"]
    assert result["message"]["text"].startswith("cell 3: inverted device conditional")
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "model.ipynb"
    assert result["properties"]["cell"] == 3
    assert result["relatedLocations"][0]["message"]["text"] == ".to() (cell 5)"


def test_fix_rewrites_only_that_cell_and_keeps_everything_else(model_notebook) -> None:
    path, original = model_notebook
    result = devicelint("fix", path.name, cwd=path.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("fixed model.ipynb (1 problem)")
    fixed = path.read_bytes()
    # Byte for byte: the only difference is the swapped line inside cell 3's source.
    assert fixed == original.replace(INVERTED.replace('"', '\\"').encode(), CORRECTED.replace('"', '\\"').encode())
    before, after = json.loads(original), json.loads(fixed)
    assert after["cells"][2]["source"] == ["# choose the device\n", CORRECTED + "\n", "print(device)"]
    for index in (0, 1, 3, 4):
        assert after["cells"][index] == before["cells"][index]
    assert after["cells"][2]["outputs"] == before["cells"][2]["outputs"]
    assert after["metadata"] == before["metadata"]
    # nbformat still reads it, and a second fix changes nothing.
    nbformat.validate(nbformat.reads(fixed.decode(), as_version=4))
    again = devicelint("fix", path.name, cwd=path.parent)
    assert (again.returncode, again.stdout) == (0, "Nothing to fix.\n")
    assert path.read_bytes() == fixed


def test_fix_diff_and_check_name_the_cell(model_notebook) -> None:
    path, original = model_notebook
    diff = devicelint("fix", "--diff", path.name, cwd=path.parent)
    assert diff.returncode == 1
    assert diff.stdout.splitlines()[:2] == ["--- model.ipynb:cell 3", "+++ model.ipynb:cell 3"]
    assert f"-{INVERTED}" in diff.stdout and f"+{CORRECTED}" in diff.stdout
    assert devicelint("fix", "--check", path.name, cwd=path.parent).returncode == 1
    assert path.read_bytes() == original


JUPYTER_WRITTEN = """{
 "cells": [
  {
   "cell_type": "code",
   "execution_count": 1,
   "id": "a1",
   "metadata": {},
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "Größe: 3 — ok ✓\\n"
     ]
    }
   ],
   "source": [
    "# Modèle à charger\\n",
    "import torch\\n",
    "device = 'cuda'"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": 2,
   "id": "b2",
   "metadata": {
    "tags": ["größe"]
   },
   "outputs": [],
   "source": [
    "device = \\"auto\\" if device == \\"cuda\\" else device  # ünïcode\\n",
    "torch.ones(2).to(device)"
   ]
  }
 ],
 "metadata": {
  "kernelspec": {
   "display_name": "Python 3 (ipykernel)",
   "language": "python",
   "name": "python3"
  },
  "language_info": {
   "name": "python"
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
"""


def test_hand_written_jupyter_layout_indent_1_non_ascii(tmp_path) -> None:
    """Jupyter writes indent=1, ensure_ascii=False, a final newline; this one also has an inline
    list (not json.dumps' layout) in a cell's metadata, so it only round-trips if left alone."""
    layout_exact = JUPYTER_WRITTEN.replace('"tags": ["größe"]', '"tags": [\n     "größe"\n    ]')
    path = tmp_path / "jupyter.ipynb"
    path.write_bytes(layout_exact.encode("utf-8"))
    result = devicelint("check", path.name, cwd=tmp_path)
    assert result.stdout.startswith("jupyter.ipynb:cell 2:1:10: DEV001 [*]")
    assert devicelint("fix", path.name, cwd=tmp_path).returncode == 0
    expected = layout_exact.replace('\\"auto\\" if device == \\"cuda\\"', '\\"cuda\\" if device == \\"auto\\"')
    assert path.read_bytes() == expected.encode("utf-8")


def test_layout_that_cannot_be_reproduced_is_not_written(tmp_path) -> None:
    path = tmp_path / "odd.ipynb"
    path.write_bytes(JUPYTER_WRITTEN.encode("utf-8"))  # the inline ["größe"] list: not json.dumps output
    result = devicelint("fix", path.name, cwd=tmp_path)
    assert result.returncode == 2
    assert "odd.ipynb: error: not fixed: cannot reproduce the notebook's JSON layout" in result.stderr
    assert path.read_bytes() == JUPYTER_WRITTEN.encode("utf-8")


@pytest.mark.parametrize(
    ("indent", "ensure_ascii", "trailing"),
    [(1, False, "\n"), (2, True, ""), (4, False, "\n"), (None, True, "")],
)
def test_other_layouts_round_trip(tmp_path, indent, ensure_ascii, trailing) -> None:
    nb = json.loads(JUPYTER_WRITTEN)
    nb["cells"][1]["source"] = "".join(nb["cells"][1]["source"])  # source as one string
    original = json.dumps(nb, indent=indent, ensure_ascii=ensure_ascii) + trailing
    path = tmp_path / "layout.ipynb"
    path.write_bytes(original.encode("utf-8"))
    assert devicelint("fix", path.name, cwd=tmp_path).returncode == 0
    nb["cells"][1]["source"] = nb["cells"][1]["source"].replace('"auto" if device == "cuda"', '"cuda" if device == "auto"')
    assert path.read_bytes().decode("utf-8") == json.dumps(nb, indent=indent, ensure_ascii=ensure_ascii) + trailing


def test_magics_keep_line_numbers_right(tmp_path) -> None:
    nb = _notebook(
        (
            "code",
            (
                "import torch\n%time x = 1\n!ls \\\n  -la\nfiles = !ls\nfor i in range(2):\n    %time y = i\n"
                "torch.zeros?\n"
                'label = ("%s"\n     % "x")\n'
                'torch.device("auto")'
            ),
        ),
    )
    path = tmp_path / "magics.ipynb"
    _write_with_nbformat(path, nb)
    result = devicelint("check", path.name, cwd=tmp_path)
    assert result.stdout.splitlines()[0].startswith("magics.ipynb:cell 1:11:14: DEV002")


def test_cell_magic_cell_is_skipped(tmp_path) -> None:
    nb = _notebook(("code", '%%writefile helper.py\nimport torch\ntorch.device("auto")'))
    path = tmp_path / "cellmagic.ipynb"
    _write_with_nbformat(path, nb)
    assert devicelint("check", path.name, cwd=tmp_path).returncode == 0


def test_noqa_in_a_cell(tmp_path) -> None:
    nb = _notebook(("code", "import torch\ndevice = 'cuda'"), ("code", f"{INVERTED}  # noqa: DEV001\ntorch.ones(1).to(device)"))
    path = tmp_path / "noqa.ipynb"
    original = _write_with_nbformat(path, nb)
    assert devicelint("check", path.name, cwd=tmp_path).returncode == 0
    assert devicelint("fix", path.name, cwd=tmp_path).returncode == 0
    assert path.read_bytes() == original


def test_broken_cell_is_dev900_and_the_other_cells_are_still_checked(tmp_path) -> None:
    nb = _notebook(
        ("code", "import torch\ntorch.device('gpu')"),
        ("code", "def broken(:\n    device = 'auto'"),
        ("code", "batch.to('auto')  # the cell alone: no torch import needed for .to()"),
    )
    path = tmp_path / "broken.ipynb"
    _write_with_nbformat(path, nb)
    items = json.loads(devicelint("check", "--format", "json", path.name, cwd=tmp_path).stdout)
    assert [(i["cell"], i["line"], i["code"]) for i in items] == [(1, 2, "DEV002"), (2, 1, "DEV900"), (3, 1, "DEV002")]


def test_invalid_json_notebook_is_dev900(tmp_path) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text('{"cells": [ {"source": "device = \'auto\'" ')
    result = devicelint("check", "--format", "json", path.name, cwd=tmp_path)
    (item,) = json.loads(result.stdout)
    assert item["code"] == "DEV900" and "not valid JSON" in item["message"]
    assert devicelint("fix", path.name, cwd=tmp_path).returncode == 1  # reported, never written


def test_non_python_notebook_is_skipped(tmp_path) -> None:
    nb = _notebook(("code", 'torch.device("auto")'), language="R")
    path = tmp_path / "r.ipynb"
    _write_with_nbformat(path, nb)
    assert devicelint("check", path.name, cwd=tmp_path).returncode == 0


def test_notebooks_are_discovered_and_checkpoints_skipped(tmp_path) -> None:
    nb = _notebook(("code", 'import torch\ntorch.device("auto")'))
    (tmp_path / "notebooks" / ".ipynb_checkpoints").mkdir(parents=True)
    _write_with_nbformat(tmp_path / "notebooks" / "a.ipynb", nb)
    _write_with_nbformat(tmp_path / "notebooks" / ".ipynb_checkpoints" / "a-checkpoint.ipynb", nb)
    items = json.loads(devicelint("check", "--format", "json", ".", cwd=tmp_path).stdout)
    assert [(i["filename"], i["cell"]) for i in items] == [("notebooks/a.ipynb", 1)]


def test_notebook_from_stdin_check_and_fix(model_notebook) -> None:
    path, original = model_notebook
    check = subprocess.run(
        [sys.executable, "-m", "devicelint", "check", "--stdin-filename", "nb.ipynb", "-"],
        input=original, capture_output=True, check=False,
    )  # fmt: skip
    assert check.stdout.decode().startswith("nb.ipynb:cell 3:2:10: DEV001")
    fix = subprocess.run(
        [sys.executable, "-m", "devicelint", "fix", "--stdin-filename", "nb.ipynb", "-"],
        input=original, capture_output=True, check=False,
    )  # fmt: skip
    assert fix.returncode == 0, fix.stderr
    devicelint("fix", path.name, cwd=path.parent)
    assert fix.stdout == path.read_bytes()


# --- IPython syntax, without subprocesses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "placeholders"),
    [
        ("x = 1\n", set()),
        ("%matplotlib inline\nx = 1\n", {0}),
        ("!pip install x\n", {0}),
        ("!ls \\\n  -la\nx = 1", {0, 1}),
        ("files = !ls\n", {0}),
        ("if x:\n    %time f()\n", {1}),
        ("obj?\n??obj\n", {0, 1}),
        ('s = """\n%d items\n"""\n!ls\n', {3}),  # inside a string: not a magic
        ('y = ("%s"\n     % z)\n!ls\n', {2}),  # a continued expression: Python's %
    ],
)
def test_python_view(source, placeholders) -> None:
    from devicelint.notebooks import python_view
    from devicelint.source import parse, split_lines

    view = python_view(source)
    assert view is not None
    code, lines = view
    assert set(lines) == placeholders
    assert len(split_lines(code)) == len(split_lines(source))
    parse(code)  # the Python view parses


def test_python_view_of_a_cell_magic_is_none() -> None:
    from devicelint.notebooks import python_view

    assert python_view("%%bash\nls\n") is None
    assert python_view("\n%%time\nx = 1\n") is None


# --- a notebook is fixed as its joined cells are: rule selection, unsafe fixes, moved fixes ------

GPU = 'x = x.to("gpu")'
GPU_FIXED = 'x = x.to("cuda")'
LOAD = 'y = torch.load(p, map_location="gpu")'
LOAD_FIXED = 'y = torch.load(p, map_location="cuda")'
SWAP_CELLS = (INVERTED, "z = z.to(device)")
SWAP_FIXED = (CORRECTED, "z = z.to(device)")
MOVE_CELLS = ("from transformers import AutoModel", INVERTED, "model = AutoModel.from_pretrained(p, device_map=device)", "x = x.to(device)")
MOVE_FIXED = ("from transformers import AutoModel", "", 'model = AutoModel.from_pretrained(p, device_map="auto" if device == "cuda" else device)', "x = x.to(device)")
PER_FILE_DEV001 = '[tool.devicelint.per-file-ignores]\n"*.ipynb" = ["DEV001"]\n"*.py" = ["DEV001"]\n'

# (case, code cells, fix arguments, pyproject.toml, the cells after the fix, unsafe fixes left out)
NOTEBOOK_FIXES = [
    ("safe-only", ("import torch", GPU, LOAD), [], "", ("import torch", GPU_FIXED, LOAD), 1),
    ("unsafe-fixes", ("import torch", GPU, LOAD), ["--unsafe-fixes"], "", ("import torch", GPU_FIXED, LOAD_FIXED), 0),
    ("ignore-DEV002", ("import torch", GPU, *SWAP_CELLS), ["--ignore", "DEV002"], "", ("import torch", GPU, *SWAP_FIXED), 0),
    ("select-DEV001", ("import torch", GPU, *SWAP_CELLS), ["--select", "DEV001"], "", ("import torch", GPU, *SWAP_FIXED), 0),
    ("select-DEV002", ("import torch", GPU, *SWAP_CELLS), ["--select", "DEV002"], "", ("import torch", GPU_FIXED, *SWAP_CELLS), 0),
    ("per-file-ignores", ("import torch", GPU, *SWAP_CELLS), [], PER_FILE_DEV001, ("import torch", GPU_FIXED, *SWAP_CELLS), 0),
    ("ignored-unsafe-is-not-counted", ("import torch", LOAD), ["--ignore", "DEV002"], "", ("import torch", LOAD), 0),
    ("move-across-cells", MOVE_CELLS, [], "", MOVE_FIXED, 0),
]


@pytest.mark.parametrize(
    ("cells", "args", "pyproject", "expected", "left_out"), [pytest.param(*case[1:], id=case[0]) for case in NOTEBOOK_FIXES]
)
def test_notebook_fix_is_the_fix_of_its_joined_cells(tmp_path, cells, args, pyproject, expected, left_out) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject or "[tool.devicelint]\n")
    notebook = tmp_path / "nb.ipynb"
    _write_with_nbformat(notebook, _notebook(("markdown", "# title"), *(("code", source) for source in cells)))
    script = tmp_path / "nb.py"
    script.write_text("".join(source + "\n" for source in cells))
    result = devicelint("fix", *args, notebook.name, cwd=tmp_path)
    assert result.returncode == (1 if left_out else 0), result.stderr  # an unsafe fix left out leaves its finding
    after = json.loads(notebook.read_text())
    assert ["".join(cell["source"]) for cell in after["cells"][1:]] == list(expected)
    hint = f"{left_out} fix available with --unsafe-fixes" if left_out == 1 else "available with --unsafe-fixes"
    assert (hint in result.stdout + result.stderr) == bool(left_out), result.stdout + result.stderr
    # The same code as a .py file gets the same fix.
    assert devicelint("fix", *args, script.name, cwd=tmp_path).returncode == (1 if left_out else 0)
    assert script.read_text() == "".join(source + "\n" for source in expected if source)
    # Fixing again changes nothing.
    fixed = notebook.read_bytes()
    devicelint("fix", *args, notebook.name, cwd=tmp_path)
    assert notebook.read_bytes() == fixed


@pytest.mark.parametrize(("args", "reported"), [((), True), (("--ignore", "DEV900"), False)])
@pytest.mark.parametrize("command", ["check", "fix"])
def test_notebook_code_too_large_is_its_dev900(tmp_path, command, args, reported) -> None:
    """The DEV900 of a notebook that is not analysed is built and selected where a .py file's is."""
    big = "# " + "x" * (4 * 2**20) + "\n"  # over MAX_SOURCE_BYTES (4 MiB) of code, in one line
    path = tmp_path / "big.ipynb"
    original = _write_with_nbformat(path, _notebook(("code", big), ("code", INVERTED + "\nx = x.to(device)")))
    result = devicelint(command, *args, path.name, cwd=tmp_path)
    assert ("big.ipynb:1:1: DEV900 notebook code too large to check" in result.stdout) == reported, result.stdout
    assert result.returncode == (1 if reported else 0), result.stderr
    assert path.read_bytes() == original
