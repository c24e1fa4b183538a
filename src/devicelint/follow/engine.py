"""The value follower for one file: runs every scope of the module, follows values into
the project's own functions and classes, and collects flows.

* A call to a function of the project runs that function with what the caller passes
  (its *summary* for those arguments: what it returns, what it stores on ``self``, which
  sinks the arguments reach), memoized per argument values. Defaults apply to what the
  caller leaves out.
* A class is run as a whole for each class it may be (itself, and each subclass in the
  module): its methods and those it inherits (method resolution order over the bases
  the project defines) share what they store on ``self``, to a fixpoint.
* Names imported from other modules of the project resolve to their definitions
  (project.py reads each module at most once per run).
* An invalid string that leaves its module without reaching a sink (a returned value,
  a module constant, a store on ``self``) is followed into the modules that import it.

Everything is bounded (call depth, nesting depth, work per file); past a bound a value
is unknown, never reported.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import os
import re
from collections.abc import Callable, Iterable

from devicelint.dataclass import dataclass
from devicelint.follow import sources
from devicelint.follow.frame import Binding, Frame
from devicelint.follow.scopes import (
    FunctionNode,
    ScopeInfo,
    any_between,
    is_classmethod,
    scopes_in,
    select_scopes,
    self_parameter,
)
from devicelint.follow.statements import MAX_PASSES
from devicelint.follow.values import EMPTY, AccessPath, Origin, Origins, State, Step, path_of
from devicelint.project import BLOCK_FIELDS, ModuleInfo, Project, imported_module_names, inner_blocks, statements
from devicelint.sinks import SinkCatalog, SinkUse, foreign_module, may_import_foreign
from devicelint.vocabulary import Vocabulary

MAX_CALL_DEPTH = 6  # nested calls into project functions
MAX_NESTING = 120  # nested statements and expressions, across calls
MAX_WORK = 4000  # function and class runs for one file
MAX_RESOLVE = 4  # re-exports followed to a definition
BACKEND_IMPORT_DEPTH = 3  # imports followed to a rename_privateuse1_backend call
MAX_BACKEND_MODULES = 64  # modules read looking for one

_BACKEND_RENAME = re.compile(r"""rename_privateuse1_backend\(\s*(['"])([A-Za-z_]\w*)\1""")


@dataclass(frozen=True)
class Flow:
    """An origin reaching a sink's argument (``path``: the file of the sink)."""

    origin: Origin
    sink: SinkUse
    path: str


@dataclass(frozen=True)
class DeviceMapUse:
    origin: Origin
    keyword: ast.keyword
    path: str


@dataclass(frozen=True)
class Method:
    module: ModuleInfo
    node: FunctionNode
    owner: ast.ClassDef


class ClassContext:
    """One class as the type of ``self``: its methods in resolution order, and what they store."""

    def __init__(self, module: ModuleInfo, node: ast.ClassDef, mro: list[tuple[ModuleInfo, ast.ClassDef]]) -> None:
        self.module = module
        self.node = node
        self.mro = mro
        self.stores: dict[AccessPath, frozenset[Origin]] = {}
        self.version = 0
        self._by_name: tuple[list, dict[str, Method]] | None = None

    def add(self, path: AccessPath, value: frozenset[Origin]) -> None:
        old = self.stores.get(path, EMPTY)
        if not value <= old:
            self.stores[path] = old | value
            self.version += 1

    def value(self, path: AccessPath) -> frozenset[Origin]:
        return self.stores.get(path, EMPTY)

    def methods(self) -> list[Method]:
        seen: dict[str, Method] = {}
        for module, cls in self.mro:
            for stmt in cls.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name not in seen:
                    seen[stmt.name] = Method(module, stmt, cls)
        return list(seen.values())

    def method(self, name: str, after: ast.ClassDef | None = None) -> Method | None:
        """``self.name`` (or ``super().name`` when ``after`` is the class calling super)."""
        if after is None:
            if self._by_name is None or self._by_name[0] is not self.mro:
                self._by_name = (self.mro, {m.node.name: m for m in self.methods()})
            return self._by_name[1].get(name)
        index = next((i for i, (_, c) in enumerate(self.mro) if c is after), None)
        if index is None:
            return None
        for module, cls in self.mro[index + 1 :]:
            for stmt in cls.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                    return Method(module, stmt, cls)
        return None


class Follower:
    """Follows values for one file; ``project`` may be shared by the files of a run."""

    def __init__(self, project: Project, vocabulary: Vocabulary, catalog: SinkCatalog) -> None:
        self.project = project
        self.vocabulary = vocabulary
        self.catalog = catalog
        self.origins = Origins()
        self.home: ModuleInfo | None = None  # the module whose literals are reported
        self._held: list[ModuleInfo] = []
        self.flows: dict[tuple[int, int], Flow] = {}
        self.device_map_uses: dict[tuple[int, int], DeviceMapUse] = {}
        self._states: dict[int, State | None] = {}
        self._names: dict[int, frozenset[str]] = {}
        self._global_writes: dict[int, dict[AccessPath, frozenset[Origin]]] = {}
        self._summaries: dict[tuple, tuple[frozenset[Origin], list]] = {}
        self._classes: dict[tuple, ClassContext] = {}
        self._active: set[tuple] = set()
        self._entry_returns: dict[int, frozenset[Origin]] = {}
        self._scope_infos: dict[int, ScopeInfo] = {}
        self._walrus: dict[int, bool] = {}
        self._function_defs: dict[int, list[FunctionNode]] = {}  # every def of a module, at any depth
        self._ran: set[int] = set()  # modules whose body this file runs
        self._focus: dict[int, tuple[list[int], set[str]]] = {}  # module -> (sorted candidate lines, names)
        self._words: dict[int, frozenset[str]] = {}
        self._odd_lines: dict[int, list[int]] = {}
        self._references: dict[int, dict[str, bool]] = {}
        self._declares: dict[int, bool] = {}
        self._foreign: dict[int, _ImportGate] = {}
        self._backends: dict[int, frozenset[str]] = {}
        self._literal_reaches: dict[int, frozenset[str]] = {}
        self._locations: dict[tuple[int, AccessPath], tuple[ModuleInfo, str] | None] = {}
        self._reaches: dict[tuple[int, int], frozenset[str]] = {}
        self._imported: dict[tuple[int, AccessPath], frozenset[Origin]] = {}
        self.source_tables: dict[tuple, object] = {}  # sources.py: per module or class
        self.candidate_lines: list[int] | None = None  # of the reported module (None: all of it runs)
        self.home_records: frozenset[str] = frozenset()  # its record classes that declare a string
        self._depth = 0
        self._nesting = 0
        self._work = 0

    # -- modules ---------------------------------------------------------------------
    # Every module this run looks at is held until it ends: the tables here are keyed by
    # id(), and the project's cache may drop a module (and its tree) meanwhile.

    def _hold(self, modules: list[ModuleInfo]) -> list[ModuleInfo]:
        self._held.extend(modules)
        return modules

    def _resolve(self, module: ModuleInfo, qualified: str) -> tuple[ModuleInfo, list[str]] | None:
        found = self.project.resolve(module, qualified)
        if found is not None:
            self._held.append(found[0])
        return found

    # -- bounds ---------------------------------------------------------------------

    def enter(self) -> bool:
        if self._nesting >= MAX_NESTING:
            return False
        self._nesting += 1
        return True

    def leave(self) -> None:
        self._nesting -= 1

    def _spend(self) -> bool:
        self._work += 1
        return self._work <= MAX_WORK

    # -- recording ------------------------------------------------------------------

    def record_sink(self, use: SinkUse, value: frozenset[Origin], path: str) -> None:
        for origin in value:
            self.flows.setdefault((id(origin), id(use.argument)), Flow(origin, use, path))

    def record_device_map(self, keyword: ast.keyword, value: frozenset[Origin], path: str) -> None:
        for origin in value:
            self.device_map_uses.setdefault((id(origin), id(keyword)), DeviceMapUse(origin, keyword, path))

    # -- one file ---------------------------------------------------------------------

    def follow(self, module: ModuleInfo, candidate_lines: set[int] | None = None) -> None:
        """Run the scopes of ``module`` that can start a flow (all of them without
        ``candidate_lines``), then follow what escapes it into its importers."""
        self.home = module
        self.candidate_lines = sorted(candidate_lines) if candidate_lines is not None else None
        self.home_records = sources.records_with_sources(self, module)
        # the scopes that receive a value from a source declared here run too
        readers = sources.reader_names(self, module, candidate_lines) if candidate_lines is not None else set()
        self._focus[id(module)] = (sorted(candidate_lines or ()), set(readers))
        self._run_module(module, select_scopes(module, self._mentions_in(module), candidate_lines, names=readers or None))
        names = self._escaping_names(module)
        if names:
            for importer in self._hold(self.project.importers(module, names)):
                if not sources.may_read_escaping(importer, names, self.home_records):
                    continue  # it imports a record class only to name it: not parsed
                self._focus[id(importer)] = ([], set(names))
                self._run_module(importer, select_scopes(importer, self._mentions_in(importer), names=names))

    def _run_module(self, module: ModuleInfo, selection: tuple[bool, list[ast.stmt]] | None) -> None:
        """Run the selected code, then the scopes that use what it returns, stores or
        leaves in a global, until none is left; None runs the whole module."""
        self._ran.add(id(module))
        if selection is None:
            self._focus.pop(id(module), None)  # every method of every class runs
            self._run_whole(module)
            return
        module_level, scopes = selection
        done: set[int] = set()
        while True:
            names: set[str] = set()
            if module_level and id(module) not in self._states:
                names |= self._global_carriers(module)
            if scopes:
                self._run_scopes(module, scopes, frozenset())
                done.update(id(s) for s in scopes)
                carried, classes = self._carriers(module, scopes)
                names |= carried
            else:
                classes = set()
            if not names and not classes:
                return
            self._focus.setdefault(id(module), ([], set()))[1].update(names | classes)
            self._literal_reaches.pop(id(module), None)
            more = select_scopes(module, self._mentions_in(module), names=names, bases=classes)
            if more is None:
                self._focus.pop(id(module), None)
                self._run_whole(module)
                return
            module_level, scopes = more[0] and id(module) not in self._states, [s for s in more[1] if id(s) not in done]
            if not module_level and not scopes:
                return

    def _global_carriers(self, module: ModuleInfo) -> set[str]:
        """Run the module body; the globals that then hold a literal of the reported module."""
        state = self.module_state(module) or State()
        home = self.home.path if self.home is not None else module.path
        return {path[0] for path, value in state.items() if any(o.path == home for o in value)}

    def _run_whole(self, module: ModuleInfo) -> None:
        has_globals = self.declares_globals(module) and any(isinstance(n, ast.Global) for n in statements(module.tree.body))
        for _ in range(MAX_PASSES if has_globals else 1):
            before = dict(self._global_writes.get(id(module), {}))
            self.module_state(module)
            self._run_scopes(module, module.tree.body, frozenset())
            if self._global_writes.get(id(module), {}) == before:
                break
            # globals changed: everything that read them runs again
            self._states.pop(id(module), None)
            self._summaries.clear()
            self._classes.clear()
            self._imported.clear()

    def _carriers(self, module: ModuleInfo, scopes: list[ast.stmt]) -> tuple[set[str], set[str]]:
        """(functions among ``scopes`` that return a literal of the reported module, classes
        that store one on self): the names other scopes may get it through."""
        home = self.home.path if self.home is not None else module.path
        carries = lambda value: any(o.path == home for o in value)  # noqa: E731
        names = {s.name for s in scopes if carries(self._entry_returns.get(id(s), EMPTY))}  # type: ignore[attr-defined]
        classes = {
            context.node.name
            for context in self._classes.values()
            if context.module is module and any(carries(v) for v in context.stores.values())
            and any(context.node is s for s in scopes)
        }
        return names, classes

    def _run_scopes(self, module: ModuleInfo, body: list[ast.stmt], enclosing: frozenset[str]) -> None:
        for node in scopes_in(body):
            if isinstance(node, ast.ClassDef):
                self._run_class_entry(module, node, enclosing)
            else:
                frame = self._run_function(module, node, None, enclosing=enclosing)  # type: ignore[arg-type]
                if frame is not None:
                    # what it returns, whole or in parts (a tuple, a dict)
                    self._entry_returns[id(node)] = frame.returned.union(*frame.returned_parts.values())
                    if any(True for _ in scopes_in(node.body)):  # type: ignore[attr-defined]
                        self._run_scopes(module, node.body, enclosing | frame.scope_locals)  # type: ignore[attr-defined]

    def _run_class_entry(self, module: ModuleInfo, node: ast.ClassDef, enclosing: frozenset[str]) -> None:
        context = self.class_context(module, node, None)
        if context is not None:
            for method in context.methods():
                if method.owner is node and any(True for _ in scopes_in(method.node.body)):
                    info = self.scope_info(method.node, method.module)
                    self._run_scopes(module, method.node.body, enclosing | info.names)
        for inner in scopes_in(node.body, skip_functions=True):
            self._run_class_entry(module, inner, enclosing)  # type: ignore[arg-type]

    # -- module globals ---------------------------------------------------------------

    def module_state(self, module: ModuleInfo) -> State | None:
        """The module's globals as they are at the end of its body (None while it runs)."""
        key = id(module)
        if key not in self._states:
            self._states[key] = None  # an import cycle reads nothing
            frame = Frame(self, module, module.tree, is_module=True)
            self._states[key] = frame.exec_block(module.tree.body, State()) or State()
        return self._states[key]

    def module_names(self, module: ModuleInfo) -> frozenset[str]:
        key = id(module)
        if key not in self._names:
            self._names[key] = ScopeInfo.of(module.tree, self._has_walrus(module)).names
        return self._names[key]

    def global_value(self, module: ModuleInfo, path: AccessPath) -> frozenset[Origin]:
        """A module global as functions read it: the module's state at the end of its body.
        Only the modules this file runs count: another module's literal is reported there."""
        if id(module) not in self._ran:
            return EMPTY
        state = self.module_state(module)
        value = state.read(path, lambda p: self.imported_value(module, p)) if state is not None else EMPTY
        extra = self._global_writes.get(id(module), {}).get(path)
        return value | extra if extra else value

    def write_global(self, module: ModuleInfo, path: AccessPath, value: frozenset[Origin]) -> None:
        writes = self._global_writes.setdefault(id(module), {})
        writes[path] = writes.get(path, EMPTY) | value

    def imported_value(self, module: ModuleInfo, path: AccessPath) -> frozenset[Origin]:
        """``cfg.DEVICE`` after ``import pkg.config as cfg``, or a name from ``from .config import``.

        Only the reported module's own values matter (another module's literal is reported
        in that module), so a name that resolves elsewhere is unknown, without a parse.
        """
        if path[0] not in module.imports or self.home is None or self.home is module:
            return EMPTY
        key = (id(module), path)
        found = self._imported.get(key)
        if found is None:
            found = self._imported[key] = self._home_value(module, module.imports[path[0]], path, 0)
        return found

    def _home_value(self, module: ModuleInfo, qualified: str, path: AccessPath, hops: int) -> frozenset[Origin]:
        attributes = []
        rest = list(path[1:])
        while rest and rest[0].startswith("."):
            attributes.append(rest.pop(0)[1:])
        found = self._resolve(module, ".".join([qualified, *attributes]))
        if found is None:
            return EMPTY
        target, names = found
        if not names or target is module or names[0] not in target.text:
            return EMPTY
        inner = (names[0], *("." + n for n in names[1:]), *rest)
        if target is self.home:
            return self.global_value(target, inner)
        if hops < MAX_RESOLVE and not target.defines(names[0]) and names[0] in target.text_imports:
            return self._home_value(target, target.text_imports[names[0]], inner, hops + 1)  # a re-export
        return EMPTY

    # -- scopes --------------------------------------------------------------------------

    def declares_globals(self, module: ModuleInfo) -> bool:
        """Whether a ``global`` statement may appear in the module (a text scan, cached)."""
        key = id(module)
        if key not in self._declares:
            self._declares[key] = _global_statement_line(module.text)
        return self._declares[key]

    def is_foreign(self, module: ModuleInfo, line: int) -> bool:
        """Whether a method sink on ``line`` sits in code written for a library with its own
        ``.to`` (sinks.foreign_module): judged on the module's imports as a whole, or on those
        outside any function with those of the function holding ``line``. An import inside
        another function (tinygrad's ``model_eval.py`` imports transformers in one of its
        evaluators) does not make this function's ``.to("CPU")`` torch's. Cached per module:
        asked at every method sink a tracked value reaches."""
        key = id(module)
        gate = self._foreign.get(key)
        if gate is None:
            gate = self._foreign[key] = _ImportGate(module)
        return gate.foreign_at(line)

    def registers_backend(self, module: ModuleInfo, device: str) -> bool:
        """Whether ``device``'s type is a backend the project names with
        ``torch.utils.rename_privateuse1_backend("tiny")``, in this module or a project module
        it imports (up to BACKEND_IMPORT_DEPTH imports away): torch then accepts "tiny" and
        "tiny:0" (tinygrad's torch backend). Asked only for a literal at a strict sink that is
        no device, so the imports are read only then."""
        kind = device.split(":", 1)[0]
        if not kind.isidentifier():
            return False
        key = id(module)
        names = self._backends.get(key)
        if names is None:
            names = self._backends[key] = self._registered_backends(module)
        return kind in names

    def _registered_backends(self, module: ModuleInfo) -> frozenset[str]:
        names: set[str] = set()
        seen = {module.path}
        frontier = [module]
        for _ in range(BACKEND_IMPORT_DEPTH + 1):
            following: list[ModuleInfo] = []
            for current in frontier:
                names.update(match[2] for match in _BACKEND_RENAME.finditer(current.text))
                for dotted in sorted(imported_module_names(current)):
                    found = self.project.resolve(current, dotted) if len(seen) < MAX_BACKEND_MODULES else None
                    if found is not None and not found[1] and found[0].path not in seen:
                        seen.add(found[0].path)
                        following.append(found[0])
            frontier = following
        return frozenset(names)

    def _mentions_in(self, module: ModuleInfo):
        """``mentioning(names, from_tree=False)``: a test of ``mentions`` for many statements,
        from one search of the text for ``names`` (the lines that hold one)."""

        def mentioning(names: set[str], from_tree: bool = False) -> Callable[[ast.AST], bool]:
            if from_tree and not module.is_ascii:
                return lambda node: True
            holding, count = module.lines_holding(names), len(module.lines)

            def test(node: ast.AST) -> bool:
                first = _first_line(node)
                last = node.end_lineno or node.lineno  # type: ignore[attr-defined]
                if holding is None or not 0 < first <= last <= count:
                    return self.mentions(module, node, names, from_tree)
                if not any_between(holding, first, last):
                    return False
                return from_tree or not self.words_of(module, node).isdisjoint(names)

            return test

        return mentioning

    def mentions(self, module: ModuleInfo, node: ast.AST, names: set[str], from_tree: bool = False) -> bool:
        """Whether ``words_of(module, node)`` holds one of ``names``: their text must hold
        one of them first (a search, no tokenizing). ``from_tree``: the names are read from
        the tree, and the answer is only whether the text may spell one of them (a name
        with non-ASCII characters is normalised in the tree)."""
        first = _first_line(node)
        last = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        if from_tree:
            return not module.is_ascii or module.holds_any(names, first, last)
        found = self._words.get(id(node))
        if found is None:
            if len(names) <= 8 and not module.holds_any(names, first, last):  # (a search per name)
                return False
            found = self.words_of(module, node)
        return not found.isdisjoint(names)

    def uses(self, module: ModuleInfo, node: ast.AST, names: set[str]) -> bool:
        """Whether the code of a definition may refer to one of ``names``: as a name, an
        attribute, an imported name or a whole string (``getattr(self, "name")``). Words in
        comments, docstrings and prose are no reference: a method whose error message says
        ``from_pretrained`` does not call it. A word of its text is confirmed only in the
        statements on the lines that hold it."""
        odd = self._non_ascii_lines(module)
        if odd and any_between(odd, _first_line(node), node.end_lineno or node.lineno):  # type: ignore[attr-defined]
            words = names  # the tree holds names normalised (NFKC): "ﬁle" may be spelt otherwise
        elif self.mentions(module, node, names):
            words = self.words_of(module, node) & names
        else:
            return False
        known = self._references.setdefault(id(node), {})
        for name in words:
            found = known.get(name)
            if found is None:
                found = known[name] = _refers_to(module, node, name, odd)
            if found:
                return True
        return False

    def _non_ascii_lines(self, module: ModuleInfo) -> list[int]:
        """The lines that hold a character outside ASCII (sorted)."""
        if module.is_ascii:
            return []
        found = self._odd_lines.get(id(module))
        if found is None:
            starts = module.line_starts
            found = self._odd_lines[id(module)] = sorted(
                {bisect.bisect_right(starts, m.start()) for m in _NON_ASCII.finditer(module.text)}
            )
        return found

    def words_of(self, module: ModuleInfo, node: ast.AST) -> frozenset[str]:
        """The identifiers in a function's text: what it may read from ``self`` (also
        through ``getattr(self, "name")``) and which methods it may call."""
        key = id(node)
        found = self._words.get(key)
        if found is None:
            found = self._words[key] = frozenset(_words(module, node))
        return found

    def scope_info(self, node: ast.AST, module: ModuleInfo) -> ScopeInfo:
        """The names ``node`` (a scope of ``module``) binds, cached."""
        key = id(node)
        info = self._scope_infos.get(key)
        if info is None:
            info = self._scope_infos[key] = ScopeInfo.of(node, self._has_walrus(module, node))
        return info

    def _has_walrus(self, module: ModuleInfo, node: ast.AST | None = None) -> bool:
        """Whether the text of ``node`` (decorators included; the whole module without one)
        holds ``:=``: only then can an expression bind a name."""
        key = id(module)
        found = self._walrus.get(key)
        if found is None:
            found = self._walrus[key] = ":=" in module.text
        if not found or node is None or not hasattr(node, "end_lineno"):
            return found
        first = _first_line(node)
        last, starts = node.end_lineno or node.lineno, module.line_starts  # type: ignore[attr-defined]
        if not 0 < first <= last < len(starts):
            return True
        return module.text.find(":=", starts[first - 1], starts[last]) >= 0

    def _run_function(
        self,
        module: ModuleInfo,
        node: FunctionNode,
        binding: Binding | None,
        *,
        enclosing: frozenset[str] = frozenset(),
        context: ClassContext | None = None,
        owner: ast.ClassDef | None = None,
    ) -> Frame | None:
        """One run of a function body; None past the work bound."""
        if not self._spend():
            return None
        self_name = self_parameter(node) if owner is not None and not is_classmethod(node) else None
        scope_name = f"{owner.name}.{node.name}" if owner is not None else node.name
        frame = Frame(
            self, module, node, scope_name=scope_name, enclosing=enclosing, cls=context, owner=owner, self_name=self_name
        )
        end = frame.exec_block(node.body, frame.entry_state(node.args, binding))
        frame.publish(end)
        return frame

    def class_context(self, module: ModuleInfo, node: ast.ClassDef, init: Binding | None) -> ClassContext | None:
        """Run a class as the type of ``self`` to a fixpoint; ``init`` is what its constructor got.

        Bases from other modules join only once something is stored on ``self`` (only then
        can their methods move it somewhere)."""
        key = (id(node), init)
        found = self._classes.get(key)
        if found is not None or key in self._active:
            return found
        context = ClassContext(module, node, self.mro(module, node))
        self._active.add(key)
        try:
            self._settle(context, init)
            if context.stores:
                everywhere = self.mro(module, node, everywhere=True)
                if len(everywhere) > len(context.mro):
                    context.mro = everywhere
                    self._settle(context, init)
        finally:
            self._active.discard(key)
        self._classes[key] = context
        return context

    def _settle(self, context: ClassContext, init: Binding | None) -> None:
        module = context.module
        # Class-body assignments are what every instance reads until it stores its own.
        for base_module, base in reversed(context.mro):
            if base_module is not module and base_module is not self.home:
                continue  # another module's class body: its literals are reported there
            frame = Frame(self, base_module, base, scope_name=base.name)
            for path, value in (frame.exec_block(base.body, State()) or State()).items():
                if value:
                    context.add(("." + path[0], *path[1:]), value)
        methods = context.methods()
        focused = self._focused_methods(methods)
        for _ in range(MAX_PASSES):
            version = context.version
            stored = {path[0][1:] for path, value in context.stores.items() if value}
            for method in methods:
                constructor = init is not None and method.node.name == "__init__"  # it gets the arguments
                if not constructor and id(method.node) not in focused and not (stored and self.uses(method.module, method.node, stored)):
                    continue  # no candidate around it, and it reads nothing stored: nothing to find
                binding = init if method.node.name == "__init__" else None
                if self._run_function(method.module, method.node, binding, context=context, owner=method.owner) is None:
                    return
            if context.version == version:
                return

    def _focused_methods(self, methods: list[Method]) -> set[int]:
        """The methods that can start a flow: those of a module run whole, those around a
        candidate line or using a focused name, and the methods that call those."""
        focused: set[int] = set()
        focusing: dict[int, tuple[ModuleInfo, list[FunctionNode]]] = {}  # those of modules this file focuses on
        for method in methods:
            node = method.node
            focus = self._focus.get(id(method.module))
            if focus is None:
                if id(method.module) in self._ran:
                    focused.add(id(node))  # its module runs whole
                continue  # another module's method: only what it reads from self matters
            focusing.setdefault(id(method.module), (method.module, []))[1].append(node)
            if any_between(focus[0], node.lineno, node.end_lineno or node.lineno):
                focused.add(id(node))

        def using(names_in: Callable[[ModuleInfo], set[str]]) -> list[FunctionNode]:  # one text search a module
            return [
                node for module, nodes in focusing.values() if (names := names_in(module))
                for node in self._using(module, [n for n in nodes if id(n) not in focused], names)
            ]  # fmt: skip

        focused.update(id(n) for n in using(lambda module: set(self._focus[id(module)][1])))  # a focused name
        # and the methods that call a focused one (callees run when called); a method that
        # did not use the names of earlier rounds can only join through the newest ones
        called = {m.node.name for m in methods if id(m.node) in focused}
        while called:
            joined = using(lambda module: called)
            focused.update(id(n) for n in joined)
            called = {n.name for n in joined}
        return focused

    def mro(self, module: ModuleInfo, node: ast.ClassDef, *, everywhere: bool = False) -> list[tuple[ModuleInfo, ast.ClassDef]]:
        """The class and the bases the project defines, in resolution order (depth-first).

        Bases in other modules than the class's own and the reported one are resolved
        only ``everywhere`` (their modules may be large: they are read when needed).
        """
        def near(target: ModuleInfo) -> bool:
            return target is module or target is self.home

        order: list[tuple[ModuleInfo, ast.ClassDef]] = []
        stack = [(module, node, 0)]
        while stack:
            current_module, current, depth = stack.pop()
            if any(c is current for _, c in order) or depth > 16:
                continue
            order.append((current_module, current))
            bases = []
            for base in current.bases:
                found = self.definition_of(current_module, base, accept=None if everywhere else near)
                if found is not None and isinstance(found[1], ast.ClassDef):
                    bases.append((found[0], found[1], depth + 1))
            stack.extend(reversed(bases))
        return order

    def definition_of(
        self, module: ModuleInfo, expr: ast.expr, *, accept: Callable[[ModuleInfo], bool] | None = None
    ) -> tuple[ModuleInfo, ast.stmt] | None:
        """The project function or class an expression names (``f``, ``utils.f``, ``Base``).

        ``accept`` limits which other modules a definition may come from (only an accepted
        module is parsed).
        """
        path = path_of(expr)
        if path is None or any(not step.startswith(".") for step in path[1:]):
            return None
        key = (id(module), path)
        if key not in self._locations:
            self._locations[key] = self._locate(module, path[0], [step[1:] for step in path[1:]], 0)
        located = self._locations[key]
        if located is None:
            return None
        target, name = located
        if target is not module and accept is not None and not accept(target):
            return None
        node = target.definitions.get(name)
        return (target, node) if node is not None else None

    def _locate(self, module: ModuleInfo, name: str, attributes: list[str], depth: int) -> tuple[ModuleInfo, str] | None:
        """The module that defines ``name`` (following imports and re-exports), from the
        text of each module on the way: none of them is parsed here."""
        if depth > MAX_RESOLVE:
            return None
        if depth == 0:
            if name in module.definitions:
                return (module, name) if not attributes else None
            qualified = module.imports.get(name)
        else:
            if name not in module.text:
                return None
            if module.defines(name):
                return (module, name) if not attributes else None
            qualified = module.text_imports.get(name)
        if qualified is None:
            return None
        found = self._resolve(module, ".".join([qualified, *attributes]))
        if found is None:
            return None
        target, names = found
        if len(names) != 1 or target is module and names[0] == name:
            return None
        return self._locate(target, names[0], [], depth + 1)

    def call(self, frame: Frame, call: ast.Call, values: dict[int, frozenset[Origin]], state: State):
        """(returned value, returned parts) of a call into the project, or None if unknown."""
        carries = any(values.values()) or any(
            kw.arg is None and (p := path_of(kw.value)) is not None and any(v for _, v in state.parts(p))
            for kw in call.keywords
        )
        target = self._target(frame, call, carries)
        if target is None:
            return None
        module, node, context, owner, bound = target
        if isinstance(node, ast.ClassDef):
            binding = self._binding(frame, call, values, state, _init_of(node), skip_first=True, name=node.name)
            if binding is not None and any(value for _, value in binding):
                self._enter_call(("new", id(node), binding), lambda: self.class_context(module, node, binding))
            return None
        binding = self._binding(frame, call, values, state, node, skip_first=bound, name=node.name)
        if binding is None:
            return None
        carries = carries or any(value for _, value in binding)  # also the parts of a namespace passed
        seen = self._stores_seen(context, node)
        if not carries and not seen and node.name not in self._literal_reach(module):
            return None  # it can return no literal of the reported module: nothing to run for
        key = (id(node), id(context), seen, binding)
        found = self._summaries.get(key)
        if found is None:
            ran = self._enter_call(key, lambda: self._run_function(module, node, binding, context=context, owner=owner))
            found = (ran.returned, sorted(ran.returned_parts.items())) if ran is not None else (EMPTY, [])
            self._summaries[key] = found
        returned, parts = found
        step = Step(f"the return of {node.name}()", frame.module.path, call)
        via = self.origins.via
        return via(returned, step), [(suffix, via(value, step)) for suffix, value in parts]

    def _literal_reach(self, module: ModuleInfo) -> frozenset[str]:
        """Names of the functions and methods of ``module`` that may return a literal of the
        reported module: those around a candidate (or a focused name, or a global that
        holds one), and those that mention such a name (they may call it)."""
        key = id(module)
        found = self._literal_reaches.get(key)
        if found is not None:
            return found
        focus = self._focus.get(key)
        definitions = self._function_defs.get(key)
        if definitions is None:
            definitions = self._function_defs[key] = [
                n for n in statements(module.tree.body) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            ]
        if focus is None:  # a module run whole, or one this file does not report on
            found = frozenset(n.name for n in definitions) if key in self._ran else frozenset()
        else:
            lines, names = focus
            names = set(names)
            state = self._states.get(key)
            if state is not None:
                names |= {path[0] for path, value in state.items() if value}
            reach = {n.name for n in definitions if any_between(lines, n.lineno, n.end_lineno or n.lineno)}
            reach |= self._users(module, definitions, names)
            # The closure under "uses a name in reach": a definition that did not use the
            # names of earlier rounds can only join through the names the last round added.
            added = set(reach)
            while added:
                added = self._users(module, [n for n in definitions if n.name not in reach], added)
                reach |= added
            found = frozenset(reach)
        self._literal_reaches[key] = found
        return found

    def _users(self, module: ModuleInfo, definitions: list[FunctionNode], names: set[str]) -> set[str]:
        """The names of the ``definitions`` that use one of ``names``."""
        return {n.name for n in self._using(module, definitions, names)}

    def _using(self, module: ModuleInfo, definitions: list[FunctionNode], names: set[str]) -> list[FunctionNode]:
        """The ``definitions`` (of ``module``) that use one of ``names``: ``uses`` asked only
        of those spanning a line that holds one (or a character outside ASCII), found by one
        search of the module's text instead of one per definition."""
        holding = module.lines_holding(names)
        if holding is not None:
            odd = self._non_ascii_lines(module)
            holding = sorted({*holding, *odd}) if odd else holding
            definitions = [n for n in definitions if any_between(holding, _first_line(n), n.end_lineno or n.lineno)]
        return [n for n in definitions if self.uses(module, n, names)]

    def _stores_seen(self, context: ClassContext | None, node: FunctionNode) -> tuple:
        """The stores on ``self`` a method can read (itself, and the self methods it calls):
        its summary is reused while they stay the same."""
        if context is None or not context.stores:
            return ()
        reach = self._reach(context, node)
        return tuple((path, value) for path, value in context.stores.items() if path[0][1:] in reach)

    def _reach(self, context: ClassContext, node: FunctionNode) -> frozenset[str]:
        key = (id(context), id(node))
        found = self._reaches.get(key)
        if found is None:
            attributes: set[str] = set()
            method = context.method(node.name)
            module = method.module if method is not None and method.node is node else context.module
            pending, seen = [(module, node)], {id(node)}
            while pending:
                current_module, current = pending.pop()
                names = self.words_of(current_module, current)
                attributes |= names
                for name in names:
                    method = context.method(name)
                    if method is not None and id(method.node) not in seen:
                        seen.add(id(method.node))
                        pending.append((method.module, method.node))
            found = self._reaches[key] = frozenset(attributes)
        return found

    def _enter_call(self, key: tuple, run):
        if key in self._active or self._depth >= MAX_CALL_DEPTH:
            return None  # recursion, or too deep: unknown
        self._active.add(key)
        self._depth += 1
        try:
            return run()
        finally:
            self._depth -= 1
            self._active.discard(key)

    def _target(self, frame: Frame, call: ast.Call, carries: bool):
        """(module, function or class, class context, owner, bound?) of a project callee."""
        func = call.func
        if isinstance(func, ast.Attribute):
            receiver = func.value
            if frame.cls is not None and isinstance(receiver, ast.Name) and receiver.id == frame.self_name:
                method = frame.cls.method(func.attr)
                if method is None:
                    return None
                return method.module, method.node, frame.cls, method.owner, not is_classmethod(method.node) and self_parameter(method.node) is not None
            if (
                frame.cls is not None
                and isinstance(receiver, ast.Call)
                and isinstance(receiver.func, ast.Name)
                and receiver.func.id == "super"
            ):
                method = frame.cls.method(func.attr, after=frame.owner)
                if method is None:
                    return None
                return method.module, method.node, frame.cls, method.owner, True
        if isinstance(func, ast.Name) and func.id in frame.enclosing:
            return None  # a function of an enclosing scope shadows the module's
        # A call that carries nothing can only return literals of its callee's module:
        # worth running only if that module is reported here (or is the caller's own).
        near = lambda target: target is self.home or target is frame.module  # noqa: E731
        found = self.definition_of(frame.module, func, accept=None if carries else near)
        if found is None:
            return None
        module, node = found
        if isinstance(node, ast.ClassDef):
            return module, node, None, None, True
        return module, node, None, None, False

    def _binding(
        self, frame: Frame, call: ast.Call, values: dict[int, frozenset[Origin]], state: State,
        node: FunctionNode | None, *, skip_first: bool, name: str,
    ) -> Binding | None:
        """What ``call`` passes to each parameter of ``node`` (defaults are the callee's business)."""
        if node is None:
            return ()
        args = node.args
        positional = [a.arg for a in (*args.posonlyargs, *args.args)]
        if skip_first:
            positional = positional[1:]
        keyword_names = set(positional) | {a.arg for a in args.kwonlyargs}
        kwargs = args.kwarg.arg if args.kwarg is not None else None
        bound: dict[AccessPath, frozenset[Origin]] = {}
        parts: dict[str, list[tuple[AccessPath, frozenset[Origin]]]] = {}  # args.device of a namespace passed
        index = 0
        for arg in call.args:
            if isinstance(arg, ast.Starred):
                if isinstance(arg.value, (ast.Tuple, ast.List)):
                    for element in arg.value.elts:
                        if index < len(positional):
                            bound[(positional[index],)] = frame.value_of(element, state)
                            index += 1
                    continue
                for parameter in positional[index:]:  # *args of unknown length: unknown
                    bound[(parameter,)] = EMPTY
                index = len(positional)
                continue
            if index < len(positional):
                bound[(positional[index],)] = values.get(id(arg), EMPTY)
                if isinstance(arg, (ast.Name, ast.Call)):
                    parts[positional[index]] = _parts_of(frame, arg, state)
                index += 1
        for kw in call.keywords:
            if kw.arg is not None:
                entries = [(kw.arg, values.get(id(kw.value), EMPTY))]
                if isinstance(kw.value, (ast.Name, ast.Call)):
                    parts[kw.arg] = _parts_of(frame, kw.value, state)
            else:
                entries = self._spread_entries(frame, kw.value, values, state)
                if entries is None:  # **unknown: any parameter may be passed
                    for parameter in keyword_names:
                        bound.setdefault((parameter,), EMPTY)
                    continue
            for key, value in entries:
                if key in keyword_names:
                    bound[(key,)] = value
                elif kwargs is not None:
                    bound[(kwargs, f"[{key!r}]")] = value
        for parameter, known in parts.items():
            if parameter in keyword_names:
                bound.update(((parameter, *suffix), value) for suffix, value in known if value)
        result = []
        for path, value in sorted(bound.items()):
            if value:
                parameter = path[0] if len(path) == 1 or path[0] in keyword_names else path[1][2:-2]  # kwargs['device'] -> device
                value = self.origins.via(value, Step(f"the argument `{parameter}` of {name}()", frame.module.path, call))
            result.append((path, value))
        return tuple(result)

    def _spread_entries(self, frame: Frame, node: ast.expr, values: dict[int, frozenset[Origin]], state: State):
        if isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                return None
            return [
                (key.value, values.get(id(value), EMPTY))
                for key, value in zip(node.keys, node.values)
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
            ]
        path = path_of(node)
        if path is None:
            return None
        return state.entries(path) or None

    # -- what leaves the module -----------------------------------------------------------

    def _escaping_names(self, module: ModuleInfo) -> set[str]:
        """Top-level names through which a literal of ``module`` that reached no sink here
        can leave it: a constant, or a function that returns it. (What a class stores on
        ``self`` reaches only its subclasses; one in another module is not searched for:
        class defaults such as ``{"precision": "auto"}`` are common and would make every
        check read the whole project.)"""
        reported = {id(flow.origin.node) for flow in self.flows.values() if flow.origin.path == module.path}

        def unreported(value: frozenset[Origin]) -> bool:
            return any(o.path == module.path and id(o.node) not in reported for o in value)

        names: set[str] = set()
        state = self._states.get(id(module))
        if state is not None:
            names.update(path[0] for path, value in state.items() if unreported(value) and path[0] not in module.definitions)
        for name, node in module.definitions.items():
            if unreported(self._entry_returns.get(id(node), EMPTY)):
                names.add(name)
        for (node_id, *_), (returned, _) in self._summaries.items():
            if unreported(returned):
                names.update(name for name, node in module.definitions.items() if id(node) == node_id)
        names |= self.home_records if module is self.home else set()  # an importer may construct one
        return {name for name in names if not name.startswith("__")}


class _ImportGate:
    """The imports of a module split by the outermost function that holds them, for
    ``Follower.is_foreign``."""

    def __init__(self, module: ModuleInfo) -> None:
        self.whole = foreign_module(module.imports)
        self.outside: dict[str, str] = {}
        self.functions: list[tuple[int, int, dict[str, str]]] = []  # (first, last line, imports)
        if self.whole or not module.imports or not may_import_foreign(module.text):
            return  # (no import in a function can make a line foreign either)
        stack: list[tuple[list, dict[str, str] | None]] = [(module.tree.body, None)]
        while stack:
            body, own = stack.pop()
            for node in body:
                if own is None and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    table: dict[str, str] = {}
                    self.functions.append((node.lineno, node.end_lineno or node.lineno, table))
                    stack.append((node.body, table))
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    module.add_import(node, self.outside if own is None else own)
                else:
                    stack.extend((block, own) for block in inner_blocks(node))
        self.functions.sort(key=lambda function: function[0])

    def foreign_at(self, line: int) -> bool:
        if self.whole:
            return True
        index = bisect.bisect_right(self.functions, line, key=lambda function: function[0]) - 1
        if index < 0 or self.functions[index][1] < line:
            return False  # outside every function: the whole module's imports decided
        return foreign_module({**self.outside, **self.functions[index][2]})


def _parts_of(frame: Frame, node: ast.expr, state: State) -> list[tuple[AccessPath, frozenset[Origin]]]:
    """The known parts of an argument that is a name or a call (a namespace, a record)."""
    if isinstance(node, ast.Name):
        return state.parts((node.id,))
    if isinstance(node, ast.Call):
        return frame.call_parts.get(id(node), [])
    return []


def _init_of(node: ast.ClassDef) -> FunctionNode | None:
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == "__init__":
            return stmt
    return None


_WORD = re.compile(r"[A-Za-z_]\w*")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_ASCII_WORD = re.compile(r"[A-Za-z_]\w*", re.ASCII)  # the same words in ASCII text, ~30% faster
_GLOBAL = re.compile(r"global[ \t]")


def _global_statement_line(text: str) -> bool:
    """Whether a line starts with ``global`` after blanks: ``(?m)^[ \\t]*global[ \\t]``, but
    searched from the word (a literal the regex engine skips to) instead of from every line."""
    for match in _GLOBAL.finditer(text):
        start = match.start()
        if not text[text.rfind("\n", 0, start) + 1 : start].strip(" \t"):
            return True
    return False


def _words(module: ModuleInfo, node: ast.AST) -> list[str]:
    """Every identifier in a definition's text, decorators included (words in its strings
    and comments too: a superset, so selections it drives only ever run more)."""
    first = _first_line(node)
    starts = module.line_starts
    last = min(node.end_lineno or node.lineno, len(starts) - 1)  # type: ignore[attr-defined]
    if not 0 < first <= last:
        return []
    return (_ASCII_WORD if module.is_ascii else _WORD).findall(module.text, starts[first - 1], starts[last])


def _refers_to(module: ModuleInfo, node: ast.AST, name: str, non_ascii_lines: list[int]) -> bool:
    """Whether ``name`` is in ``_code_names(node)``, from the statements (at any depth)
    around the lines whose text holds it or a character outside ASCII (where an identifier
    may be spelt otherwise than the tree holds it): each identifier and string of the code
    is in the own fields of a statement spanning its line."""
    first = _first_line(node)
    last = min(node.end_lineno or node.lineno, len(module.line_starts) - 1)  # type: ignore[attr-defined]
    if not 0 < first <= last:
        return True
    lines = module.lines_holding((name,), first, last) or []
    if non_ascii_lines:
        lines = sorted({*lines, *non_ascii_lines[bisect.bisect_left(non_ascii_lines, first) : bisect.bisect_right(non_ascii_lines, last)]})
    if not lines:
        return False

    def spanning(stmt: ast.AST) -> bool:
        if not hasattr(stmt, "lineno"):  # a match case
            return True
        return any_between(lines, _first_line(stmt), stmt.end_lineno or stmt.lineno)  # type: ignore[attr-defined]

    return any(spanning(stmt) and name in _own_names(stmt) for stmt in statements([node], within=spanning))  # type: ignore[list-item]


def _first_line(node: ast.AST) -> int:
    """A statement's first line, its decorators included."""
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])  # type: ignore[attr-defined]


def _own_names(stmt: ast.AST) -> frozenset[str]:
    """``_code_names`` of a statement without the blocks it holds."""
    return _code_names(stmt, without_blocks=True)


def _code_names(node: ast.AST, *, without_blocks: bool = False) -> frozenset[str]:
    """Every identifier a definition's code spells (see ``Follower.uses``), and its strings
    that are identifiers; not the words of its comments, docstrings and other strings.
    ``without_blocks``: not those of the statements in its blocks (body, orelse, ...)."""
    found: set[str] = set()
    add = found.add
    walked: Iterable[ast.AST] = ast.walk(node)
    if without_blocks:
        fields = [getattr(node, f, None) for f in node._fields if f not in BLOCK_FIELDS]
        inner = [item for value in fields for item in (value if isinstance(value, list) else (value,)) if isinstance(item, ast.AST)]
        walked = itertools.chain((node,), *(ast.walk(item) for item in inner))
    for child in walked:
        kind = type(child)
        if kind is ast.Name:
            add(child.id)  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            add(child.attr)  # type: ignore[attr-defined]
        elif kind is ast.Constant:
            value = child.value  # type: ignore[attr-defined]
            if type(value) is str and value.isidentifier():
                add(value)
        elif kind is ast.keyword:
            if child.arg is not None:  # type: ignore[attr-defined]
                add(child.arg)  # type: ignore[attr-defined]
        elif kind is ast.alias:
            add(child.name.partition(".")[0])  # type: ignore[attr-defined]
            add(child.name.rpartition(".")[2])  # type: ignore[attr-defined]
            if child.asname:  # type: ignore[attr-defined]
                add(child.asname)  # type: ignore[attr-defined]
        elif kind is ast.Global or kind is ast.Nonlocal:
            found.update(child.names)  # type: ignore[attr-defined]
        elif kind is ast.ImportFrom:
            found.update((child.module or "").split("."))  # type: ignore[attr-defined]
        elif kind in _NAMED:
            name = getattr(child, _NAMED[kind])
            if name is not None:
                add(name)
        elif kind is ast.MatchClass:
            found.update(child.kwd_attrs)  # type: ignore[attr-defined]
    return frozenset(found)


# The other nodes that spell an identifier: the names they define (a definition's own name
# selects it when that name is focused) and the names they bind.
_NAMED: dict[type, str] = {
    ast.FunctionDef: "name", ast.AsyncFunctionDef: "name", ast.ClassDef: "name", ast.arg: "arg",
    ast.ExceptHandler: "name", ast.MatchAs: "name", ast.MatchStar: "name", ast.MatchMapping: "rest",
}


def display_path(path: str, relative_to: str) -> str:
    """How a message names another file: relative to the reporting file's folder."""
    try:
        return os.path.relpath(path, os.path.dirname(os.path.abspath(relative_to)) or ".")
    except ValueError:  # another drive on Windows
        return path
