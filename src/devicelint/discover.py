"""Which files to check: the paths given, with directories walked for Python files."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

# Never descended into when walking a directory (a path given explicitly is still checked).
# ruff's default excludes, plus build/ and __pycache__/.
DEFAULT_EXCLUDES = frozenset(
    {
        ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
        ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv",
        ".vscode", "__pypackages__", "__pycache__", "_build", "buck-out", "build", "dist", "node_modules",
        "site-packages", "venv",
    }
)
PYTHON_SUFFIXES = (".py", ".pyi")


class DiscoveryError(Exception):
    """A path the user gave does not exist."""


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files to check, in a stable order: explicit files first-come, walked files sorted."""
    seen: set[Path] = set()
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates: Iterable[Path] = _walk(path)
        elif path.exists():
            candidates = [path]
        else:
            raise DiscoveryError(f"{raw}: no such file or directory")
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


def _is_virtualenv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


def _walk(root: Path) -> Iterator[Path]:
    visited: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        here = Path(dirpath)
        stat = here.stat()
        if (stat.st_dev, stat.st_ino) in visited:  # a symlink loop
            dirnames[:] = []
            continue
        visited.add((stat.st_dev, stat.st_ino))
        dirnames[:] = sorted(
            d for d in dirnames if d not in DEFAULT_EXCLUDES and not d.endswith(".egg-info") and not _is_virtualenv(here / d)
        )
        for name in sorted(filenames):
            if name.endswith(PYTHON_SUFFIXES):
                yield here / name
