"""The project around a file: which other files its imports name, parsed at most once per run.

The import root of a file is the first directory above it that is not a package (no
``__init__.py``), as Python finds it when the project is run from its root (ruff's
``src`` roots do the same); the file's own directory is a root too, for scripts that
import their neighbours. ``import mypkg.utils`` and ``from .config import X`` resolve
to files under these roots. A module that cannot be found, read or parsed is unknown:
never an error, only less to follow.
"""

from __future__ import annotations

import ast
import bisect
import functools
import itertools
import os
import re
import stat
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import cached_property

from devicelint.dataclass import dataclass, field

try:  # hashlib's blake2b (all this module uses of it), without the OpenSSL bindings hashlib imports besides: 2-3 ms of start-up
    import _blake2 as hashlib
except ImportError:  # pragma: no cover - a Python without the module
    import hashlib


# A module bigger than this is not read to follow values into it (it is still checked
# itself when named on the command line).
MAX_MODULE_BYTES = 2 * 1024 * 1024
# How many importers of one module are read to follow a value out of it.
MAX_IMPORTERS = 64
# A project with more modules than this is searched for importers in the module's own
# package only (the index reads every file it covers).
MAX_INDEXED_FILES = 2_000
# The modules kept between files of a run, by the size of their text (least recently
# used ones go first); a module read again after that is parsed again. Each pool worker
# holds its own, and a module's tree and lines are many times its text: 1 MB instead of 4
# takes ~25 MB off the process tree of a 10x site-packages run (issue 16's memory target),
# and the bench corpus parses no module more often (it reads 225 instead of 164: ~0.01 s).
MAX_CACHED_TEXT = 1 * 1024 * 1024
# The importer indexes (and their listings) kept between files of a run, and the entries of
# the other per-run memos (import look-ups, importers found): a run over many trees (ten
# copies of site-packages) held every tree's, in every worker (issue 16's memory target).
MAX_INDEXES = 8
MAX_MEMO_ENTRIES = 1024
# A file modified less than this before its size and time were taken may be modified again
# without changing them (timestamps are coarser than nanoseconds): such a signature is never
# trusted to mean "unchanged".
RACY_NS = 2_000_000_000


