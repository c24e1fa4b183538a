"""Which files to check: the paths given, with directories walked for Python files and notebooks.

Walking a directory skips what ruff skips: the ``exclude`` patterns (by default
DEFAULT_EXCLUDES: VCS folders, virtual environments, caches, build output), any
virtual environment (a folder with ``pyvenv.cfg``), and, inside a git repository,
what its ``.gitignore`` files (every level, with negation) and ``.git/info/exclude``
ignore, matched by pathspec's gitignore implementation. As in git, .gitignore files
count only inside a repository.

A path given explicitly is always checked, even if excluded or ignored, unless
``force_exclude`` is set (ruff's ``--force-exclude``, for pre-commit, which passes
every changed file): then the ``exclude`` patterns apply to it and its parents.
Symlinked directories are followed once (a loop ends the descent), broken links are
skipped, and a missing path or a directory that cannot be listed is reported, not fatal.
Files reached through a link that leads out of the tree they were found in are marked
(``Discovery.linked_out``): ``fix`` reads them but does not write them.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator
from stat import S_ISDIR, S_ISLNK, S_ISREG

from devicelint.dataclass import dataclass, field
from devicelint.globs import PatternSet, absolute

TYPE_CHECKING = False  # typing.TYPE_CHECKING (type checkers take it as true) without importing typing: 2-4 ms of start-up
if TYPE_CHECKING:
    import pathspec

# ruff's default excludes, plus build/ and __pycache__/.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
    ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv",
    ".vscode", "__pypackages__", "__pycache__", "_build", "buck-out", "build", "dist", "node_modules",
    "site-packages", "venv", "*.egg-info",
)  # fmt: skip
PYTHON_SUFFIXES = (".py", ".pyi")
NOTEBOOK_SUFFIX = ".ipynb"
CHECKED_SUFFIXES = (*PYTHON_SUFFIXES, NOTEBOOK_SUFFIX)


@dataclass(frozen=True)
class FileOptions:
    """How directories are walked and which explicit paths are dropped."""

    exclude: PatternSet = field(default_factory=lambda: PatternSet.of(DEFAULT_EXCLUDES, absolute(".")))
    respect_gitignore: bool = True
    force_exclude: bool = False
    root: str = field(default_factory=lambda: absolute("."))  # where force-exclude stops looking at parents

    def force_excluded(self, path: str | os.PathLike[str]) -> bool:
        """For ``--force-exclude``: the path or one of its parents below the project root is excluded."""
        if not self.force_exclude:
            return False
        current = absolute(path)
        while True:
            if self.exclude.matches(current):
                return True
            parent = os.path.dirname(current)
            if current == self.root or parent == current or not (parent + os.sep).startswith(self.root + os.sep):
                return False
            current = parent


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message): paths missing, folders unreadable
    # Files reached through a symbolic link whose target lies outside the tree they were
    # found in (for a file given explicitly: its own folder). ``fix`` does not write them.
    linked_out: set[str] = field(default_factory=set)
    # What was stated of the files given explicitly (the persistent cache uses it: one
    # system call per file, not two).
    stats: dict[str, os.stat_result] = field(default_factory=dict)


def discover(paths: Iterable[str | os.PathLike[str]], options: FileOptions | None = None) -> Discovery:
    """Files to check, in a stable order: explicit files first-come, walked files sorted
    (a folder's files, then its subfolders), each file once. (The cyclic garbage collector
    is paused meanwhile: a name and a stat a file, no cycles; with the cache's lookups, its
    passes were a sixth of a warm run over thousands of files named.)"""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _discover(paths, options or FileOptions())
    finally:
        if collecting:
            gc.enable()


def _discover(paths: Iterable[str | os.PathLike[str]], options: FileOptions) -> Discovery:
    # Each real file once: the inodes seen, per device (plain ints, not (device, inode) pairs:
    # a tenth of the parent's memory on a large tree, and a pool's workers inherit it).
    seen: dict[int, set[int]] = {}
    result = Discovery()
    names = list(map(os.fspath, paths))
    # the usual case, made short (thousands of names from pre-commit): a regular file
    short, lstat, files, stats = not options.force_exclude, os.lstat, result.files, result.stats
    for name, path in zip(names, _all_as_given(names)):  # "./a.py" -> "a.py", as reported
        if not name:
            result.errors.append(("''", "empty path"))  # not ".": `fix --files ""` must not fix the tree
            continue
        is_link = False
        try:
            # One system call per named file, a second for a link.
            stat: os.stat_result | None = lstat(path)
            if short and S_ISREG(stat.st_mode):
                inodes = seen.get(stat.st_dev)
                if inodes is None:
                    inodes = seen[stat.st_dev] = set()
                if stat.st_ino not in inodes:
                    inodes.add(stat.st_ino)
                    files.append(path)
                    stats[path] = stat
                continue
            is_link = S_ISLNK(stat.st_mode)
            if is_link:
                stat = os.stat(path)
        except (OSError, ValueError) as error:
            stat, stat_error = None, error
        if stat is not None and S_ISDIR(stat.st_mode):
            if options.force_excluded(path):
                continue
            candidates: Iterable[tuple[str, tuple[int, int], bool]] = _walk(path, options, result.errors)
        elif stat is not None or is_link:
            if options.force_excluded(path):
                continue
            if stat is None:  # a broken link
                reason = stat_error.strerror if isinstance(stat_error, OSError) and stat_error.strerror else stat_error
                result.errors.append((path, f"cannot read: {reason}"))
                continue
            # (realpath costs an lstat per path component: only for a link)
            linked_out = is_link and not _inside(
                os.path.realpath(path), os.path.realpath(os.path.dirname(absolute(path)))
            )
            candidates = [(path, (stat.st_dev, stat.st_ino), linked_out)]
            result.stats[path] = stat
        else:
            result.errors.append((path, "no such file or directory"))
            continue
        for candidate, (device, inode), linked_out in candidates:
            inodes = seen.get(device)
            if inodes is None:
                inodes = seen[device] = set()
            if inode not in inodes:
                inodes.add(inode)
                result.files.append(candidate)
                if linked_out:
                    result.linked_out.add(candidate)
    return result


def _as_given(path: str) -> str:
    """``str(pathlib.Path(path))``: "." and empty components dropped, ".." kept (without
    importing pathlib, a few milliseconds of every start-up)."""
    if os.sep != "/" or (os.altsep and os.altsep in path):  # pragma: no cover - Windows
        from pathlib import Path

        return str(Path(path))
    if "//" not in path and "/./" not in path and not path.startswith("./") and not path.endswith(("/", "/.")) and path != ".":
        return path  # already in that form (the usual case: thousands of names from pre-commit)
    root = "//" if path.startswith("//") and not path.startswith("///") else "/" if path.startswith("/") else ""
    return root + "/".join(part for part in path.split("/") if part and part != ".") or "."


def _all_as_given(names: list[str]) -> list[str]:
    """_as_given of each name; names already in that form (the usual case) told apart in two
    searches of them all, not a call and five tests each. Joined by "/" (and between two),
    every name that is not in that form shows "//" or "/./": a doubled or trailing "/" (or
    an empty name), a "." piece at its start, in it or at its end."""
    joined = "/%s/" % "/".join(names)
    if os.sep == "/" and not os.altsep and "//" not in joined and "/./" not in joined:
        return names
    return [_as_given(name) for name in names]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


# --- .gitignore ------------------------------------------------------------------------


@dataclass(frozen=True)
class _GitIgnore:
    """The .gitignore rules in force in one directory: each level's file, shallow to deep."""

    levels: tuple[tuple[str, pathspec.GitIgnoreSpec], ...] = ()

    def ignored(self, absolute_path: str, is_dir: bool) -> bool:
        verdict = None
        for base, spec in self.levels:
            relative = _relative(absolute_path, base) + ("/" if is_dir else "")
            include = spec.check_file(relative).include
            if include is not None:
                verdict = include  # a deeper .gitignore overrides a shallower one, as in git
        return bool(verdict)

    def enter(self, directory: str) -> _GitIgnore:
        spec = _read_spec(os.path.join(directory, ".gitignore"))
        return _GitIgnore((*self.levels, (directory, spec))) if spec is not None else self


