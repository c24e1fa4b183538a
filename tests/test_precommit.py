"""The pre-commit hooks, run by the real ``pre-commit`` in temporary git repositories.

Two ways in: ``pre-commit try-repo <this repository>`` (the working tree as it is now,
before anything is committed), and a ``.pre-commit-config.yaml`` that names a temporary
clone of the working tree by path and commit (``rev:``), as a user's project would.
pre-commit builds each hook environment by pip-installing devicelint from the repository;
``PRE_COMMIT_HOME`` is one directory per session, so the config-based environment is
built once (``try-repo`` always builds its own, in a temporary store). Building a hook
environment takes tens of seconds, so those tests are marked ``slow`` (``pytest --slow``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, devicelint
from test_fix_cli import (
    BENIGN,
    BUGGY,
    BUGGY_FIXED,
    CLEAN,
    DEV002_ONLY,
    TWO_BUGS,
    TWO_BUGS_FIXED,
    fingerprint,
    make,
)

pytestmark = [
    pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git, which is not on PATH"),
    pytest.mark.skipif(shutil.which("pre-commit") is None, reason="pre-commit is not on PATH"),
]

HOOK_IDS = ("devicelint", "devicelint-fix")
IDENTITY = {
    "GIT_AUTHOR_NAME": "devicelint tests",
    "GIT_AUTHOR_EMAIL": "tests@devicelint.invalid",
    "GIT_COMMITTER_NAME": "devicelint tests",
    "GIT_COMMITTER_EMAIL": "tests@devicelint.invalid",
}


@pytest.fixture(scope="session")
def pre_commit_env(tmp_path_factory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in ("PYTHONPATH", "PRE_COMMIT")}
    env.update(IDENTITY)
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    env["PRE_COMMIT_COLOR"] = "never"
    return env


def git(*args: str | Path, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def pre_commit(*args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pre-commit", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600
    )


def project(path: Path, files: dict[str, bytes], env: dict[str, str]) -> dict[str, Path]:
    """A git repository holding ``files`` (added to the index, as pre-commit expects)."""
    path.mkdir(parents=True, exist_ok=True)
    git("init", "-q", ".", cwd=path, env=env)
    paths = make(path, files)
    git("add", "-A", cwd=path, env=env)
    return paths


def hook_result(output: str, name: str) -> str:
    """'Passed' / 'Failed' / 'Skipped' from pre-commit's line for the hook called ``name``."""
    match = re.search(rf"^{re.escape(name)}\.*(?:\(no files to check\))?(Passed|Failed|Skipped)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


# --- the manifest -------------------------------------------------------------------------------


def test_manifest_declares_both_hooks_serial() -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == set(HOOK_IDS)
    assert hooks["devicelint"]["entry"] == "devicelint check --force-exclude --files"
    assert hooks["devicelint-fix"]["entry"] == "devicelint fix --force-exclude --files --exit-non-zero-on-fix"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["require_serial"] is True  # one devicelint process per run: its own pool uses the cores
        assert "python" in hook.get("types_or", hook.get("types", []))


def manifest_entries() -> dict[str, list[str]]:
    """Each hook's entry, split into arguments after ``devicelint``."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return {hook["id"]: hook["entry"].split()[1:] for hook in hooks}


EXCLUDING_PYPROJECT = b'[tool.devicelint]\nextend-exclude = ["vendored/"]\n'


@pytest.mark.parametrize("hook", HOOK_IDS)
def test_hook_entries_apply_the_configured_excludes_to_the_files_passed(tmp_path, hook: str) -> None:
    """The manifest's own entry, called as pre-commit calls it (every file by name): a file
    under an ``extend-exclude`` folder is neither reported nor rewritten, the others are."""
    paths = make(
        tmp_path, {"pyproject.toml": EXCLUDING_PYPROJECT, "vendored/bug.py": BUGGY, "src/bug.py": BUGGY, "src/clean.py": CLEAN}
    )
    result = devicelint(*manifest_entries()[hook], "vendored/bug.py", "src/bug.py", "src/clean.py", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "vendored" not in result.stdout + result.stderr
    assert paths["vendored/bug.py"].read_bytes() == BUGGY
    if hook == "devicelint":
        assert "src/bug.py:5:14: DEV001" in result.stdout
    else:
        assert paths["src/bug.py"].read_bytes() == BUGGY_FIXED
    only_excluded = devicelint(*manifest_entries()[hook], "vendored/bug.py", cwd=tmp_path)
    assert (only_excluded.returncode, only_excluded.stderr) == (0, "")
    assert paths["vendored/bug.py"].read_bytes() == BUGGY


@pytest.mark.parametrize("command", ["check", "fix"])
def test_hook_entries_with_no_files_exit_0_and_touch_nothing(tmp_path, command: str) -> None:
    """pre-commit may call an entry with an empty file list: that is not "the whole tree"."""
    paths = make(tmp_path, {"bug.py": BUGGY, "dev002.py": DEV002_ONLY})
    before = {name: fingerprint(p) for name, p in paths.items()}
    args = ["--files", "--exit-non-zero-on-fix"] if command == "fix" else ["--files"]
    result = devicelint(command, *args, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert "bug.py" not in result.stdout
    assert {name: fingerprint(p) for name, p in paths.items()} == before


# --- pre-commit try-repo on this working tree -------------------------------------------------------


@pytest.fixture
def working_tree_is_installable() -> None:
    """try-repo builds the hook from what git tracks (committed, staged or modified files):
    a new module that is not even staged is missing there, and the hook dies on import."""
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "--", "src", "pyproject.toml", ".pre-commit-hooks.yaml"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=60,
    )
    if listed.returncode != 0:
        pytest.skip(f"{ROOT} is not a git working tree: {listed.stderr.strip()}")
    untracked = listed.stdout.split()
    assert not untracked, (
        "pre-commit try-repo installs only files git tracks; `git add` these (staging is enough) "
        f"or the hook environment lacks them: {', '.join(untracked)}"
    )


@pytest.mark.slow
def test_try_repo_check_hook(tmp_path, pre_commit_env, working_tree_is_installable) -> None:
    repo = tmp_path / "project"
    project(repo, {"bug.py": BUGGY, "clean.py": CLEAN, "benign.py": BENIGN}, pre_commit_env)

    failing = pre_commit("try-repo", ROOT, "devicelint", "--files", "bug.py", "clean.py", cwd=repo, env=pre_commit_env)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert hook_result(failing.stdout, "devicelint") == "Failed"
    assert "bug.py:5:14: DEV001 [*] inverted device conditional" in failing.stdout
    assert (repo / "bug.py").read_bytes() == BUGGY  # the check hook never writes

    passing = pre_commit("try-repo", ROOT, "devicelint", "--files", "clean.py", "benign.py", cwd=repo, env=pre_commit_env)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert hook_result(passing.stdout, "devicelint") == "Passed"


@pytest.mark.slow
def test_try_repo_fix_hook(tmp_path, pre_commit_env, working_tree_is_installable) -> None:
    repo = tmp_path / "project"
    paths = project(repo, {"bug.py": BUGGY, "two.py": TWO_BUGS, "benign.py": BENIGN}, pre_commit_env)
    benign_before = fingerprint(paths["benign.py"])

    first = pre_commit("try-repo", ROOT, "devicelint-fix", "--all-files", cwd=repo, env=pre_commit_env)
    assert first.returncode == 1, first.stdout + first.stderr
    assert hook_result(first.stdout, "devicelint (fix)") == "Failed"
    assert "- exit code: 1" in first.stdout  # the hook itself failed: it changed files
    assert "- files were modified by this hook" in first.stdout
    assert paths["bug.py"].read_bytes() == BUGGY_FIXED
    assert paths["two.py"].read_bytes() == TWO_BUGS_FIXED
    assert fingerprint(paths["benign.py"]) == benign_before

    second = pre_commit("try-repo", ROOT, "devicelint-fix", "--all-files", cwd=repo, env=pre_commit_env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert hook_result(second.stdout, "devicelint (fix)") == "Passed"
    assert paths["bug.py"].read_bytes() == BUGGY_FIXED


@pytest.mark.slow
def test_try_repo_with_no_python_files(tmp_path, pre_commit_env) -> None:
    repo = tmp_path / "project"
    project(repo, {"notes.txt": b'device = "auto" if device == "cuda" else device\n', "bug.py": BUGGY}, pre_commit_env)
    result = pre_commit("try-repo", ROOT, "--files", "notes.txt", cwd=repo, env=pre_commit_env)  # every hook
    assert result.returncode == 0, result.stdout + result.stderr
    assert hook_result(result.stdout, "devicelint") == "Skipped"
    assert hook_result(result.stdout, "devicelint (fix)") == "Skipped"
    assert (repo / "bug.py").read_bytes() == BUGGY


# --- a project whose .pre-commit-config.yaml names a commit of this repository ------------------------

# Never copied into the clone: version control, caches, build output.
IGNORED = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis", ".ruff_cache",
                                 "*.egg-info", "build", "dist", ".venv*", "venv")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory, pre_commit_env) -> tuple[Path, str]:
    """A git clone of the working tree (committed there), and that commit."""
    clone = tmp_path_factory.mktemp("hook-repo") / "devicelint"
    shutil.copytree(ROOT, clone, ignore=IGNORED, symlinks=True)
    git("init", "-q", ".", cwd=clone, env=pre_commit_env)
    git("add", "-A", cwd=clone, env=pre_commit_env)
    git("commit", "-q", "--no-verify", "-m", "devicelint under test", cwd=clone, env=pre_commit_env)
    return clone, git("rev-parse", "HEAD", cwd=clone, env=pre_commit_env).strip()


def configured_project(path: Path, files: dict[str, bytes], hook_repo: tuple[Path, str], env: dict[str, str]) -> dict[str, Path]:
    clone, rev = hook_repo
    config = {"repos": [{"repo": str(clone), "rev": rev, "hooks": [{"id": hook} for hook in HOOK_IDS]}]}
    files = {**files, ".pre-commit-config.yaml": yaml.safe_dump(config, sort_keys=False).encode()}
    return project(path, files, env)


@pytest.mark.slow
def test_config_hooks_on_300_files_at_once(tmp_path, hook_repo, pre_commit_env) -> None:
    files: dict[str, bytes] = {}
    expected: dict[str, bytes] = {}
    kinds = [(BUGGY, BUGGY_FIXED), (TWO_BUGS, TWO_BUGS_FIXED), (CLEAN, CLEAN), (BENIGN, BENIGN)]
    for index in range(300):
        before, after = kinds[index % len(kinds)]
        name = f"src/pkg{index % 10}/mod_{index:03d}.py"
        files[name], expected[name] = before, after
    files["README.txt"] = b'device = "auto" if device == "cuda" else device\n'  # not Python: never passed
    repo = tmp_path / "project"
    paths = configured_project(repo, files, hook_repo, pre_commit_env)
    buggy = sorted(name for name in expected if files[name] != expected[name])
    untouched = {name: fingerprint(paths[name]) for name in expected if name not in buggy}

    check = pre_commit("run", "devicelint", "--all-files", cwd=repo, env=pre_commit_env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert hook_result(check.stdout, "devicelint") == "Failed"
    # One devicelint process saw all 300 files (require_serial: one call, one summary).
    assert check.stdout.count("Found 225 problems (225 fixable with `devicelint fix`).") == 1, check.stdout[-2000:]
    assert "README.txt" not in check.stdout

    fix = pre_commit("run", "devicelint-fix", "--all-files", cwd=repo, env=pre_commit_env)
    assert fix.returncode == 1, fix.stdout + fix.stderr
    assert hook_result(fix.stdout, "devicelint (fix)") == "Failed"
    assert "- exit code: 1" in fix.stdout and "- files were modified by this hook" in fix.stdout
    assert fix.stdout.count("Fixed 225 problems in 150 files.") == 1, fix.stdout[-2000:]
    assert sorted(line.split()[1] for line in fix.stdout.splitlines() if line.startswith("fixed ")) == buggy
    for name, content in expected.items():
        assert paths[name].read_bytes() == content, name
    assert {name: fingerprint(paths[name]) for name in untouched} == untouched

    again = pre_commit("run", "--all-files", cwd=repo, env=pre_commit_env)  # both hooks
    assert again.returncode == 0, again.stdout + again.stderr
    assert hook_result(again.stdout, "devicelint") == "Passed"
    assert hook_result(again.stdout, "devicelint (fix)") == "Passed"


@pytest.mark.slow
def test_config_hooks_honour_extend_exclude(tmp_path, hook_repo, pre_commit_env) -> None:
    """pre-commit passes every file by name; ``extend-exclude`` in the project's pyproject
    still keeps a vendored file out of both hooks (the entries pass --force-exclude)."""
    repo = tmp_path / "project"
    paths = configured_project(
        repo, {"pyproject.toml": EXCLUDING_PYPROJECT, "vendored/bug.py": BUGGY, "src/bug.py": BUGGY}, hook_repo, pre_commit_env
    )
    check = pre_commit("run", "devicelint", "--all-files", cwd=repo, env=pre_commit_env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "src/bug.py:5:14: DEV001" in check.stdout
    assert "vendored" not in check.stdout
    fix = pre_commit("run", "devicelint-fix", "--all-files", cwd=repo, env=pre_commit_env)
    assert fix.returncode == 1, fix.stdout + fix.stderr
    assert paths["src/bug.py"].read_bytes() == BUGGY_FIXED
    assert paths["vendored/bug.py"].read_bytes() == BUGGY
    only_vendored = pre_commit("run", "--files", "vendored/bug.py", cwd=repo, env=pre_commit_env)
    assert only_vendored.returncode == 0, only_vendored.stdout + only_vendored.stderr
    assert hook_result(only_vendored.stdout, "devicelint") == "Passed"
    assert hook_result(only_vendored.stdout, "devicelint (fix)") == "Passed"
    assert paths["vendored/bug.py"].read_bytes() == BUGGY


def readme_config_from_a_checkout(clone: Path, rev: str) -> bytes:
    """README's "from a checkout" .pre-commit-config.yaml with its placeholders filled in."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("From a checkout (works today)") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)
    text = "\n".join(line[3:] if line.startswith("   ") else line for line in block.splitlines()) + "\n"
    assert "/path/to/devicelint" in text and "COMMIT" in text
    return text.replace("/path/to/devicelint", str(clone)).replace("COMMIT", rev).encode()


@pytest.mark.slow
def test_readme_config_from_a_checkout_works(tmp_path, hook_repo, pre_commit_env) -> None:
    """The configuration README shows as working today, with a real checkout path and commit."""
    repo = tmp_path / "project"
    clone, rev = hook_repo
    paths = project(repo, {".pre-commit-config.yaml": readme_config_from_a_checkout(clone, rev), "bug.py": BUGGY}, pre_commit_env)
    result = pre_commit("run", "--all-files", cwd=repo, env=pre_commit_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert hook_result(result.stdout, "devicelint") == "Failed"
    assert "bug.py:5:14: DEV001" in result.stdout
    assert paths["bug.py"].read_bytes() == BUGGY


@pytest.mark.slow
def test_config_hooks_with_no_python_files(tmp_path, hook_repo, pre_commit_env) -> None:
    repo = tmp_path / "project"
    paths = configured_project(repo, {"notes.md": b"# notes\n", "bug.py": BUGGY}, hook_repo, pre_commit_env)
    result = pre_commit("run", "--files", "notes.md", cwd=repo, env=pre_commit_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert hook_result(result.stdout, "devicelint") == "Skipped"
    assert hook_result(result.stdout, "devicelint (fix)") == "Skipped"
    assert paths["bug.py"].read_bytes() == BUGGY


@pytest.mark.slow
def test_installed_hook_entries_with_no_files(tmp_path, hook_repo, pre_commit_env) -> None:
    """The console script pre-commit installed, called as the hooks' entries with no files."""
    repo = tmp_path / "project"
    paths = configured_project(repo, {"bug.py": BUGGY}, hook_repo, pre_commit_env)
    assert pre_commit("install-hooks", cwd=repo, env=pre_commit_env).returncode == 0
    scripts = sorted(Path(pre_commit_env["PRE_COMMIT_HOME"]).glob("repo*/py_env-*/bin/devicelint"))
    assert scripts, "pre-commit installed a devicelint console script"
    for args in manifest_entries().values():
        entry = " ".join(args)
        result = subprocess.run([str(scripts[0]), *args], cwd=repo, capture_output=True, text=True, check=False, timeout=120)
        assert (result.returncode, result.stderr) == (0, ""), entry
    assert paths["bug.py"].read_bytes() == BUGGY
