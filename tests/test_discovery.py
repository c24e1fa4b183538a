"""File discovery on real trees: .gitignore in a real git repository, default excludes,
explicit paths, --force-exclude, standard input, symlink loops and unreadable files."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from helpers import devicelint

BUGGY = '''\
import torch


def load(batch, device):
    device = "auto" if device == "cuda" else device
    return batch.to(device)
'''
FIXED = BUGGY.replace('"auto" if device == "cuda"', '"cuda" if device == "auto"')


def _reported(*args, cwd) -> list[str]:
    result = devicelint("check", "--format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return sorted({item["filename"] for item in json.loads(result.stdout)})


@pytest.fixture
def repo(tmp_path, write):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(".gitignore", "ignored_dir/\n*_gen.py\n!keep_gen.py\n/rootonly.py\n")
    write("sub/.gitignore", "local.py\n!special_gen.py\n")
    (tmp_path / ".git" / "info").mkdir(exist_ok=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("private.py\n")
    for name in (
        "app.py",
        "ignored_dir/a.py",
        "x_gen.py",
        "keep_gen.py",
        "rootonly.py",
        "sub/rootonly.py",  # /rootonly.py is anchored to the root
        "sub/local.py",
        "sub/y_gen.py",
        "sub/special_gen.py",  # re-included by the nested .gitignore
        "sub/deeper/local.py",
        "private.py",
    ):
        write(name, BUGGY)
    return tmp_path


def test_gitignore_root_nested_negation_and_info_exclude(repo) -> None:
    assert _reported(".", cwd=repo) == ["app.py", "keep_gen.py", "sub/rootonly.py", "sub/special_gen.py"]


def test_gitignore_applies_when_walking_a_subfolder(repo) -> None:
    assert _reported("sub", cwd=repo) == ["sub/rootonly.py", "sub/special_gen.py"]
    assert _reported(".", cwd=repo / "sub") == ["rootonly.py", "special_gen.py"]


def test_no_respect_gitignore(repo) -> None:
    assert len(_reported("--no-respect-gitignore", ".", cwd=repo)) == 11


def test_respect_gitignore_false_in_config(repo, write) -> None:
    write("pyproject.toml", "[tool.devicelint]\nrespect-gitignore = false\n")
    assert len(_reported(".", cwd=repo)) == 11
    assert len(_reported("--respect-gitignore", ".", cwd=repo)) == 4


def test_ignored_paths_given_explicitly_are_checked(repo) -> None:
    assert _reported("x_gen.py", "sub/local.py", cwd=repo) == ["sub/local.py", "x_gen.py"]
    assert _reported("ignored_dir", cwd=repo) == ["ignored_dir/a.py"]


def test_gitignore_counts_only_inside_a_repository(tmp_path, write) -> None:
    write(".gitignore", "*.py\n")
    write("app.py", BUGGY)
    assert _reported(".", cwd=tmp_path) == ["app.py"]


def test_default_excludes_and_virtualenvs(tmp_path, write) -> None:
    write("pkg/mod.py", BUGGY)
    for skipped in (
        ".git/hooks/x.py", "build/lib/x.py", "dist/x.py", "venv/lib/x.py", ".venv/x.py", "node_modules/x.py",
        "__pycache__/x.py", ".tox/py/x.py", "pkg.egg-info/x.py", ".ipynb_checkpoints/x.py",
    ):  # fmt: skip
        write(skipped, BUGGY)
    write("env/pyvenv.cfg", "home = /usr\n")  # a virtualenv under any name
    write("env/lib/x.py", BUGGY)
    assert _reported(".", cwd=tmp_path) == ["pkg/mod.py"]


def test_force_exclude_applies_exclude_to_explicit_paths(tmp_path, write) -> None:
    write("build/x.py", BUGGY)
    write("pyproject.toml", '[tool.devicelint]\nextend-exclude = ["generated_*.py"]\n')
    write("src/generated_api.py", BUGGY)
    assert _reported("build/x.py", "src/generated_api.py", cwd=tmp_path) == ["build/x.py", "src/generated_api.py"]
    assert _reported("--force-exclude", "build/x.py", "src/generated_api.py", cwd=tmp_path) == []
    write("pyproject.toml", '[tool.devicelint]\nforce-exclude = true\nextend-exclude = ["generated_*.py"]\n')
    assert _reported("build/x.py", "src/generated_api.py", cwd=tmp_path) == []


def test_force_exclude_with_files_for_pre_commit(tmp_path, write) -> None:
    write("build/x.py", BUGGY)
    result = devicelint("check", "--files", "--force-exclude", "build/x.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "All checks passed!\n")


# --- standard input -------------------------------------------------------------------------------


def test_check_stdin_reports_under_the_given_name(tmp_path) -> None:
    result = devicelint("check", "--stdin-filename", "pkg/model.py", "-", cwd=tmp_path, stdin=BUGGY)
    assert result.returncode == 1
    assert result.stdout.startswith("pkg/model.py:5:14: DEV001 [*]")
    # No path and --stdin-filename also reads standard input (ruff's convention).
    assert devicelint("check", "--stdin-filename", "m.py", cwd=tmp_path, stdin=BUGGY).stdout.startswith("m.py:5:14")
    assert devicelint("check", "-", cwd=tmp_path, stdin=BUGGY).stdout.startswith("-:5:14")


def test_check_stdin_per_file_ignores_apply_to_the_name(tmp_path, write) -> None:
    write("pyproject.toml", '[tool.devicelint.per-file-ignores]\n"tests/*" = ["DEV001"]\n')
    ignored = devicelint("check", "--stdin-filename", "tests/test_model.py", "-", cwd=tmp_path, stdin=BUGGY)
    assert (ignored.returncode, ignored.stdout) == (0, "All checks passed!\n")
    reported = devicelint("check", "--stdin-filename", "src/model.py", "-", cwd=tmp_path, stdin=BUGGY)
    assert reported.returncode == 1


def test_fix_stdin_prints_only_the_fixed_source(tmp_path) -> None:
    result = devicelint("fix", "--stdin-filename", "model.py", "-", cwd=tmp_path, stdin=BUGGY)
    assert (result.returncode, result.stdout, result.stderr) == (0, FIXED, "")
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_fix_stdin_echoes_unchanged_source_byte_for_byte(tmp_path) -> None:
    source = b"import torch\r\nx = torch.zeros(2, device='cpu')  \r\n\r\n"
    result = subprocess.run(
        [*_module(), "fix", "--stdin-filename", "m.py", "-"], input=source, capture_output=True, cwd=tmp_path, check=False
    )
    assert (result.returncode, result.stdout) == (0, source)


def test_fix_stdin_remaining_findings_go_to_stderr(tmp_path) -> None:
    source = BUGGY + 'torch.device("balanced")\n'
    result = devicelint("fix", "--stdin-filename", "model.py", "-", cwd=tmp_path, stdin=source)
    assert result.returncode == 1
    assert result.stdout == FIXED + 'torch.device("balanced")\n'
    assert result.stderr.startswith("model.py:7:14: DEV002")


def test_fix_stdin_with_a_syntax_error_echoes_the_source(tmp_path) -> None:
    source = 'device = "auto"\ndef f(:\n'
    result = devicelint("fix", "--stdin-filename", "broken.py", "-", cwd=tmp_path, stdin=source)
    assert result.returncode == 1
    assert result.stdout == source
    assert "DEV900" in result.stderr


def test_fix_stdin_diff_and_check(tmp_path) -> None:
    diff = devicelint("fix", "--diff", "--stdin-filename", "model.py", "-", cwd=tmp_path, stdin=BUGGY)
    assert diff.returncode == 1
    assert diff.stdout.startswith("--- model.py\n+++ model.py\n")
    check = devicelint("fix", "--check", "--stdin-filename", "model.py", "-", cwd=tmp_path, stdin=BUGGY)
    assert check.returncode == 1
    assert check.stdout.startswith("would fix model.py (1 problem)")


def test_stdin_combined_with_paths_is_a_usage_error(tmp_path) -> None:
    result = devicelint("check", "-", "a.py", cwd=tmp_path, stdin="")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1


def _module() -> list[str]:
    import sys

    return [sys.executable, "-m", "devicelint"]


# --- symlinks and unreadable files --------------------------------------------------------------------


def test_symlink_loop_does_not_hang(tmp_path, write) -> None:
    write("pkg/mod.py", BUGGY)
    os.symlink("..", tmp_path / "pkg" / "up")  # pkg/up/pkg/up/... forever
    os.symlink("loop_b", tmp_path / "loop_a")
    os.symlink("loop_a", tmp_path / "loop_b")  # a link to itself through another: neither file nor folder
    os.symlink("missing.py", tmp_path / "dangling.py")
    result = devicelint("check", "--format", "json", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert [item["filename"] for item in json.loads(result.stdout)] == ["pkg/mod.py"]


def test_symlinked_file_is_checked_once(tmp_path, write) -> None:
    write("pkg/mod.py", BUGGY)
    os.symlink("pkg/mod.py", tmp_path / "alias.py")
    assert len(_reported(".", cwd=tmp_path)) == 1


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_reported_and_skipped(tmp_path, write) -> None:
    write("a_bug.py", BUGGY)
    secret = write("b_secret.py", BUGGY)
    locked = write("c_locked/x.py", BUGGY)
    secret.chmod(0)
    locked.parent.chmod(0)
    try:
        result = devicelint("check", ".", cwd=tmp_path)
    finally:
        secret.chmod(0o644)
        locked.parent.chmod(0o755)
    assert result.returncode == 2  # a check that could not read every file does not pass
    assert result.stdout.startswith("a_bug.py:5:14: DEV001")  # the other findings are still reported
    assert "b_secret.py: error: cannot read: Permission denied" in result.stderr
    assert "c_locked: error: cannot read directory: Permission denied" in result.stderr
    assert "Traceback" not in result.stderr


def test_paths_are_shown_as_pathlib_shows_them() -> None:
    """A named path is reported as ``str(pathlib.Path(path))`` ("./a.py" as "a.py"), worked out
    without importing pathlib: every path of up to four pieces agrees."""
    import itertools
    from pathlib import Path

    from devicelint.discover import _as_given

    pieces = ["", "/", "//", "///", ".", "..", "./", "/./", "a", "b.py", ".x"]
    for count in range(1, 5):
        for combination in itertools.product(pieces, repeat=count):
            path = "".join(combination)
            if path:
                assert _as_given(path) == str(Path(path)), path


def test_names_given_together_are_shown_as_each_alone() -> None:
    """_all_as_given (one search of all the names for those not in the form shown) gives what
    _as_given gives each name: for each odd name among plain ones, and for all of them at once."""
    import itertools

    from devicelint.discover import _all_as_given, _as_given

    pieces = ["", "/", "//", ".", "..", "./", "/./", "a", "b.py", ".x", "\n"]
    odd = ["".join(c) for count in (1, 2, 3) for c in itertools.product(pieces, repeat=count)]
    plain = ["a.py", "pkg/b.py", "pkg/sub/c.py"]
    for name in odd:
        names = [*plain, name, *plain]
        assert _all_as_given(names) == [_as_given(n) for n in names], name
    assert _all_as_given(odd) == [_as_given(n) for n in odd]
    assert _all_as_given(plain) is plain
