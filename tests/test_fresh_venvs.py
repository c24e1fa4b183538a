"""A fresh venv made by README's first command, as a newcomer gets it (slow: it installs).

``pip install .`` gives the linter without torch or flake8: ``devicelint check .`` reports
only the intentionally broken fixtures; the reference tools say in one line which extra they
need; ``flake8`` is missing until the ``flake8`` extra is installed, after which
``flake8 --select DEV`` reports what ``devicelint check`` reports.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from helpers import ROOT

pytestmark = pytest.mark.slow

FINDING = re.compile(r"^(?P<path>[^\s:]+(?::cell \d+)?):\d+:\d+: DEV\d{3} ", re.MULTILINE)


def shell(command: str, env_dir: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    # Only this venv: the one pytest runs in (activated in .ci/run) has flake8 and torch.
    others = [p for p in env["PATH"].split(os.pathsep) if p and not (Path(p).parent / "pyvenv.cfg").is_file()]
    env["PATH"] = os.pathsep.join([str(env_dir / "bin"), *others])
    env["VIRTUAL_ENV"] = str(env_dir)
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def linter_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = tmp_path_factory.mktemp("venv") / "lint"
    venv.create(env_dir, with_pip=True)
    return env_dir


def test_readme_first_command_in_a_fresh_venv(linter_venv: Path) -> None:
    command = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "readme_commands.py"), "1"], capture_output=True, text=True, check=True
    ).stdout.strip()
    result = shell(command, linter_venv)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    paths = {m["path"] for m in FINDING.finditer(result.stdout)}
    assert paths and all(p.startswith("fixtures/") for p in paths), sorted(paths)
    assert "fixtures/qwen2_audio/buggy_loader.py" in paths
    installed = shell("python -c 'import torch'; python -c 'import flake8'", linter_venv)
    assert installed.stderr.count("ModuleNotFoundError") == 2, installed.stderr


@pytest.mark.parametrize("tool", ["devicelint.reference.qwen2_audio", "devicelint.reference.tiny"])
def test_reference_tools_without_the_extra(linter_venv: Path, tool: str) -> None:
    shell("pip install --quiet .", linter_venv)  # idempotent when the first test ran
    for args in ("--help", "--model m --audio a.wav", "out"):
        result = shell(f"python -m {tool} {args}", linter_venv, cwd=linter_venv)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        assert "needs the 'reference' extra" in result.stderr and "pip install" in result.stderr


def test_flake8_extra_gives_flake8_with_the_plugin(linter_venv: Path) -> None:
    before = shell("flake8 --version", linter_venv)
    assert before.returncode != 0  # "command not found": README's first command does not install flake8
    install = shell("pip install --quiet '.[flake8]'", linter_venv)
    assert install.returncode == 0, install.stderr[-2000:]
    target = "fixtures/qwen2_audio/buggy_loader.py"
    flake8 = shell(f"flake8 --isolated --select DEV {target}", linter_venv)
    check = shell(f"devicelint check --isolated {target}", linter_venv)
    assert flake8.returncode == 1, flake8.stdout + flake8.stderr
    def findings(out: str) -> list[str]:  # path:line:col: CODE (the CLI adds "[*]" to fixable ones)
        return sorted(m.group(0) for m in re.finditer(r"^\S+:\d+:\d+: DEV\d{3}", out, re.MULTILINE))

    assert findings(flake8.stdout) and findings(flake8.stdout) == findings(check.stdout)