class ModuleInfo:
    """One module: its text, and (parsed on first use) its tree and top-level names.

    Reading a module is cheap and parsing it is not, so a module of the project that
    is only looked at (does it hold a tracked string?) is never parsed.
    """

    def __init__(
        self, path: str, text: str, name: str | None, is_package: bool = False, tree: ast.Module | None = None,
        lines: list[str] | None = None,
    ) -> None:
        self.path = path
        self.text = text
        self.name = name  # dotted module name under its import root; None for a notebook or stdin
        self.is_package = is_package
        self.signature: tuple[int, int] | None = None  # (mtime, size) of the file it was read from
        self.digest: str | None = None  # of the bytes read from disk (for the persistent cache)
        # ``signature`` if it may stand for the digest (the file was written well before it was
        # read, see RACY_NS), else (-2, -2): the persistent cache then reads the file to compare
        self.trusted_signature: tuple[int, int] = (-2, -2)
        if tree is not None:
            self.__dict__["tree"] = tree
        if lines is not None:
            self.__dict__["lines"] = lines

    @cached_property
    def tree(self) -> ast.Module:
        """The parsed module; an empty one if it does not parse (it is then unknown)."""
        from devicelint.source import parse  # here: a warm cache run parses nothing

        try:
            return parse(self.text, self.path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return ast.Module(body=[], type_ignores=[])

    @cached_property
    def lines(self) -> list[str]:
        from devicelint.source import split_lines

        return split_lines(self.text)

    @cached_property
    def line_starts(self) -> list[int]:
        """Offset in ``text`` of each line's start, and the text's end."""
        return list(itertools.accumulate(map(len, self.lines), initial=0))

    def mentions(self, word: str) -> Callable[[ast.stmt], bool] | None:
        """A test of whether a statement's lines hold ``word``, or None when the text
        cannot say: a name spelt with non-ASCII characters is normalised in the tree
        (NFKC), so its spelling in the text may differ."""
        if not self.is_ascii:
            return None
        text, starts, last = self.text, self.line_starts, len(self.lines)

        def test(stmt: ast.stmt) -> bool:
            end = getattr(stmt, "end_lineno", None)
            if end is None or not 0 < stmt.lineno <= end <= last:
                return True
            return text.find(word, starts[stmt.lineno - 1], starts[end]) >= 0

        return test

    def holds_any(self, words: Iterable[str], first: int, last: int) -> bool:
        """Whether lines ``first``..``last`` (1-based) hold one of ``words`` as a substring;
        True when the lines are not in the text."""
        starts = self.line_starts
        if not 0 < first <= last < len(starts):
            return True
        start, end, find = starts[first - 1], starts[last], self.text.find
        return any(find(word, start, end) >= 0 for word in words)

    def lines_holding(self, words: Iterable[str], first: int = 1, last: int | None = None) -> list[int] | None:
        """The lines (1-based, sorted) that hold one of ``words`` as a substring, among lines
        ``first``..``last`` (all by default, which must be lines of the text); None for an
        empty word."""
        text, starts, found = self.text, self.line_starts, set()
        start, end = starts[first - 1], (starts[last] if last is not None else len(text))
        for word in words:
            if not word:
                return None
            position = text.find(word, start, end)
            while position >= 0:
                found.add(bisect.bisect_right(starts, position))
                position = text.find(word, position + 1, end)
        return sorted(found)

    def declares_global(self, node: ast.stmt) -> bool:
        """Whether a ``global`` statement is inside ``node`` (a statement of this module):
        only the statements around the lines that hold the word are looked at."""
        lines = self.lines_holding(("global",), node.lineno, node.end_lineno or node.lineno)
        return bool(lines) and any(isinstance(n, ast.Global) for n in _spanning_statements([node], lines))

    @cached_property
    def is_ascii(self) -> bool:
        return self.text.isascii()

    @cached_property
    def package(self) -> str | None:
        """The package relative imports start from."""
        if self.name is None:
            return None
        return self.name if self.is_package else self.name.rpartition(".")[0]

    @cached_property
    def definitions(self) -> dict[str, ast.stmt]:
        """Top-level functions and classes by name (inside if/try too; the last one wins)."""
        found: dict[str, ast.stmt] = {}
        for stmt in _top_level(self.tree.body):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found[stmt.name] = stmt
        return found

    @cached_property
    def imports(self) -> dict[str, str]:
        """Local name -> absolute qualified name, from every import statement of the module.

        Function-level imports count for the whole module: import scopes are not
        modelled, and a name imported twice differently is rare.
        """
        table: dict[str, str] = {}
        found = self.lines_holding(("import",))
        for node in statements(self.tree.body) if found is None else _spanning_statements(self.tree.body, found):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self.add_import(node, table)
        return table

    def add_import(self, node: ast.Import | ast.ImportFrom, table: dict[str, str]) -> None:
        """Enter the names an import statement binds into ``table`` (local -> qualified)."""
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    table[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    table[top] = top
            return
        base = self.absolute(node.module, node.level)
        if base is None:
            return
        for alias in node.names:
            if alias.name != "*":
                table[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name

    @cached_property
    def text_imports(self) -> dict[str, str]:
        """``imports`` read from the text alone (no parse): enough to follow a re-export
        through a module that is never analysed itself."""
        table: dict[str, str] = {}
        for match in _FROM_IMPORT.finditer(self.text):
            base = self.absolute(match["module"] or None, len(match["dots"]))
            if base is None:
                continue
            for part in match["names"].strip("()").replace("\\\n", ",").replace("\n", ",").split(","):
                words = part.split("#", 1)[0].split()
                if len(words) in (1, 3) and words[0] != "*" and words[0].isidentifier():
                    table[words[-1]] = f"{base}.{words[0]}" if base else words[0]
        for match in _PLAIN_IMPORT.finditer(self.text):
            for part in match[1].split(","):
                words = part.split()
                if len(words) == 3 and words[1] == "as":
                    table[words[2]] = words[0]
                elif len(words) == 1:
                    table[words[0].split(".", 1)[0]] = words[0].split(".", 1)[0]
        return table

    def defines(self, name: str) -> bool:
        """Whether the text may define ``name`` with def or class (a test before a parse)."""
        return _after_keyword(self.text, "def ", name) or _after_keyword(self.text, "class ", name)

    def absolute(self, module: str | None, level: int) -> str | None:
        """``from ..x import`` -> the absolute module name, or None when it leaves the tree."""
        if level == 0:
            return module
        package = self.package
        if package is None:
            return None
        parts = package.split(".") if package else []
        if level - 1 > len(parts):
            return None
        base = parts[: len(parts) - (level - 1)]
        if module:
            base.append(module)
        return ".".join(base)

    @cached_property
    def classes(self) -> dict[str, ast.ClassDef]:
        return {name: node for name, node in self.definitions.items() if isinstance(node, ast.ClassDef)}


def _after_keyword(text: str, keyword: str, name: str) -> bool:
    """``keyword`` directly followed by the identifier ``name`` somewhere in ``text``."""
    needle = keyword + name
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        if end == len(text) or not (text[end].isalnum() or text[end] == "_"):
            return True
        start = text.find(needle, end)
    return False


_FROM_IMPORT = re.compile(
    r"(?m)^[ \t]*from[ \t]+(?P<dots>\.*)(?P<module>[\w.]*)[ \t]+import[ \t]+(?P<names>\([^)]*\)|[^\n#;]*)"
)
_PLAIN_IMPORT = re.compile(r"(?m)^[ \t]*import[ \t]+([^\n#;]+)")


BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")  # the fields that hold blocks of statements


# The statements (and handlers, match cases) with blocks; the others are skipped without a
# look at their fields.
_HAS_BLOCKS = tuple(
    node_type
    for node_type in vars(ast).values()
    if isinstance(node_type, type)
    and issubclass(node_type, (ast.stmt, ast.excepthandler, ast.match_case))
    and not set(BLOCK_FIELDS).isdisjoint(node_type._fields)
)


def statements(body: list[ast.stmt], within: Callable[[ast.stmt], bool] | None = None):
    """Every statement at any depth, without walking expressions (much cheaper than ast.walk);
    with ``within``, not those inside a statement it says no to (its text lacks what is looked for)."""
    stack = [body]
    while stack:
        for stmt in stack.pop():
            yield stmt
            if isinstance(stmt, _HAS_BLOCKS) and (within is None or within(stmt)):
                stack.extend(inner_blocks(stmt))


def inner_blocks(stmt: ast.AST) -> list[list]:
    """The blocks directly inside a statement: a class or function body, an if's branches,
    a try's handlers, a match's cases (non-empty ones, in that order)."""
    if not isinstance(stmt, _HAS_BLOCKS):
        return []
    return [block for name in BLOCK_FIELDS if (block := getattr(stmt, name, None))]


def _spanning_statements(body: list[ast.stmt], lines: list[int]):
    """The statements of ``statements(body)`` that span one of ``lines`` (sorted), in its
    order: in each block, only those found by bisection on where they start."""
    stack = [body]
    while stack:
        block = stack.pop()
        if not block:
            continue
        if not hasattr(block[0], "lineno"):  # match cases carry no position
            chosen: Iterable[int] = range(len(block))
        else:
            starts = [stmt.lineno for stmt in block]
            spanning = set()
            for line in lines:
                index = bisect.bisect_right(starts, line) - 1  # the last one starting on or before it
                while index >= 0 and index not in spanning and (block[index].end_lineno or starts[index]) >= line:
                    spanning.add(index)  # and those before it on the same line (a; b)
                    index -= 1
            chosen = sorted(spanning)
        for index in chosen:
            stmt = block[index]
            yield stmt
            stack.extend(inner_blocks(stmt))


def _top_level(body: list[ast.stmt]):
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.Try, getattr(ast, "TryStar", ast.Try))):
            for block in (stmt.body, stmt.orelse, getattr(stmt, "finalbody", [])):
                yield from _top_level(block)
            for handler in getattr(stmt, "handlers", []):
                yield from _top_level(handler.body)


def import_root(path: str, is_file: Callable[[str], bool] = os.path.isfile) -> tuple[str, str | None, bool]:
    """(import root, dotted module name, is a package's __init__) for a file path
    (``is_file``: the cache's, which states each path once a run)."""
    absolute = os.path.abspath(path)
    directory, filename = os.path.split(absolute)
    stem = filename.rsplit(".", 1)[0]
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    while is_file(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
        if not package:
            break
    name = ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None
    return directory, name, is_package


@dataclass(eq=False)
class Project:
    """The modules of the trees a run touches, each read and parsed at most once."""

    _modules: OrderedDict[str, ModuleInfo | None] = field(default_factory=OrderedDict)
    _cached_text: int = 0
    _by_name: dict[tuple[str, str], tuple[str | None, list[tuple]]] = field(default_factory=dict)
    _index: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    _files: dict[str, list[str]] = field(default_factory=dict)
    _importers: dict[tuple[str, frozenset[str]], list[ModuleInfo]] = field(default_factory=dict)
    _absences: dict[str, tuple] = field(default_factory=dict)
    # While one file is checked for the persistent cache: what its result depends on
    # besides its own bytes (see cache.py and dependency_holds). None: not recorded.
    recorded: dict[tuple, None] | None = None

    # -- modules --------------------------------------------------------------

    def module_at(
        self, path: str, text: str | None = None, tree: ast.Module | None = None, lines: list[str] | None = None
    ) -> ModuleInfo | None:
        """The module of a file: the text, tree and lines given (the file being checked) or read from disk."""
        key = path if os.path.isabs(path) else os.path.abspath(path)
        if text is not None:
            _, name, is_package = import_root(path)
            info: ModuleInfo | None = ModuleInfo(path, text, name if not _is_pseudo(path) else None, is_package, tree, lines)
            self._remember(key, info)
            return info
        if key in self._modules:
            cached = self._modules[key]
            # a module given as text (the file being checked) stands; one read from disk
            # stands while the file is unchanged
            if cached is None or cached.signature is None or cached.signature == _signature(path):
                self._modules.move_to_end(key)
                self._record_module(key, cached)
                return cached
        info = _load(path)
        self._remember(key, info)
        self._record_module(key, info)
        return info

    def _record_module(self, key: str, info: ModuleInfo | None) -> None:
        if self.recorded is None:
            return
        if info is None:  # unreadable, too large or undecodable: as long as it stays so
            signature = _signature(key) or (-1, -1)
            if signature[0] >= time.time_ns() - RACY_NS:
                signature = (-2, -2)  # written moments ago: never taken as unchanged
            self.recorded[("unusable", key, *signature)] = None
        elif info.digest is not None:
            self.recorded[("module", key, info.digest, *info.trusted_signature)] = None

    def _remember(self, key: str, info: ModuleInfo | None) -> None:
        old = self._modules.pop(key, None)
        if old is not None:
            self._cached_text -= len(old.text)
        self._modules[key] = info
        self._cached_text += len(info.text) if info is not None else 0
        while self._cached_text > MAX_CACHED_TEXT and len(self._modules) > 1:
            _, evicted = self._modules.popitem(last=False)
            self._cached_text -= len(evicted.text) if evicted is not None else 0

    def clear(self) -> None:
        """Forget everything read: the start of a new run in the same process."""
        self._modules.clear()
        self._cached_text = 0
        self._by_name.clear()
        self._index.clear()
        self._files.clear()
        self._importers.clear()
        self._absences.clear()
        _roots_of_directory.cache_clear()  # a pyproject.toml may have appeared since

    def forget(self, module: ModuleInfo) -> None:
        """Drop a module given by text (a checked file) once its check is done: later files
        that import it read it again, so the cache holds files read from disk only."""
        key = module.path if os.path.isabs(module.path) else os.path.abspath(module.path)
        if self._modules.get(key) is module:
            del self._modules[key]
            self._cached_text -= len(module.text)

    def lines_of(self, path: str) -> list[str] | None:
        module = self.module_at(path)
        return module.lines if module is not None else None

    def resolve(self, importer: ModuleInfo, qualified: str) -> tuple[ModuleInfo, list[str]] | None:
        """``mypkg.utils.pick`` -> (the module mypkg/utils.py, ["pick"]), searching the import
        roots of ``importer``; None outside the project."""
        if _is_pseudo(importer.path):
            return None
        parts = qualified.split(".")
        for cut in range(len(parts), 0, -1):
            path = self._find(importer, ".".join(parts[:cut]))
            if path is not None:
                module = self.module_at(path)
                if module is not None:
                    return module, parts[cut:]
        return None

    def _find(self, importer: ModuleInfo, dotted: str) -> str | None:
        key = (os.path.dirname(os.path.abspath(importer.path)), dotted)
        if key in self._by_name:
            found, probed = self._by_name[key]
        else:
            found, probed = None, []
            roots = _roots(importer.path)
            probed.append(("roots", key[0], *roots))
            for root in roots:
                base = os.path.join(root, *dotted.split("."))
                for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                    if _is_small_regular_file(candidate):
                        found = candidate
                        break
                    probed.append(("absent", candidate))
                if found:
                    break
            self._by_name[key] = (found, probed)
            _bound(self._by_name, MAX_MEMO_ENTRIES)
        if self.recorded is not None:
            self.recorded.update(dict.fromkeys(self._absence(p) if p[0] == "absent" else p for p in probed))
        return found

    def _absence(self, probe: tuple) -> tuple:
        """What a module looked for and not found tells the persistent cache: ``probe``, the
        file's absence, or the absence of the first missing folder above it (one look then
        covers every module looked for below that folder)."""
        found = self._absences.get(probe[1])
        if found is None:
            missing, folder = None, os.path.dirname(probe[1])
            while not _is_folder(folder):
                missing, parent = folder, os.path.dirname(folder)
                if parent == folder:
                    break
                folder = parent
            found = self._absences[probe[1]] = ("no-folder", missing) if missing is not None else probe
        return found

    # -- importers --------------------------------------------------------------

    def importers(self, module: ModuleInfo, names: set[str]) -> list[ModuleInfo]:
        """Modules of the same project that import ``module`` and mention one of ``names``.

        An index of the import statements of the project's files is built once per run
        from their bytes (no parse); only the files it names, and whose bytes mention one
        of ``names``, are read as modules. At most MAX_IMPORTERS of them. The project is
        the import root (for installed packages: the module's top-level package); where
        that holds more than MAX_INDEXED_FILES modules, the module's own package.
        """
        if module.name is None or not names or _is_pseudo(module.path):
            return []
        key = (os.path.abspath(module.path), frozenset(names))
        if key not in self._importers:
            mention = re.compile(rb"\b(?:" + b"|".join(re.escape(n.encode()) for n in sorted(names)) + rb")\b")
            own = os.path.abspath(module.path)
            found: list[ModuleInfo] = []
            for path in self._index_for(module).get(module.name, ()):
                data = _read_small(path) if path != own else None
                if data is None or not mention.search(data):
                    continue
                other = self.module_at(path)
                if other is not None:
                    found.append(other)
                if len(found) >= MAX_IMPORTERS:
                    break
            self._importers[key] = found
            _bound(self._importers, MAX_MEMO_ENTRIES)
        elif self.recorded is not None:  # what the first search read, for this file's record
            self._index_for(module)
            for other in self._importers[key]:
                self._record_module(os.path.abspath(other.path), other)
        return self._importers[key]

    def _index_for(self, module: ModuleInfo) -> dict[str, list[str]]:
        root = import_root(module.path)[0]
        assert module.name is not None
        base = root
        if os.path.basename(root) in ("site-packages", "dist-packages"):
            base = os.path.join(root, module.name.split(".", 1)[0])
        files = self._py_files(base)
        if len(files) > MAX_INDEXED_FILES:
            base = os.path.dirname(os.path.abspath(module.path))
            files = self._py_files(base)[: MAX_INDEXED_FILES]
        index = self._index.get(base)
        if index is None:
            index = self._index[base] = {}
            _bound(self._index, MAX_INDEXES)
            for path in files:
                data = _read_small(path)
                if data is not None and b"import" in data:
                    for name in _imported_modules(data, _package_of(root, path)):
                        index.setdefault(name, []).append(path)
        return index

    def _py_files(self, base: str) -> list[str]:
        """The .py files under ``base`` (sorted; at most one more than MAX_INDEXED_FILES)."""
        files = self._files.get(base)
        if files is None:
            files = self._files[base] = py_files(base)
            _bound(self._files, MAX_INDEXES)
        if self.recorded is not None:
            # the importer index reads every file listed: a new or edited file may import the module
            self.recorded[("listing", base, listing_digest(files))] = None
        return files


def py_files(base: str, folders: list[tuple[str, int, int, int, int]] | None = None) -> list[str]:
    """The .py files under ``base`` (sorted; at most one more than MAX_INDEXED_FILES), as
    os.walk finds them (links to folders are not followed), hidden folders and _SKIPPED_DIRS
    left out.

    With ``folders``: each folder walked is added as (path, device, inode, mtime, ctime),
    stated before it is listed, so that a later run can tell that its listing is unchanged
    without listing it (cache.py; the ctime also changes with the folder's permissions); a
    (path, -1, -1, -1, -1) says that this cannot be trusted (a folder written moments before,
    one that could not be listed, a symbolic link whose target may change without its folder).
    """
    files: list[str] = []
    stack = [os.path.abspath(base)]
    recent = time.time_ns() - RACY_NS
    while stack:
        directory = stack.pop()
        if folders is not None:
            try:
                info = os.stat(directory)
                trusted = info.st_mtime_ns < recent
                folders.append((directory, info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns) if trusted else _untrusted(directory))
            except (OSError, ValueError):
                folders.append(_untrusted(directory))
        subdirs, names = [], []
        try:
            with os.scandir(directory) as listing:
                for entry in listing:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    name = entry.name
                    if is_dir or name.endswith(".py"):
                        is_link = entry.is_symlink()
                        if is_link and folders is not None:
                            folders.append(_untrusted(directory))
                        if not is_dir:
                            names.append(name)
                        elif not is_link and not name.startswith(".") and name not in _SKIPPED_DIRS:
                            subdirs.append(name)
        except (OSError, ValueError):
            if folders is not None:
                folders.append(_untrusted(directory))
            continue
        files.extend(os.path.join(directory, f) for f in sorted(names))
        if len(files) > MAX_INDEXED_FILES:
            break
        stack.extend(os.path.join(directory, d) for d in sorted(subdirs, reverse=True))
    return files


def _untrusted(directory: str) -> tuple[str, int, int, int, int]:
    return (directory, -1, -1, -1, -1)


def listing_digest(files: list[str], signature: Callable[[str], tuple[int, int] | None] | None = None) -> str:
    """The names, sizes and modification times of ``files``: changes when one is added,
    removed or rewritten. (``signature``: _signature, or a run's memo of it.)"""
    signature_of = signature or _signature
    digest = hashlib.blake2b(digest_size=16)
    recent = time.time_ns() - RACY_NS
    for path in files:
        signature = signature_of(path)
        if signature is not None and signature[0] >= recent:
            # written moments ago: a second write within the clock's resolution would keep
            # this signature, so the listing is never taken as unchanged (as git's racy check)
            digest.update(f"racy {time.time_ns()} {os.getpid()}".encode())
        digest.update(f"{path}\0{signature}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def dependency_holds(dependency: tuple) -> bool:
    """Whether what a check recorded (Project.recorded) is still so on disk now."""
    kind = dependency[0]
    if kind == "module":
        _, path, digest, mtime, size = dependency
        if mtime >= 0 and _is_small_regular_file(path) and _signature(path) == (mtime, size):
            return True  # written well before it was read (Project._load): the time stands for the bytes
        data = _read_small(path)
        return data is not None and content_digest(data) == digest
    if kind == "unusable":
        _, path, mtime, size = dependency
        return (_signature(path) or (-1, -1)) == (mtime, size) and _load(path) is None
    if kind == "absent":
        return not _is_small_regular_file(dependency[1])
    if kind == "no-folder":
        return not _is_folder(dependency[1])
    if kind == "roots":
        return list(dependency[2:]) == import_roots(dependency[1])
    if kind == "listing":
        _, base, digest = dependency
        return listing_digest(py_files(base)) == digest
    return False


_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "build", "dist", "venv", "env"})


def _package_of(root: str, path: str) -> list[str]:
    relative = os.path.relpath(path, root)[: -len(".py")].split(os.sep)
    return relative[:-1]  # the package a relative import starts from (also for __init__)


def imported_module_names(module: ModuleInfo) -> set[str]:
    """The absolute module names the import statements of ``module`` name (a text scan)."""
    package = module.package.split(".") if module.package else []
    return _imported_modules(module.text.encode("utf-8", "surrogatepass"), package)


def _imported_modules(data: bytes, package: list[str]) -> set[str]:
    """The absolute module names a file's import statements name (and ``from`` names, which
    may be submodules). A byte scan: each ``import`` word, then its line."""
    found: set[str] = set()
    at = data.find(b"import")
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        line = data[start:end].strip()
        if line.startswith((b"try:", b"else:")):  # `try: import x` on one line
            line = line.partition(b":")[2].strip()
        if line.startswith(b"(") or not line.startswith((b"from", b"import")):
            at = data.find(b"import", end)
            continue
        if line.endswith(b"(") or line.endswith(b"\\"):  # a continued import: up to the closing paren
            close = data.find(b")", end)
            end = len(data) if close < 0 else close
            line = data[start:end].replace(b"\\", b" ").replace(b"\n", b" ").replace(b"(", b" ")
        _add_imports(line.decode("utf-8", "replace"), package, found)
        at = data.find(b"import", end)
    return found


def _add_imports(line: str, package: list[str], found: set[str]) -> None:
    words = line.split("#", 1)[0].replace(",", " , ").split()
    if len(words) >= 2 and words[0] == "import":
        for part in " ".join(words[1:]).split(","):
            name = part.split()[0] if part.split() else ""
            if name.replace(".", "").replace("_", "").isalnum():
                found.add(name)
    elif len(words) >= 4 and words[0] == "from" and words[2] == "import":
        module = words[1]
        level = len(module) - len(module.lstrip("."))
        if level and level - 1 > len(package):
            return
        base = package[: len(package) - (level - 1)] if level else []
        if module.lstrip("."):
            base = [*base, module.lstrip(".")]
        if not base:
            return
        dotted = ".".join(base)
        found.add(dotted)
        for part in " ".join(words[3:]).split(","):
            name = part.split()[0] if part.split() else ""
            if name.isidentifier():
                found.add(f"{dotted}.{name}")


def _roots(path: str) -> list[str]:
    return _roots_of_directory(os.path.dirname(os.path.abspath(path)))


@functools.lru_cache(maxsize=4096)
def _roots_of_directory(own: str) -> list[str]:
    return import_roots(own)


def import_roots(own: str, is_file: Callable[[str], bool] = os.path.isfile, is_dir: Callable[[str], bool] = os.path.isdir) -> list[str]:
    """Where an absolute import of a file in ``own`` is looked for: the root of its package,
    its own folder (a script's sys.path[0]), then, as ruff's default ``src = [".", "src"]``,
    the project root (the nearest folder above with a pyproject.toml, setup.py or setup.cfg)
    and its ``src``: scripts in ``examples/`` import the project's package from there."""
    root = import_root(os.path.join(own, "_.py"), is_file)[0]
    roots = [root] if root == own else [root, own]
    project = _project_root(own, is_file)
    if project is not None:
        for candidate in (project, os.path.join(project, "src")):
            if candidate not in roots and is_dir(candidate):
                roots.append(candidate)
    return roots


_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")
_MAX_PROJECT_DEPTH = 8  # folders walked up looking for the project root


def _project_root(own: str, is_file: Callable[[str], bool] = os.path.isfile) -> str | None:
    directory = own
    for _ in range(_MAX_PROJECT_DEPTH):
        if os.path.basename(directory) in ("site-packages", "dist-packages"):
            return None  # installed packages: the project is the package
        if any(is_file(os.path.join(directory, marker)) for marker in _PROJECT_MARKERS):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return None


def _bound(memo: dict, size: int) -> None:
    """Drop a run's oldest memo entries beyond ``size`` (recomputed if needed again)."""
    while len(memo) > size:
        del memo[next(iter(memo))]


def _is_pseudo(path: str) -> bool:
    """``<stdin>``, ``<unknown>``: source that stands alone, outside any project."""
    return path.startswith("<")


def _is_small_regular_file(path: str) -> bool:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size <= MAX_MODULE_BYTES


def _is_folder(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _read_small(path: str) -> bytes | None:
    if not _is_small_regular_file(path):
        return None
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_MODULE_BYTES + 1)
    except (OSError, ValueError):
        return None


def _signature(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_mtime_ns, info.st_size


def _load(path: str) -> ModuleInfo | None:
    read_at = time.time_ns()
    signature = _signature(path)
    data = _read_small(path)
    if data is None or len(data) > MAX_MODULE_BYTES:
        return None
    try:
        from devicelint.source import decode

        text = decode(data).text
    except (SyntaxError, UnicodeError, LookupError, ValueError):
        return None
    _, name, is_package = import_root(path)
    info = ModuleInfo(path, text, name, is_package)
    info.signature = signature  # a later read of a changed file does not use this one
    info.digest = content_digest(data)
    if signature is not None and signature[0] < read_at - RACY_NS:
        info.trusted_signature = signature
    return info
