"""Issue 14: a generated adversarial corpus, checked and fixed with --jobs 1 and --jobs 2.

Every shape of the issue is here, sized so the test stays fast. The bounds stated and checked:

- the run always ends: each devicelint run of the corpus finishes under RUN_SECONDS;
- each file alone is analysed under FILE_SECONDS, and the process checking all of them one
  after the other peaks under PEAK_RSS_BYTES (files over 4 MiB are DEV900 without being parsed);
- one bad file costs only its own result: the ordinary files' findings are the same as in a
  run without the hostile files, nothing unfixable is written, no temporary file is left.

The flow-analysis shapes that used to be quadratic (40k module constants, 8,000 stores on
self) are in a separate test, each run under a timeout so it cannot hang the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_hostile import BUG, FIXED, cpython_limits, deep_shapes

RUN_SECONDS = 240
FILE_SECONDS = 20
PEAK_RSS_BYTES = 1536 * 2**20
ORDINARY = 70  # enough files for the process pool

pytestmark = pytest.mark.slow


def _cell(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}


def hostile_files() -> dict[str, bytes]:
    """name -> bytes, for every shape of the issue (FIFOs and links are made on disk)."""
    text: dict[str, str] = {**deep_shapes(), **cpython_limits()}
    text["longline.py"] = "import torch\nx = [" + ", ".join(['"auto"'] * 8000) + "]\ntorch.device(x[0])\n"
    text["many_v.py"] = "import torch\n" + 'v = "auto"\n' * 100_000 + "torch.device(v)\n"
    text["cr_only.py"] = BUG.replace("\n", "\r")
    notebook_cell = _cell('import torch\ndevice = "auto"\ntorch.device(device)\n')
    text["nested.ipynb"] = '{"cells": [' + json.dumps(notebook_cell) + '], "metadata": {"x": ' + "[" * 2000 + "]" * 2000 + "}}"
    text["digits.ipynb"] = '{"cells": [' + json.dumps(notebook_cell) + '], "metadata": {"x": ' + "9" * 5000 + "}}"
    files = {name: value.encode() for name, value in text.items()}
    files["big.py"] = b"x = [" + b", ".join([b'"auto"'] * 750_000) + b"]\n"  # 6 MB on one line
    files["cookie.py"] = b"# -*- coding: nosuchcodec -*-\n" + BUG.encode()
    files["latin_bytes.py"] = b"# caf\xe9\n" + BUG.encode()
    files["utf16.py"] = BUG.encode("utf-16")
    files["ebcdic.py"] = BUG.encode("cp500")
    files["cp932.py"] = b"# -*- coding: cp932 -*-\n# \x87\x90\n" + BUG.encode()
    files["utf7.py"] = b"# -*- coding: utf-7 -*-\n# +ZeVnLIqe-\n" + BUG.encode()
    files[os.fsdecode(b"name\xff.py")] = BUG.encode()
    files["new\nline.py"] = BUG.encode()
    files["\x1b[31mansi.py"] = BUG.encode()
    files["--output-file=setup.py"] = BUG.encode()
    files["setup.py"] = b"from setuptools import setup\n"
    return files


def build(root: Path) -> dict[str, bytes]:
    """The corpus under root: ordinary buggy files, the hostile ones, and the special files."""
    files = {f"ok/m{i:03}.py": BUG.encode() for i in range(ORDINARY)}
    files.update({f"hostile/{name}": data for name, data in hostile_files().items()})
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / ".git").mkdir()
    os.mkfifo(root / ".gitignore")
    (root / "hostile" / ".gitignore").symlink_to("/dev/zero")
    os.mkfifo(root / "hostile" / "fifo.py")
    outside = root.parent / f"{root.name}-outside"
    outside.mkdir()
    (outside / "lib.py").write_text(BUG)
    (root / "hostile" / "link_out.py").symlink_to(outside / "lib.py")
    os.link(root / "hostile" / "setup.py", root / "hostile" / "setup_hardlink.py")
    (root / "hostile" / "hard_a.py").write_text(BUG)
    os.link(root / "hostile" / "hard_a.py", root / "hostile" / "hard_b.py")
    return files


def devicelint(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[bytes], float]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "devicelint", *args], cwd=cwd, capture_output=True, timeout=RUN_SECONDS)
    return result, time.monotonic() - started


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_adversarial_corpus_check_and_fix(tmp_path: Path, jobs: str) -> None:
    root = tmp_path / "corpus"
    files = build(root)
    check, check_seconds = devicelint("check", "--jobs", jobs, "--format", "json", ".", "hostile/fifo.py", cwd=root)
    stderr = check.stderr.decode(errors="replace")
    assert check.returncode == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    found = json.loads(check.stdout)
    by_name: dict[str, set[str]] = {}
    for item in found:
        by_name.setdefault(item["filename"], set()).add(item["code"])
    for i in range(ORDINARY):
        assert by_name[f"ok/m{i:03}.py"] == {"DEV001"}
    for name in ("elif10000.py", "not100000.py", "plus100000.py", "big.py", "nested.ipynb", "digits.ipynb",
                 "cookie.py", "latin_bytes.py", "utf16.py", "ebcdic.py", "fifo.py"):  # fmt: skip
        assert by_name[f"hostile/{name}"] == {"DEV900"}, name
    assert by_name["hostile/selfpath900.py"] == by_name["hostile/cp932.py"] == {"DEV001"}
    print(f"\ncheck --jobs {jobs}: {check_seconds:.1f} s")

    fix, fix_seconds = devicelint("fix", "--jobs", jobs, ".", cwd=root)
    stderr = fix.stderr.decode(errors="replace")
    assert fix.returncode == 2, stderr  # the refusals (links, hard links, utf-7) are errors
    assert "Traceback" not in stderr and "internal error" not in stderr
    print(f"fix --jobs {jobs}: {fix_seconds:.1f} s")
    for i in range(ORDINARY):
        assert (root / f"ok/m{i:03}.py").read_text() == FIXED
    never_written = ("elif10000.py", "not100000.py", "plus100000.py", "big.py", "cookie.py", "latin_bytes.py",
                     "utf16.py", "ebcdic.py", "hard_a.py", "hard_b.py", "setup.py", "nested.ipynb", "digits.ipynb")  # fmt: skip
    for name in never_written:
        assert (root / "hostile" / name).read_bytes() == files.get(f"hostile/{name}", BUG.encode()), name
    assert (root.parent / "corpus-outside" / "lib.py").read_text() == BUG
    assert (root / "hostile" / "cp932.py").read_bytes() == files["hostile/cp932.py"].replace(
        b'"auto" if device == "cuda"', b'"cuda" if device == "auto"'
    )
    assert not [p for p in root.rglob(".devicelint-*")]
    assert check_seconds < RUN_SECONDS and fix_seconds < RUN_SECONDS

    again, _ = devicelint("fix", "--check", "--jobs", jobs, ".", cwd=root)
    assert b"would fix ok/" not in again.stdout


MEASURE = """
import json, os, resource, sys, time
from devicelint.analysis import DEFAULT_SETTINGS
from devicelint.config import FileRules
from devicelint.tasks import CheckTask
task = CheckTask(DEFAULT_SETTINGS, FileRules())
seconds = {}
for path in sys.argv[1:]:
    started = time.perf_counter()
    task(path)
    seconds[os.path.basename(path)] = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak": peak}))
