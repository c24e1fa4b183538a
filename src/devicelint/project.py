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
import os
import re
import stat
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property

from devicelint.source import decode, parse, split_lines

# A module bigger than this is not read to follow values into it (it is still checked
# itself when named on the command line).
MAX_MODULE_BYTES = 2 * 1024 * 1024
# How many importers of one module are read to follow a value out of it.
MAX_IMPORTERS = 64
# How many files the importers index reads at most (a huge tree is not scanned).
MAX_INDEXED_FILES = 20_000
# The modules kept between files of a run, by the size of their text (least recently
# used ones go first); a module read again after that is parsed again.
MAX_CACHED_TEXT = 32 * 1024 * 1024


class ModuleInfo:
    """One module: its text, and (parsed on first use) its tree and top-level names.

    Reading a module is cheap and parsing it is not, so a module of the project that
    is only looked at (does it hold a tracked string?) is never parsed.
    """

    def __init__(
        self, path: str, text: str, name: str | None, is_package: bool = False, tree: ast.Module | None = None
    ) -> None:
        self.path = path
        self.text = text
        self.name = name  # dotted module name under its import root; None for a notebook or stdin
        self.is_package = is_package
        if tree is not None:
            self.__dict__["tree"] = tree

    @cached_property
    def tree(self) -> ast.Module:
        """The parsed module; an empty one if it does not parse (it is then unknown)."""
        try:
            return parse(self.text, self.path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return ast.Module(body=[], type_ignores=[])

    @cached_property
    def lines(self) -> list[str]:
        return split_lines(self.text)

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
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        table[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".", 1)[0]
                        table[top] = top
            elif isinstance(node, ast.ImportFrom):
                base = self.absolute(node.module, node.level)
                if base is None:
                    continue
                for alias in node.names:
                    if alias.name != "*":
                        table[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
        return table

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


def _top_level(body: list[ast.stmt]):
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.Try, getattr(ast, "TryStar", ast.Try))):
            for block in (stmt.body, stmt.orelse, getattr(stmt, "finalbody", [])):
                yield from _top_level(block)
            for handler in getattr(stmt, "handlers", []):
                yield from _top_level(handler.body)


def import_root(path: str) -> tuple[str, str | None, bool]:
    """(import root, dotted module name, is a package's __init__) for a file path."""
    absolute = os.path.abspath(path)
    directory, filename = os.path.split(absolute)
    stem = filename.rsplit(".", 1)[0]
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
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
    _by_name: dict[tuple[str, str], str | None] = field(default_factory=dict)
    _index: dict[str, list[str]] = field(default_factory=dict)
    _importers: dict[tuple[int, frozenset[str]], list[ModuleInfo]] = field(default_factory=dict)

    # -- modules --------------------------------------------------------------

    def module_at(self, path: str, text: str | None = None, tree: ast.Module | None = None) -> ModuleInfo | None:
        """The module of a file: the text and tree given (the file being checked) or read from disk."""
        key = os.path.abspath(path)
        if text is not None:
            _, name, is_package = import_root(path)
            info: ModuleInfo | None = ModuleInfo(path, text, name if not _is_pseudo(path) else None, is_package, tree)
            self._remember(key, info)
            return info
        if key in self._modules:
            self._modules.move_to_end(key)
            return self._modules[key]
        info = _load(path)
        self._remember(key, info)
        return info

    def _remember(self, key: str, info: ModuleInfo | None) -> None:
        old = self._modules.pop(key, None)
        if old is not None:
            self._cached_text -= len(old.text)
        self._modules[key] = info
        self._cached_text += len(info.text) if info is not None else 0
        while self._cached_text > MAX_CACHED_TEXT and len(self._modules) > 1:
            _, evicted = self._modules.popitem(last=False)
            self._cached_text -= len(evicted.text) if evicted is not None else 0

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
            return self._by_name[key]
        found = None
        for root in _roots(importer.path):
            base = os.path.join(root, *dotted.split("."))
            for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                if _is_small_regular_file(candidate):
                    found = candidate
                    break
            if found:
                break
        self._by_name[key] = found
        return found

    # -- importers --------------------------------------------------------------

    def importers(self, module: ModuleInfo, names: set[str]) -> list[ModuleInfo]:
        """Modules of the same project that import ``module`` and mention one of ``names``.

        A byte scan of the project's files first (cached per run); only the files it
        keeps are parsed. Bounded: at most MAX_IMPORTERS modules.
        """
        if module.name is None or not names:
            return []
        key = (id(module), frozenset(names))
        if key not in self._importers:
            self._importers[key] = self._scan_importers(module, names)
        return self._importers[key]

    def _scan_importers(self, module: ModuleInfo, names: set[str]) -> list[ModuleInfo]:
        assert module.name is not None
        root = import_root(module.path)[0]
        leaf = module.name.rpartition(".")[2]
        if leaf == "__init__" or not leaf:
            return []
        needle = re.compile(rb"\b" + re.escape(leaf.encode()) + rb"\b")
        name_pattern = re.compile(rb"\b(?:" + b"|".join(re.escape(n.encode()) for n in sorted(names)) + rb")\b")
        found: list[ModuleInfo] = []
        own = os.path.abspath(module.path)
        for path in self._files_under(root):
            if path == own:
                continue
            data = _read_small(path)
            if data is None or b"import" not in data or not needle.search(data) or not name_pattern.search(data):
                continue
            other = self.module_at(path)
            if other is None or not _imports_module(other, module.name):
                continue
            found.append(other)
            if len(found) >= MAX_IMPORTERS:
                break
        return found

    def _files_under(self, root: str) -> list[str]:
        files = self._index.get(root)
        if files is None:
            files = self._index[root] = []
            count = 0
            for directory, subdirs, names in os.walk(root):
                subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
                for filename in sorted(names):
                    if not filename.endswith(".py"):
                        continue
                    count += 1
                    if count > MAX_INDEXED_FILES:
                        return files
                    files.append(os.path.abspath(os.path.join(directory, filename)))
        return files


_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "build", "dist", "venv", "env"})


def _imports_module(importer: ModuleInfo, name: str) -> bool:
    return any(q == name or q.startswith(name + ".") for q in importer.imports.values())


def _roots(path: str) -> list[str]:
    own = os.path.dirname(os.path.abspath(path))
    root = import_root(path)[0]
    return [root] if root == own else [root, own]


def _is_pseudo(path: str) -> bool:
    """``<stdin>``, ``<unknown>``: source that stands alone, outside any project."""
    return path.startswith("<")


def _is_small_regular_file(path: str) -> bool:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size <= MAX_MODULE_BYTES


def _read_small(path: str) -> bytes | None:
    if not _is_small_regular_file(path):
        return None
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_MODULE_BYTES + 1)
    except (OSError, ValueError):
        return None


def _load(path: str) -> ModuleInfo | None:
    data = _read_small(path)
    if data is None or len(data) > MAX_MODULE_BYTES:
        return None
    try:
        text = decode(data).text
    except (SyntaxError, UnicodeError, LookupError, ValueError):
        return None
    _, name, is_package = import_root(path)
    return ModuleInfo(path, text, name, is_package)
