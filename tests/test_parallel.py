"""``--jobs N`` gives the same output, in the same order, as ``--jobs 1``, in every format."""

from __future__ import annotations

import json

import pytest
from helpers import devicelint

nbformat = pytest.importorskip("nbformat")

BUGGY = '''\
import torch


def load_{n}(batch, device, other="balanced"):
    device = "auto" if device == "cuda" else device
    batch.to(other)
    return batch.to(device)
'''


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """130 files over nested folders: buggy, clean, broken, and notebooks."""
    root = tmp_path_factory.mktemp("parallel")
    for n in range(130):
        folder = root / f"pkg{n % 7}" / f"sub{n % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        kind = n % 5
        if kind == 0:
            nb = nbformat.v4.new_notebook()
            nb.cells = [
                nbformat.v4.new_markdown_cell(f"# notebook {n}"),
                nbformat.v4.new_code_cell("import torch\n%matplotlib inline\ndevice = 'cuda'"),
                nbformat.v4.new_code_cell('device = "auto" if device == "cuda" else device\ntorch.ones(1).to(device)'),
            ]
            nbformat.write(nb, str(folder / f"nb{n}.ipynb"))
        elif kind == 1:
            (folder / f"clean{n}.py").write_text("import torch\n\ntorch.zeros(2, device='cpu')\n")
        elif kind == 2:
            (folder / f"broken{n}.py").write_text('device = "auto"\ndef f(:\n')
        else:
            (folder / f"bug{n}.py").write_text(BUGGY.format(n=n))
    return root


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_jobs_1_and_n_agree(tree, fmt) -> None:
    serial = devicelint("check", "--jobs", "1", "--format", fmt, ".", cwd=tree)
    parallel = devicelint("check", "--jobs", "4", "--format", fmt, ".", cwd=tree)
    default = devicelint("check", "--format", fmt, ".", cwd=tree)  # all cores
    assert serial.returncode == parallel.returncode == default.returncode == 1
    assert serial.stdout == parallel.stdout == default.stdout
    assert serial.stderr == parallel.stderr == ""


def test_the_tree_covers_every_kind(tree) -> None:
    items = json.loads(devicelint("check", "--format", "json", ".", cwd=tree).stdout)
    assert {i["filename"].rsplit(".", 1)[1] for i in items} == {"py", "ipynb"}
    assert {i["code"] for i in items} == {"DEV001", "DEV002", "DEV900"}
    files = {i["filename"] for i in items}
    assert len(files) >= 100


def test_statistics_and_fix_check_agree(tree) -> None:
    for args in (("check", "--statistics"), ("fix", "--check"), ("fix", "--diff"), ("fix", "--check", "--format", "json")):
        serial = devicelint(*args, "--jobs", "1", ".", cwd=tree)
        parallel = devicelint(*args, "--jobs", "3", ".", cwd=tree)
        assert (serial.returncode, serial.stdout) == (parallel.returncode, parallel.stdout), args


def test_the_pool_keeps_a_bounded_window_of_chunks_in_order() -> None:
    """runner.Results: results in input order, and the parent never holds more than a window
    of submitted chunks (their results and queued work), however many files a run has."""
    from devicelint import runner

    items = list(range(20_000))  # 313 chunks of 64
    results = runner.Results(abs, items, jobs=2)  # a real pool: abs is picklable
    assert results.jobs == 2
    seen, most = [], 0
    for value in results:
        seen.append(value)
        most = max(most, len(results.pending))
    assert seen == items
    assert 0 < most <= results.jobs * runner._CHUNKS_AHEAD < len(items) // 64