def _relative(path: str, base: str) -> str:
    """``path`` below ``base`` in gitignore's form (``/`` separators); both absolute and normalised."""
    prefix = base if base.endswith(os.sep) else base + os.sep
    relative = path[len(prefix) :] if path.startswith(prefix) else os.path.relpath(path, base)
    return relative.replace(os.sep, "/") if os.sep != "/" else relative


# A .gitignore larger than this is not read (nor one that is not a regular file: a FIFO
# would block, a link to /dev/zero never end).
_MAX_GITIGNORE_BYTES = 4 * 2**20


def _read_spec(path: str) -> pathspec.GitIgnoreSpec | None:
    if not os.path.lexists(path):
        return None
    import pathspec  # only inside a git repository with .gitignore files

    from devicelint.reading import Refused, read_regular_file

    try:
        data = read_regular_file(path, _MAX_GITIGNORE_BYTES)
    except (OSError, Refused):
        return None
    return pathspec.GitIgnoreSpec.from_lines(data.decode("utf-8", "replace").splitlines())


def _repository_root(directory: str) -> str | None:
    current = directory
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _gitignore_above(root: str) -> _GitIgnore | None:
    """The rules in force at ``root`` from the repository's root down to ``root``'s parent;
    None outside a git repository."""
    repository = _repository_root(root)
    if repository is None:
        return None
    rules = _GitIgnore()
    exclude = _read_spec(os.path.join(repository, ".git", "info", "exclude"))
    if exclude is not None:
        rules = _GitIgnore(((repository, exclude),))
    directory = repository
    for part in os.path.relpath(root, repository).split(os.sep) if root != repository else ():
        rules = rules.enter(directory)
        directory = os.path.join(directory, part)
    # A folder given explicitly is walked even when ignored itself: drop the rules that ignore it.
    if root != repository and rules.ignored(root, is_dir=True):
        rules = _GitIgnore()
    return rules


