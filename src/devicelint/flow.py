"""Follows invalid device strings from their literals to the calls that parse them.

An abstract interpreter over the ``ast`` of one module. The abstract value of an
expression is the set of *origins* (invalid string literals) it may hold; anything
else (concrete devices, unknown values) is simply not tracked, so a value that
comes out of an unknown function is the empty set and can never be reported.

* Inside a function the analysis is flow-sensitive: assignments replace, branches
  join, loops iterate to a fixpoint, ``return``/``raise``/``break``/``continue`` cut
  the path, and tests refine (``if device == "auto":``).
* Values live on access paths: ``device``, ``self._device``, ``cfg["device"]``.
* ``self.<attr>`` is shared by the methods of a class: what any method stores,
  every method may read (a per-class summary, computed to a fixpoint), unless the
  reading method stored it itself earlier.
* Functions read module globals as they are at the end of the module body.

The result is a list of ``Flow`` (an origin reaching a sink argument) and
``DeviceMapUse`` (an origin reaching ``device_map=``, which is fine but changes
what a DEV001 fix means).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from devicelint.sinks import SinkCatalog, SinkUse, imports_of, qualified_name
from devicelint.vocabulary import Vocabulary

# A bounded number of passes keeps pathological code (deep loop nests, huge
# classes) linear; the lattice is finite, so real code converges in 2-3.
_MAX_PASSES = 8


@dataclass(eq=False, frozen=True)
class Origin:
    """An invalid string literal that values may carry. Identity matters."""

    value: str
    node: ast.Constant
    role: str  # "literal" | "default" | "comparison" | "environment default" | "conditional"
    parameter: str | None = None  # for role == "default"


Value = frozenset  # frozenset[Origin]
EMPTY: frozenset[Origin] = frozenset()
Path = tuple  # tuple[str, ...]: ("self", "._device"), ("cfg", "['device']")
State = dict  # dict[Path, frozenset[Origin]]; None means unreachable


@dataclass(frozen=True)
class Flow:
    origin: Origin
    sink: SinkUse


@dataclass(frozen=True)
class DeviceMapUse:
    origin: Origin
    keyword: ast.keyword


def path_of(expr: ast.expr) -> Path | None:
    """The access path an expression names, or None if it is not a plain path."""
    if isinstance(expr, ast.Name):
        return (expr.id,)
    if isinstance(expr, ast.Attribute):
        base = path_of(expr.value)
        return None if base is None else (*base, "." + expr.attr)
    if isinstance(expr, ast.Subscript):
        key = expr.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, (str, int)) and not isinstance(key.value, bool):
            base = path_of(expr.value)
            return None if base is None else (*base, f"[{key.value!r}]")
    if isinstance(expr, ast.NamedExpr):
        return path_of(expr.target)
    return None


# --- per-module analysis ---------------------------------------------------------


class ModuleFlow:
    """Runs the interpreter over the scopes of one module that matter, and collects flows.

    Values only ever start at string literals, so only the code around the
    pre-scan's candidate lines can produce a flow: the top-level function or class
    that contains a candidate (a class as a whole, because ``self`` is shared).
    A candidate in module-level code, or a ``global`` statement, means the whole
    module is analysed. ``candidate_lines=None`` analyses everything.
    """

    def __init__(
        self,
        tree: ast.Module,
        vocabulary: Vocabulary,
        catalog: SinkCatalog,
        match_conditional: Callable[[ast.AST], Any],
        candidate_lines: set[int] | None = None,
    ) -> None:
        self.tree = tree
        self.vocabulary = vocabulary
        self.catalog = catalog
        # Recognises a DEV001-shaped conditional (rules.py); returns None or a
        # match whose ``invalid`` is the literal to tag.
        self.match_conditional = match_conditional
        self.whole_module, self.scopes = _select_scopes(tree, candidate_lines)
        self._reset()

    def _reset(self) -> None:
        imports = [s for s in _module_level(self.tree.body) if isinstance(s, (ast.Import, ast.ImportFrom))]
        self.imports = imports_of(imports)  # function-level imports are added as they run
        self._matches: dict[int, Any] = {}
        self.conditionals: dict[int, Any] = {}  # id(P literal) -> DEV001 match
        self._origins: dict[tuple[int, str], Origin] = {}
        self._scope_info: dict[int, _ScopeInfo] = {}
        self.flows: dict[tuple[int, int], Flow] = {}
        self.device_map_uses: dict[tuple[int, int], DeviceMapUse] = {}
        self.module_state: State = {}
        self.global_writes: dict[Path, frozenset[Origin]] = {}

    def conditional(self, node: ast.IfExp | ast.If) -> None:
        """Tag the invalid literal of a DEV001-shaped conditional before it is evaluated."""
        if id(node) not in self._matches:
            match = self._matches[id(node)] = self.match_conditional(node)
            if match is not None:
                self.conditionals[id(match.invalid)] = match

    # origins are interned per literal so that fixpoints compare equal
    def origin(self, node: ast.Constant, role: str, parameter: str | None = None) -> Origin:
        if id(node) in self.conditionals:
            role = "conditional"
        key = (id(node), role)
        found = self._origins.get(key)
        if found is None:
            found = self._origins[key] = Origin(node.value, node, role, parameter)
        return found

    def scope_info(self, node: ast.AST) -> _ScopeInfo:
        """Locals and globals of a scope; only the whole-module mode needs them."""
        if not self.whole_module:
            return _NO_SCOPE_INFO  # globals carry nothing, so local or not makes no difference
        info = self._scope_info.get(id(node))
        if info is None:
            info = self._scope_info[id(node)] = _ScopeInfo.of(node)
        return info

    def run(self) -> None:
        if not self.whole_module:
            try:
                # No candidate in module-level code: globals carry nothing.
                self._run_scopes(self.scopes, enclosing=frozenset())
                return
            except _NeedsWholeModule:
                self.whole_module = True
                self._reset()
        frame = Frame(self, scope_locals=self.scope_info(self.tree).names, is_module=True)
        self.module_state = frame.exec_block(self.tree.body, {}) or {}
        for _ in range(_MAX_PASSES):
            before = dict(self.global_writes)
            self._run_scopes(self.tree.body, enclosing=frozenset())
            if self.global_writes == before:
                break

    def global_value(self, path: Path) -> frozenset[Origin]:
        value = lookup(self.module_state, path, lambda p: EMPTY)
        extra = self.global_writes.get(path)
        return value | extra if extra else value

    def _run_scopes(self, body: Iterable[ast.stmt], enclosing: frozenset[str]) -> None:
        """Analyse every function and class defined (at any depth) in ``body``."""
        for node in _scopes_in(body):
            if isinstance(node, ast.ClassDef):
                self._run_class(node, enclosing)
            else:
                self._run_function(node, enclosing, None, None)  # type: ignore[arg-type]

    def _run_function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        enclosing: frozenset[str],
        summary: ClassSummary | None,
        self_name: str | None,
    ) -> None:
        info = self.scope_info(node)
        frame = Frame(
            self,
            scope_locals=info.names,
            enclosing=enclosing,
            class_summary=summary,
            self_name=self_name,
            global_names=info.globals,
        )
        frame.publish(frame.exec_block(node.body, frame.entry_state(node.args)))
        self._run_scopes(node.body, enclosing | frame.scope_locals)

    def _run_class(self, node: ast.ClassDef, enclosing: frozenset[str]) -> None:
        summary = ClassSummary()
        # Class-body assignments are what every instance reads until it stores its own.
        class_frame = Frame(self, scope_locals=self.scope_info(node).names, enclosing=enclosing)
        class_state = class_frame.exec_block(node.body, {}) or {}
        for path, value in class_state.items():
            if value:
                summary.stores[("." + path[0], *path[1:])] = value
        methods = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for _ in range(_MAX_PASSES):
            before = dict(summary.stores)
            for method in methods:
                self._run_function(method, enclosing, summary, _self_parameter(method))
            if summary.stores == before:
                break
        for inner in _scopes_in(node.body, skip_functions=True):
            self._run_class(inner, enclosing)  # type: ignore[arg-type]

    # recording
    def record_sink(self, use: SinkUse, value: frozenset[Origin]) -> None:
        for origin in value:
            self.flows.setdefault((id(origin), id(use.argument)), Flow(origin, use))

    def record_device_map(self, keyword: ast.keyword, value: frozenset[Origin]) -> None:
        for origin in value:
            self.device_map_uses.setdefault((id(origin), id(keyword)), DeviceMapUse(origin, keyword))


class ClassSummary:
    """What the methods of one class store on ``self``: path after self -> value."""

    def __init__(self) -> None:
        self.stores: dict[Path, frozenset[Origin]] = {}

    def add(self, path: Path, value: frozenset[Origin]) -> None:
        old = self.stores.get(path, EMPTY)
        if not value <= old:
            self.stores[path] = old | value

    def value(self, path: Path) -> frozenset[Origin]:
        return self.stores.get(path, EMPTY)


def lookup(state: State, path: Path, fallback: Callable[[Path], frozenset[Origin]]) -> frozenset[Origin]:
    """The value at ``path``: bound in the state, or from the fallback (globals, self).

    If a prefix of the path was re-bound in this state (``cfg = load()``), the old
    object's parts are gone and the value is unknown.
    """
    value = state.get(path)
    if value is not None:
        return value
    for i in range(len(path) - 1, 0, -1):
        if path[:i] in state:
            return EMPTY
    return fallback(path)


@dataclass
class _Loop:
    breaks: list
    continues: list


class Frame:
    """The interpreter for one scope (module body, class body or function)."""

    def __init__(
        self,
        module: ModuleFlow,
        scope_locals: frozenset[str],
        enclosing: frozenset[str] = frozenset(),
        class_summary: ClassSummary | None = None,
        self_name: str | None = None,
        global_names: frozenset[str] = frozenset(),
        is_module: bool = False,
    ) -> None:
        self.module = module
        self.vocabulary = module.vocabulary
        self.scope_locals = scope_locals - global_names
        self.enclosing = enclosing
        self.class_summary = class_summary
        self.self_name = self_name
        self.global_names = global_names
        self.is_module = is_module
        self.loops: list[_Loop] = []
        self.stored_on_self: set[Path] = set()  # self paths this method assigns

    # -- values -------------------------------------------------------------------

    def fallback(self, path: Path) -> frozenset[Origin]:
        root = path[0]
        if self.self_name is not None and root == self.self_name and self.class_summary is not None:
            return self.class_summary.value(path[1:]) if len(path) > 1 else EMPTY
        if self.is_module or root in self.scope_locals or root in self.enclosing:
            return EMPTY
        return self.module.global_value(path)

    def read(self, state: State, path: Path) -> frozenset[Origin]:
        return lookup(state, path, self.fallback)

    def join(self, *states: State | None) -> State | None:
        """The union of several states; None (unreachable) is the identity."""
        live = [s for s in states if s is not None]
        if not live:
            return None
        if len(live) == 1:
            return dict(live[0])
        keys = set().union(*live)
        return {k: frozenset().union(*(self.read(s, k) for s in live)) for k in keys}

    def bind(self, state: State, path: Path, value: frozenset[Origin]) -> None:
        """Assign ``path``: replaces its value and forgets the parts of the old object."""
        n = len(path)
        for key in [k for k in state if len(k) > n and k[:n] == path]:
            del state[key]
        state[path] = value
        if n > 1 and path[0] == self.self_name:
            self.stored_on_self.add(path)
        if path[0] in self.global_names and value:
            writes = self.module.global_writes
            writes[path] = writes.get(path, EMPTY) | value

    def publish(self, state: State | None) -> None:
        """Make what this method stored on ``self`` visible to the other methods.

        Called where other methods can observe the object: when this method returns
        and when it calls another method on ``self``. A value stored and then
        overwritten before either point is never seen elsewhere.
        """
        if state is None or self.class_summary is None or not self.stored_on_self:
            return
        stored = self.stored_on_self
        for path, value in state.items():
            # Only what this method stored: a test like `if self.x == "auto"` reads, not writes.
            if value and path[0] == self.self_name and any(path[: len(p)] == p for p in stored):
                self.class_summary.add(path[1:], value)

    def refine_path(self, state: State, path: Path, keep: Callable[[Origin], bool]) -> None:
        value = self.read(state, path)
        kept = frozenset(o for o in value if keep(o))
        if kept != value or path not in state:
            state[path] = kept

    def entry_state(self, args: ast.arguments) -> State:
        state: State = {}
        positional = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        pairs = [*zip(positional, defaults), *zip(args.kwonlyargs, args.kw_defaults)]
        for arg, default in pairs:
            if default is not None and self._is_tracked_literal(default):
                state[(arg.arg,)] = frozenset({self.module.origin(default, "default", arg.arg)})  # type: ignore[arg-type]
        return state

    def _is_tracked_literal(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and self.vocabulary.is_tracked(node.value)

    # -- statements ---------------------------------------------------------------

    def exec_block(self, body: Iterable[ast.stmt], state: State | None) -> State | None:
        for stmt in body:
            if state is None:
                return None
            state = self.exec_stmt(stmt, state)
        return state

    def exec_stmt(self, stmt: ast.stmt, state: State) -> State | None:  # noqa: C901 - one dispatch
        if isinstance(stmt, ast.Expr):
            self.eval(stmt.value, state)
        elif isinstance(stmt, ast.Assign):
            value = self.eval(stmt.value, state)
            for target in stmt.targets:
                self.assign(target, stmt.value, value, state)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, stmt.value, self.eval(stmt.value, state), state)
        elif isinstance(stmt, ast.AugAssign):
            self.eval(stmt.value, state)
            self.assign(stmt.target, None, EMPTY, state)  # "cuda:" + "0" is not followed
        elif isinstance(stmt, ast.If):
            return self.exec_if(stmt, state)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            return self.exec_for(stmt, state)
        elif isinstance(stmt, ast.While):
            return self.exec_while(stmt, state)
        elif isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            return self.exec_try(stmt, state)  # type: ignore[arg-type]
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                self.eval(item.context_expr, state)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, None, EMPTY, state)
            return self.exec_block(stmt.body, state)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                self.eval(stmt.value, state)
            self.publish(state)
            return None
        elif isinstance(stmt, ast.Raise):
            if stmt.exc is not None:
                self.eval(stmt.exc, state)
            return None
        elif isinstance(stmt, ast.Break):
            if self.loops:
                self.loops[-1].breaks.append(state)
            return None
        elif isinstance(stmt, ast.Continue):
            if self.loops:
                self.loops[-1].continues.append(state)
            return None
        elif isinstance(stmt, ast.Assert):
            true_state, _ = self.refine(stmt.test, state)
            return true_state
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                path = path_of(target)
                if path is not None:
                    self.bind(state, path, EMPTY)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in stmt.decorator_list:
                self.eval(decorator, state)
            if not isinstance(stmt, ast.ClassDef):
                for default in stmt.args.defaults + [d for d in stmt.args.kw_defaults if d is not None]:
                    self.eval(default, state)
            self.assign(ast.Name(stmt.name), None, EMPTY, state)
        elif isinstance(stmt, ast.Match):
            return self.exec_match(stmt, state)
        elif isinstance(stmt, ast.Global) and not self.module.whole_module:
            raise _NeedsWholeModule
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            self.module.imports.update(imports_of([stmt]))
            for alias in stmt.names:
                name = alias.asname or alias.name.split(".", 1)[0]
                if name != "*":
                    self.bind(state, (name,), EMPTY)
        return state

    def assign(self, target: ast.expr, value_node: ast.expr | None, value: frozenset[Origin], state: State) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            elements = target.elts
            if (
                isinstance(value_node, (ast.Tuple, ast.List))
                and len(value_node.elts) == len(elements)
                and not any(isinstance(e, ast.Starred) for e in (*elements, *value_node.elts))
            ):
                parts = [(t, n, self.value_of(n, state)) for t, n in zip(elements, value_node.elts)]
                for sub_target, sub_node, sub_value in parts:
                    self.assign(sub_target, sub_node, sub_value, state)
            else:
                for sub_target in elements:
                    self.assign(sub_target, None, EMPTY, state)
            return
        if isinstance(target, ast.Starred):
            self.assign(target.value, None, EMPTY, state)
            return
        path = path_of(target)
        if path is None:
            # x[i] = ... or f().attr = ...: evaluate for sinks; an unknown key may
            # overwrite any constant-key entry of the same object, so forget those.
            if isinstance(target, ast.Subscript):
                self.eval(target.slice, state)
                base = path_of(target.value)
                if base is not None:
                    n = len(base)
                    for key in [k for k in state if len(k) == n + 1 and k[:n] == base and k[n].startswith("[")]:
                        state[key] = EMPTY
            if isinstance(target, (ast.Subscript, ast.Attribute)):
                self.eval(target.value, state)
            return
        if isinstance(target, ast.Subscript):
            self.eval(target.value, state)
        self.bind(state, path, value)
        if value_node is not None:
            for suffix, part in self.structure(value_node, state):
                self.bind(state, (*path, *suffix), part)

    def structure(self, node: ast.expr, state: State) -> Iterator[tuple[Path, frozenset[Origin]]]:
        """The parts of a dict/namespace literal: ``{"device": "auto"}`` -> (['device'], {auto})."""
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, (str, int)):
                    yield from self._part(f"[{key.value!r}]", value, state)
        elif isinstance(node, ast.Call) and not node.args:
            name = self.callee(node)
            if name in ("dict", "types.SimpleNamespace", "argparse.Namespace"):
                fmt = "[{!r}]" if name == "dict" else ".{}"
                for kw in node.keywords:
                    if kw.arg is not None:
                        yield from self._part(fmt.format(kw.arg), kw.value, state)
        elif (source := path_of(node)) is not None:
            n = len(source)
            for key, value in list(state.items()):
                if len(key) > n and key[:n] == source:
                    yield key[n:], value

    def _part(self, step: str, node: ast.expr, state: State) -> Iterator[tuple[Path, frozenset[Origin]]]:
        yield (step,), self.value_of(node, state)
        for suffix, value in self.structure(node, state):
            yield (step, *suffix), value

    def exec_if(self, stmt: ast.If, state: State) -> State | None:
        self.module.conditional(stmt)
        true_state, false_state = self.refine(stmt.test, state)
        after_body = self.exec_block(stmt.body, true_state)
        after_else = self.exec_block(stmt.orelse, false_state) if stmt.orelse else false_state
        return self.join(after_body, after_else)

    def _loop(self, head: State, run_body: Callable[[State], tuple[State | None, State | None]]) -> State | None:
        """Iterates a loop to a fixpoint. ``run_body(head)`` -> (exit-by-test, end of body)."""
        breaks: list = []
        exit_state: State | None = None
        for _ in range(_MAX_PASSES):
            frame = _Loop([], [])
            self.loops.append(frame)
            try:
                exit_state, end = run_body(head)
            finally:
                self.loops.pop()
            breaks = frame.breaks
            new_head = self.join(head, end, *frame.continues)
            if new_head == head:
                break
            head = new_head  # type: ignore[assignment]
        return self.join(exit_state, *breaks) if breaks else exit_state

    def exec_for(self, stmt: ast.For | ast.AsyncFor, state: State) -> State | None:
        self.eval(stmt.iter, state)
        element = self.elements(stmt.iter, state)

        def run_body(head: State) -> tuple[State | None, State | None]:
            body_state = dict(head)
            self.assign(stmt.target, None, element, body_state)
            end = self.exec_block(stmt.body, body_state)
            exhausted = self.join(head, end)
            return (self.exec_block(stmt.orelse, exhausted) if stmt.orelse else exhausted), end

        return self._loop(state, run_body)

    def exec_while(self, stmt: ast.While, state: State) -> State | None:
        def run_body(head: State) -> tuple[State | None, State | None]:
            true_state, false_state = self.refine(stmt.test, dict(head))
            end = self.exec_block(stmt.body, true_state)
            if end is not None:
                _, end_false = self.refine(stmt.test, dict(end))
                false_state = self.join(false_state, end_false)
            return (self.exec_block(stmt.orelse, false_state) if stmt.orelse else false_state), end

        return self._loop(state, run_body)

    def exec_try(self, stmt: ast.Try, state: State) -> State | None:
        # An exception may leave the body after any of its statements.
        seen: list[State | None] = [state]
        current: State | None = dict(state)
        for inner in stmt.body:
            if current is None:
                break
            current = self.exec_stmt(inner, current)
            seen.append(current)
        handler_entry = self.join(*seen)
        outcomes = [self.exec_block(stmt.orelse, current) if stmt.orelse else current]
        for handler in stmt.handlers:
            if handler_entry is None:
                break
            entry = dict(handler_entry)
            if handler.type is not None:
                self.eval(handler.type, entry)
            if handler.name:
                self.bind(entry, (handler.name,), EMPTY)
            outcomes.append(self.exec_block(handler.body, entry))
        result = self.join(*outcomes)
        if not stmt.finalbody:
            return result
        # The finally block also runs on the exceptional paths: look for sinks there,
        # but the state after the statement is the normal path's.
        abrupt = self.join(handler_entry, result)
        if abrupt is not None:
            self.exec_block(stmt.finalbody, abrupt)
        return self.exec_block(stmt.finalbody, result) if result is not None else None

    def exec_match(self, stmt: ast.Match, state: State) -> State | None:
        self.eval(stmt.subject, state)
        subject = path_of(stmt.subject)
        outcomes: list[State | None] = [state]  # no case may match
        for case in stmt.cases:
            entry = dict(state)
            pattern = case.pattern
            if (
                subject is not None
                and isinstance(pattern, ast.MatchValue)
                and isinstance(pattern.value, ast.Constant)
                and isinstance(pattern.value.value, str)
            ):
                self._refine_equal(entry, subject, pattern.value, equal=True)
            for name in _pattern_names(pattern):
                self.bind(entry, (name,), EMPTY)
            if case.guard is not None:
                entry, _ = self.refine(case.guard, entry)
            outcomes.append(self.exec_block(case.body, entry))
        return self.join(*outcomes)

    # -- tests --------------------------------------------------------------------

    def refine(self, test: ast.expr, state: State | None) -> tuple[State | None, State | None]:
        """(state where ``test`` is true, state where it is false); None = impossible."""
        if state is None:
            return None, None
        if isinstance(test, ast.BoolOp):
            if isinstance(test.op, ast.And):
                falses: list[State | None] = []
                current: State | None = state
                for value in test.values:
                    current, false_state = self.refine(value, current)
                    falses.append(false_state)
                return current, self.join(*falses)
            trues: list[State | None] = []
            current = state
            for value in test.values:
                true_state, current = self.refine(value, current)
                trues.append(true_state)
            return self.join(*trues), current
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            true_state, false_state = self.refine(test.operand, state)
            return false_state, true_state
        if isinstance(test, ast.Constant):
            return (dict(state), None) if test.value else (None, dict(state))
        self.eval(test, state)
        true_state, false_state = dict(state), dict(state)
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, op, right = test.left, test.ops[0], test.comparators[0]
            if isinstance(op, (ast.Eq, ast.NotEq)):
                subject, literal = _subject_and_literal(left, right)
                if subject is not None and literal is not None:
                    equal = isinstance(op, ast.Eq)
                    self._refine_equal(true_state, subject, literal, equal=equal)
                    self._refine_equal(false_state, subject, literal, equal=not equal)
            elif isinstance(op, (ast.In, ast.NotIn)):
                subject = path_of(left)
                literals = _string_literals(right)
                if subject is not None and literals is not None:
                    inside = isinstance(op, ast.In)
                    self._refine_member(true_state, subject, literals, inside=inside)
                    self._refine_member(false_state, subject, literals, inside=not inside)
        return true_state, false_state

    def _refine_equal(self, state: State, subject: Path, literal: ast.Constant, *, equal: bool) -> None:
        self._refine_member(state, subject, [literal], inside=equal)

    def _refine_member(self, state: State, subject: Path, literals: list[ast.Constant], *, inside: bool) -> None:
        values = {lit.value for lit in literals}
        if not inside:
            self.refine_path(state, subject, lambda o: o.value not in values)
            return
        self.refine_path(state, subject, lambda o: o.value in values)
        if not state[subject]:
            # Nothing known reaches here, yet the test says the subject holds one of
            # these strings: `if device == "auto": x.to(device)` crashes.
            tracked = [lit for lit in literals if self.vocabulary.is_tracked(lit.value)]
            if len(tracked) == len(literals):
                state[subject] = frozenset(self.module.origin(lit, "comparison") for lit in tracked)

    # -- expressions --------------------------------------------------------------

    def callee(self, call: ast.Call) -> str | None:
        name = qualified_name(call.func, self.module.imports)
        if name is None and isinstance(call.func, ast.Name) and call.func.id in _BUILTINS:
            if call.func.id not in self.module.imports and not self._shadowed(call.func.id):
                return call.func.id
        return name

    def _shadowed(self, name: str) -> bool:
        return name in self.scope_locals or name in self.enclosing or name in self.module.module_state

    def elements(self, iterable: ast.expr, state: State) -> frozenset[Origin]:
        """The values a for-loop target takes, for literal tuples/lists/sets."""
        if isinstance(iterable, (ast.Tuple, ast.List, ast.Set)):
            return frozenset().union(*(self.value_of(e, state) for e in iterable.elts if not isinstance(e, ast.Starred)))
        return EMPTY

    def value_of(self, node: ast.expr, state: State) -> frozenset[Origin]:
        """The value of an expression whose sinks were already visited.

        Visiting again records nothing new (flows are de-duplicated); working on a
        copy keeps a walrus from binding twice.
        """
        if isinstance(node, ast.Constant):
            return self._constant(node)
        path = path_of(node)
        if path is not None and not isinstance(node, ast.NamedExpr):
            return self.read(state, path)
        return self.eval(node, dict(state))

    def _constant(self, node: ast.Constant) -> frozenset[Origin]:
        if isinstance(node.value, str) and self.vocabulary.is_tracked(node.value):
            return frozenset({self.module.origin(node, "literal")})
        return EMPTY

    def eval(self, node: ast.expr, state: State) -> frozenset[Origin]:  # noqa: C901 - one dispatch
        """The value of ``node``; records every sink it contains on the way."""
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self.read(state, (node.id,))
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            self.eval(node.value, state)
            if isinstance(node, ast.Subscript):
                self.eval(node.slice, state)
            path = path_of(node)
            return self.read(state, path) if path is not None else EMPTY
        if isinstance(node, ast.Call):
            return self.eval_call(node, state)
        if isinstance(node, ast.IfExp):
            self.module.conditional(node)
            true_state, false_state = self.refine(node.test, state)
            value = self.eval(node.body, true_state) if true_state is not None else EMPTY
            if false_state is not None:
                value = value | self.eval(node.orelse, false_state)
            return value
        if isinstance(node, ast.BoolOp):
            value = EMPTY
            current: State | None = state
            for operand in node.values:
                if current is None:
                    break
                value = value | self.eval(operand, current)
                # the next operand runs only if this one was true (and) / false (or)
                true_state, false_state = self.refine(operand, dict(current))
                current = true_state if isinstance(node.op, ast.And) else false_state
            return value
        if isinstance(node, ast.NamedExpr):
            value = self.eval(node.value, state)
            self.assign(node.target, node.value, value, state)
            return value
        if isinstance(node, ast.Lambda):
            inner = dict(state)
            for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
                self.bind(inner, (arg.arg,), EMPTY)
            self.eval(node.body, inner)
            return EMPTY
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            self.eval_comprehension(node, state)
            return EMPTY
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.eval(child, state)
        return EMPTY

    def eval_comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, state: State) -> None:
        inner: State | None = dict(state)
        for generator in node.generators:
            if inner is None:
                return
            self.eval(generator.iter, inner)
            self.assign(generator.target, None, self.elements(generator.iter, inner), inner)
            for condition in generator.ifs:
                inner, _ = self.refine(condition, inner)
                if inner is None:
                    return
        if isinstance(node, ast.DictComp):
            self.eval(node.key, inner)
            self.eval(node.value, inner)
        else:
            self.eval(node.elt, inner)

    def eval_call(self, call: ast.Call, state: State) -> frozenset[Origin]:
        self.eval(call.func, state)
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == self.self_name:
            self.publish(state)  # self.method() observes what this method stored so far
        values: dict[int, frozenset[Origin]] = {}
        for arg in call.args:
            values[id(arg)] = self.eval(arg.value if isinstance(arg, ast.Starred) else arg, state)
        for kw in call.keywords:
            values[id(kw.value)] = value = self.eval(kw.value, state)
            if kw.arg == "device_map" and value:
                self.module.record_device_map(kw, value)
        name = self.callee(call)
        for use in self.module.catalog.uses(call, name):
            value = values.get(id(use.argument), EMPTY)
            argument = use.argument
            if not value and isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                # A literal written at the sink: any non-device string at a strict sink.
                literal = argument.value
                if (self.vocabulary.is_device_like(literal) if not use.strict else not self.vocabulary.is_concrete(literal)):
                    value = frozenset({self.module.origin(argument, "literal")})
            self.module.record_sink(use, value)
        return self.call_result(call, name, values)

    def call_result(self, call: ast.Call, name: str | None, values: dict[int, frozenset[Origin]]) -> frozenset[Origin]:
        """What a call returns: unknown, except for the few functions modelled here."""
        if name == "str" and len(call.args) == 1 and not call.keywords:
            return values[id(call.args[0])]
        if name in ("os.getenv", "os.environ.get"):
            default = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "default"), None)
            if isinstance(default, ast.Constant) and isinstance(default.value, str) and self.vocabulary.is_tracked(default.value):
                return frozenset({self.module.origin(default, "environment default")})
        return EMPTY


_BUILTINS = frozenset({"str", "dict"})


def _subject_and_literal(left: ast.expr, right: ast.expr) -> tuple[Path | None, ast.Constant | None]:
    for subject_node, literal in ((left, right), (right, left)):
        if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
            subject = path_of(subject_node)
            if subject is not None:
                return subject, literal
    return None, None


def _string_literals(node: ast.expr) -> list[ast.Constant] | None:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts:
        if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            return list(node.elts)  # type: ignore[arg-type]
    return None


def _pattern_names(pattern: ast.pattern) -> Iterator[str]:
    for node in ast.walk(pattern):
        name = getattr(node, "name", None) if isinstance(node, (ast.MatchAs, ast.MatchStar)) else None
        if name:
            yield name
        if isinstance(node, ast.MatchMapping) and node.rest:
            yield node.rest


# --- scopes ----------------------------------------------------------------------


def _scopes_in(body: Iterable[ast.stmt], skip_functions: bool = False) -> Iterator[ast.stmt]:
    """Function and class definitions directly in this scope (inside if/try/... too)."""
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not skip_functions:
                yield stmt
        elif isinstance(stmt, ast.ClassDef):
            yield stmt
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                children = getattr(stmt, field, None)
                if children:
                    yield from _scopes_in(
                        [c for child in children for c in (child.body if isinstance(child, (ast.ExceptHandler, ast.match_case)) else [child])],
                        skip_functions,
                    )


@dataclass(frozen=True)
class _ScopeInfo:
    """The names a scope binds (its locals) and declares global, from one walk."""

    names: frozenset[str]
    globals: frozenset[str]

    @classmethod
    def of(cls, scope: ast.AST) -> _ScopeInfo:
        names: set[str] = set()
        declared_global: set[str] = set()
        declared_nonlocal: set[str] = set()
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = scope.args
            names.update(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))
            names.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
        stack: list[ast.AST] = list(getattr(scope, "body", []))
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
                # decorators and defaults run in this scope; the body is its own
                stack.extend(node.decorator_list)
                if not isinstance(node, ast.ClassDef):
                    stack.extend(d for d in (*node.args.defaults, *node.args.kw_defaults) if d is not None)
                continue
            if isinstance(node, ast.Lambda):
                continue
            if isinstance(node, ast.Name):
                if not isinstance(node.ctx, ast.Load):
                    names.add(node.id)
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name.split(".", 1)[0]) for a in node.names if a.name != "*")
            elif isinstance(node, ast.Global):
                declared_global.update(node.names)
            elif isinstance(node, ast.Nonlocal):
                declared_nonlocal.update(node.names)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                names.add(node.name)
            elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
                names.add(node.name)
            elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
                # comprehension variables are their own scope; walrus targets leak out
                names.update(n.target.id for n in ast.walk(node) if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name))
                continue
            stack.extend(ast.iter_child_nodes(node))
        return cls(frozenset(names - declared_global - declared_nonlocal), frozenset(declared_global))


class _NeedsWholeModule(Exception):
    """A ``global`` statement: values can cross functions through module globals."""


_NO_SCOPE_INFO = _ScopeInfo(frozenset(), frozenset())


def _module_level(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a scope's own code, inside if/try/with/for too, not in defs."""
    for stmt in body:
        yield stmt
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody"):
                yield from _module_level(getattr(stmt, field, ()))
            for handler in getattr(stmt, "handlers", ()):
                yield from _module_level(handler.body)


def _select_scopes(tree: ast.Module, candidate_lines: set[int] | None) -> tuple[bool, list[ast.stmt]]:
    """(whole module?, the top-level functions and classes around the candidate lines)."""
    if candidate_lines is None:
        return True, []
    selected: list[ast.stmt] = []
    for stmt in tree.body:
        is_scope = isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        first = stmt.lineno
        if is_scope and stmt.decorator_list:  # type: ignore[union-attr]
            first = min(d.lineno for d in stmt.decorator_list)  # type: ignore[union-attr]
            if any(first <= line < stmt.lineno for line in candidate_lines):
                return True, []  # decorators run at module level
        last = stmt.end_lineno or stmt.lineno
        if any(first <= line <= last for line in candidate_lines):
            if not is_scope:
                return True, []
            selected.append(stmt)
    return False, selected


def _self_parameter(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The first parameter of a method (``self``/``cls``); None for staticmethods."""
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Name) and decorator.id == "staticmethod":
            return None
    positional = [*node.args.posonlyargs, *node.args.args]
    return positional[0].arg if positional else None
