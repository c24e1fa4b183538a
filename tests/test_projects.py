"""Values that cross modules: the fixture projects under fixtures/projects/.

Each file marks what is reported in it (``# expect: DEV001``). The analysis in-process,
the real flake8 and the real CLI must all report exactly that, with the same messages,
whatever the current directory and however many jobs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, devicelint, devicelint_json, expected_findings, expected_positions, flake8
from test_entry_points_agree import FLAKE8_LINE

from devicelint.analysis import analyze_text

PROJECTS = ROOT / "fixtures" / "projects"
FILES = sorted(PROJECTS.rglob("*.py"))


def test_there_are_reported_and_clean_files() -> None:
    expected = {path: expected_findings(path) for path in FILES}
    assert sum(len(v) for v in expected.values()) >= 6
    assert [p for p, v in expected.items() if not v and p.name.startswith("ok_")]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PROJECTS)))
def test_in_process_reports_exactly_the_marked_findings(path: Path) -> None:
    got = {(f.line, f.column + 1, f.code) for f in analyze_text(path.read_text(encoding="utf-8"), str(path))}
    assert got == expected_positions(path)


def _flake8_findings(target: Path, cwd: Path) -> set[tuple[str, int, int, str, str]]:
    result = flake8("--select", "DEV", target, cwd=cwd)
    assert result.returncode == 1, result.stderr
    found = set()
    for line in result.stdout.splitlines():
        match = FLAKE8_LINE.match(line)
        assert match, line
        found.add((str((cwd / match["path"]).resolve()), int(match["line"]), int(match["col"]), match["code"], match["message"]))
    return found


def test_flake8_and_cli_agree_and_report_the_marks() -> None:
    expected = {(str(p.resolve()), line, col, code) for p in FILES for line, col, code in expected_positions(p)}
    from_flake8 = _flake8_findings(PROJECTS, ROOT)
    from_cli = {
        (str((ROOT / item["filename"]).resolve()), item["line"], item["column"], item["code"], item["message"])
        for item in devicelint_json(PROJECTS, cwd=ROOT)
    }
    assert from_flake8 == from_cli
    assert {(path, line, col, code) for path, line, col, code, _ in from_cli} == expected


def test_one_file_alone_still_sees_its_project(tmp_path: Path) -> None:
    """pre-commit passes only the changed file: the flows into other modules are still found."""
    project = tmp_path / "chatpkg"
    shutil.copytree(PROJECTS / "chatpkg", project)
    config = project / "chatpkg" / "config.py"
    # from another directory, one file named on the command line, through flake8 and the CLI
    findings = devicelint_json(config, cwd=tmp_path)
    assert [(f["line"], f["code"]) for f in findings] == sorted(expected_findings(config))
    assert "line 15 of chat.py" in findings[0]["message"]
    flake8_lines = _flake8_findings(config, tmp_path)
    assert {(line, code) for _, line, _, code, _ in flake8_lines} == expected_findings(config)


def test_jobs_do_not_change_the_output() -> None:
    one = devicelint("check", "--format", "json", "--jobs", "1", PROJECTS, cwd=ROOT)
    two = devicelint("check", "--format", "json", "--jobs", "2", PROJECTS, cwd=ROOT)
    assert one.returncode == two.returncode == 1
    assert json.loads(one.stdout) == json.loads(two.stdout)


def test_sarif_code_flows_cross_files() -> None:
    result = devicelint("check", "--format", "sarif", PROJECTS / "chatpkg" / "chatpkg" / "devices.py", cwd=ROOT)
    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)["runs"][0]["results"]
    steps = finding["codeFlows"][0]["threadFlows"][0]["locations"]
    uris = [step["location"]["physicalLocation"]["artifactLocation"]["uri"] for step in steps]
    assert uris[0].endswith("devices.py") and uris[-1].endswith("chat.py")
    assert [step["location"]["message"]["text"] for step in steps][1:] == ["the return of pick_device()", ".to()"]


def test_a_module_that_does_not_parse_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def move(x, device:\n    return x.to(device)\n")
    (tmp_path / "big.py").write_bytes(b"def move(x, device):\n    return x.to(device)\n" + b"#" * (3 * 1024 * 1024))
    (tmp_path / "main.py").write_text(
        "from broken import move\nfrom big import move as move2\nmove(1, 'auto')\nmove2(1, 'auto')\n"
    )
    assert devicelint_json(tmp_path / "main.py", cwd=tmp_path) == []


def test_the_libcst_codemod_fixes_a_cross_module_flow(tmp_path: Path) -> None:
    project = tmp_path / "chatpkg"
    shutil.copytree(PROJECTS / "chatpkg", project)
    audio = project / "chatpkg" / "audio.py"
    result = subprocess.run(
        [sys.executable, "-m", "libcst.tool", "codemod", "-x", "devicelint.codemod.FixInvertedDeviceConditional",
         "--no-format", str(audio)],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # The strategy also goes to device_map= in the same function: the sharding-preserving fix.
    text = audio.read_text()
    assert 'device = "auto" if device == "cuda" else device' not in text
    assert 'from_pretrained(path, device_map="auto" if device == "cuda" else device)' in text


def test_a_comfyui_node_package_names_the_node_inputs(tmp_path: Path) -> None:
    """ComfyUI passes each INPUT_TYPES choice to the FUNCTION method: the "auto" choice of a
    loader node crashes at .to(), and in the helper module another node calls."""
    package = tmp_path / "comfyui_deviceloader"
    shutil.copytree(PROJECTS / "comfynode" / "comfyui_deviceloader", package)
    findings = devicelint_json(package / "nodes.py", cwd=tmp_path)
    assert [(f["line"], f["code"]) for f in findings] == sorted(expected_findings(package / "nodes.py"))
    at_sink, at_choice = findings
    assert 'the choice "auto" of input device of node DownloadAndLoadModel on line 20' in at_sink["message"]
    assert "reaches torch.load(map_location=) on line 9 of loading.py" in at_choice["message"]
    assert 'it is the choice "auto" of input load_device of node LoadCheckpoint' in at_choice["message"]
    # the helper holds no literal of its own: nothing is reported there
    assert devicelint_json(package / "loading.py", cwd=tmp_path) == []


def test_the_cache_follows_a_backend_registration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm run re-checks the importer when the registering module changes: the cached
    "nothing found" of ok_through_the_shim.py depends on backend.py, two imports away."""
    monkeypatch.setenv("DEVICELINT_CACHE_DIR", str(tmp_path / "cache"))
    project = tmp_path / "tinybackend"
    shutil.copytree(PROJECTS / "tinybackend", project)
    target = project / "tinybackend" / "ok_through_the_shim.py"
    assert devicelint_json(target) == [] and devicelint_json(target) == []  # cold, then warm
    backend = project / "tinybackend" / "backend.py"
    backend.write_text(backend.read_text(encoding="utf-8").replace('rename_privateuse1_backend("tiny")', "manual_seed(0)"), encoding="utf-8")
    found = devicelint_json(target)
    assert [(item["line"], item["code"]) for item in found] == [(6, "DEV002"), (7, "DEV002")]


def test_scripts_resolve_from_the_project_root_and_the_cache_follows_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/ holds no __init__.py: its absolute imports of the package resolve from the
    folder holding pyproject.toml. Without that file they do not, and a warm run notices the
    file appearing."""
    monkeypatch.setenv("DEVICELINT_CACHE_DIR", str(tmp_path / "cache"))
    project = tmp_path / "tinybackend"
    shutil.copytree(PROJECTS / "tinybackend", project)
    (project / "pyproject.toml").unlink()
    constant = project / "tinybackend" / "defaults.py"
    assert devicelint_json(constant) == [] and devicelint_json(constant) == []  # cold, then warm
    shutil.copy(PROJECTS / "tinybackend" / "pyproject.toml", project / "pyproject.toml")
    found = devicelint_json(constant)
    assert [(item["line"], item["code"]) for item in found] == [(2, "DEV002")]
    assert "script_with_a_project_constant.py" in found[0]["message"]
