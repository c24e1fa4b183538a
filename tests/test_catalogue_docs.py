"""The sink lists in README.md and the rule docs are generated from catalogue.py:
each holds exactly the current rendering, and the regenerate command finds and fixes drift."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from helpers import ROOT

from devicelint import catalogue_docs
from devicelint.catalogue import METHOD_SINKS, QUALIFIED_SINKS
from devicelint.ruledocs import rule_doc


@pytest.mark.parametrize("name", catalogue_docs.DOCUMENTS)
def test_each_document_holds_the_current_rendering(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    assert catalogue_docs.current_block(text) == catalogue_docs.block(), (
        f"{name} is stale: run python -m devicelint.catalogue_docs --write"
    )


def test_every_catalogue_sink_is_listed() -> None:
    rendered = catalogue_docs.render()
    for spec in QUALIFIED_SINKS:
        # aliases of one callable are listed once, under a path with the same final name
        assert f".{spec.name.rsplit('.', 1)[-1]}()`" in rendered, spec.name
    for spec in METHOD_SINKS:
        assert f"`x{spec.name}()`" in rendered, spec.name
    assert "`torch.Generator()` | 1st positional or `device=`" in rendered


def test_devicelint_rule_prints_the_generated_list() -> None:
    assert catalogue_docs.block() in rule_doc("DEV002")
    assert catalogue_docs.block() in rule_doc("DEV001")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devicelint.catalogue_docs", *args], capture_output=True, text=True, timeout=60
    )


def test_check_finds_a_stale_block_and_write_fixes_it(tmp_path) -> None:
    for name in catalogue_docs.DOCUMENTS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    assert _run("--check", "--root", str(tmp_path)).returncode == 0
    readme = tmp_path / "README.md"
    original = readme.read_text(encoding="utf-8")
    stale = original.replace("| `torch.Generator()` | 1st positional or `device=` |\n", "")
    assert stale != original
    readme.write_text(stale, encoding="utf-8")

    checked = _run("--check", "--root", str(tmp_path))
    assert checked.returncode == 1 and "README.md" in checked.stdout
    assert readme.read_text(encoding="utf-8") == stale  # --check writes nothing

    assert _run("--write", "--root", str(tmp_path)).returncode == 0
    assert readme.read_text(encoding="utf-8") == original
    assert _run("--check", "--root", str(tmp_path)).returncode == 0


def test_a_document_without_markers_is_an_error(tmp_path) -> None:
    (tmp_path / "README.md").write_text("# no generated block here\n", encoding="utf-8")
    result = _run("--check", "--root", str(tmp_path))
    assert result.returncode == 2 and "no <!-- begin generated: sinks -->" in result.stderr