"""


def test_each_hostile_file_is_bounded_in_time_and_memory(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    build(root)
    paths = sorted(str(p) for p in (root / "hostile").iterdir() if p.is_file() and not p.is_symlink())
    result = subprocess.run([sys.executable, "-c", MEASURE, *paths], capture_output=True, text=True, timeout=RUN_SECONDS)
    assert result.returncode == 0, result.stderr[-2000:]
    measured = json.loads(result.stdout)
    slowest = sorted(measured["seconds"].items(), key=lambda kv: -kv[1])[:5]
    print(f"\nslowest: {[(name, round(s, 2)) for name, s in slowest]}; peak RSS {measured['peak'] / 2**20:.0f} MiB")
    assert all(seconds < FILE_SECONDS for _, seconds in slowest), slowest
    assert measured["peak"] < PEAK_RSS_BYTES


# --- the flow analysis: still quadratic in the current engine ------------------------------------

FLOW_SECONDS = 10


def flow_shapes() -> dict[str, str]:
    return {
        "consts40k.py": "import torch\n" + "".join(f"C{i} = {i}\n" for i in range(40_000)) + 'd = "auto"\ntorch.device(d)\n',
        "self8000.py": 'import torch\nclass C:\n    def f(self, device):\n        device = "auto"\n'
        + "".join(f"        self.a{i} = device\n" for i in range(8000))
        + "    def g(self, x):\n        x.to(self.a0)\n",
    }


@pytest.mark.parametrize("name", sorted(flow_shapes()))
def test_flow_analysis_is_linear(tmp_path: Path, name: str) -> None:
    """40k module constants plus one "auto" took 16.7 s (38 s on a busy machine); 8,000
    `self.aN = device` in one method 22 s (51 s) before engine v2, whose state forgets a
    path's parts through an index. Bound: FLOW_SECONDS each, and a finding."""
    (tmp_path / name).write_text(flow_shapes()[name])
    started = time.monotonic()
    try:
        result = subprocess.run([sys.executable, "-m", "devicelint", "check", name], cwd=tmp_path,
                                capture_output=True, text=True, timeout=FLOW_SECONDS)  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name}: over {FLOW_SECONDS} s")
    assert time.monotonic() - started < FLOW_SECONDS
    assert result.returncode == 1 and "DEV002" in result.stdout