# --- walking ------------------------------------------------------------------------------


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


def _is_virtualenv(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))


def _child(shown: str, name: str) -> str:
    return name if shown == "." else os.path.join(shown, name)


def _walk(
    top: str, options: FileOptions, errors: list[tuple[str, str]]
) -> Iterator[tuple[str, tuple[int, int], bool]]:
    """(path, (device, inode), reached through a link out of ``top``) of each file: depth
    first, iteratively (no recursion limit), each real folder once (symlink loops)."""
    top_absolute = absolute(top)
    top_real = os.path.realpath(top_absolute)
    gitignore = _gitignore_above(top_absolute) if options.respect_gitignore else None
    visited: set[tuple[int, int]] = set()
    stack: list[tuple[str, str, _GitIgnore | None, bool]] = [(top, top_absolute, gitignore, False)]
    while stack:
        shown, real, rules, linked = stack.pop()
        try:
            stat = os.stat(real)
            if (stat.st_dev, stat.st_ino) in visited:
                continue  # a symlink back to a folder already walked
            visited.add((stat.st_dev, stat.st_ino))
            with os.scandir(real) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as error:
            errors.append((shown, f"cannot read directory: {error.strerror or error}"))
            continue
        if rules is not None:
            rules = rules.enter(real)
        subfolders = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # follows symlinks; a broken link is neither dir nor file
                is_file = not is_dir and entry.name.endswith(CHECKED_SUFFIXES) and entry.is_file()
            except OSError:
                continue
            if not (is_dir or is_file):
                continue
            entry_real = os.path.join(real, entry.name)
            if options.exclude.matches(entry_real):
                continue
            if rules is not None and rules.ignored(entry_real, is_dir):
                continue
            is_link = entry.is_symlink()
            if is_dir:
                if not _is_virtualenv(entry_real):
                    subfolders.append((_child(shown, entry.name), entry_real, rules, linked or is_link))
            else:
                try:
                    # The inode comes with the directory listing; a link needs a stat of its target.
                    key = (stat.st_dev, entry.inode()) if not is_link else _identity(entry.stat())
                except OSError:
                    continue
                linked_out = (linked or is_link) and not _inside(os.path.realpath(entry_real), top_real)
                yield _child(shown, entry.name), key, linked_out
        stack.extend(reversed(subfolders))
