"""What the value follower tracks: origins (invalid string literals), the steps they take,
and the abstract state of a scope (access path -> the origins it may hold).

A value is a ``frozenset`` of origins: everything else (concrete devices, values of
unknown functions) is not tracked, so an unknown value is the empty set and can never
be reported.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from devicelint.dataclass import dataclass

# Beyond this many steps an origin keeps its path as it is: recursion cannot grow it.
MAX_STEPS = 6

# Longer access paths (a.b.c... thousands deep, only in generated code) are unknown.
MAX_PATH = 64

AccessPath = tuple[str, ...]  # ("self", "._device"), ("cfg", "['device']"), ("t", "[0]")


@dataclass(frozen=True, eq=False)
class Step:
    """One hop of a value between scopes: into a parameter, out of a return, through self.

    ``text`` reads as the end of a sentence: "the return of get_device()".
    """

    text: str
    path: str  # the file where the hop happens
    node: ast.AST  # where: the call, or the store


@dataclass(frozen=True, eq=False)
class Origin:
    """An invalid string literal that values may carry, and the hops it took to get here.

    Origins are interned (see ``Origins``), so identity is equality and fixpoints
    converge; ``literal`` is the same for every path a literal takes.
    """

    value: str
    node: ast.Constant
    role: str  # "literal" | "default" | "comparison" | "environment default"
    path: str  # the file of the literal
    scope: str | None  # the function or class it is written in, for messages
    parameter: str | None = None  # for role == "default"
    steps: tuple[Step, ...] = ()

    @property
    def literal(self) -> ast.Constant:
        return self.node


Value = frozenset  # frozenset[Origin]
EMPTY: frozenset[Origin] = frozenset()


class Origins:
    """Interns origins per run, so that the same literal on the same path is one object."""

    def __init__(self) -> None:
        self._table: dict[tuple, Origin] = {}

    def of(
        self, node: ast.Constant, role: str, path: str, scope: str | None, parameter: str | None = None
    ) -> Origin:
        key = (id(node), role)
        found = self._table.get(key)
        if found is None:
            found = self._table[key] = Origin(node.value, node, role, path, scope, parameter)
        return found

    def via(self, value: frozenset[Origin], step: Step) -> frozenset[Origin]:
        """``value`` after one more hop (unchanged past MAX_STEPS)."""
        if not value:
            return value
        result = []
        for origin in value:
            if len(origin.steps) >= MAX_STEPS:
                result.append(origin)
                continue
            key = (id(origin), id(step.node), step.text)
            found = self._table.get(key)
            if found is None:
                found = self._table[key] = Origin(
                    origin.value, origin.node, origin.role, origin.path, origin.scope, origin.parameter,
                    (*origin.steps, step),
                )
            result.append(found)
        return frozenset(result)


class State:
    """The values at one program point: access path -> origins.

    ``None`` stands for an unreachable point wherever a state is expected. An index
    of the longer paths under each prefix keeps re-binding ``cfg`` (which forgets
    ``cfg['device']``) proportional to what it forgets, not to the state's size.
    """

    __slots__ = ("values", "_below", "_owned")

    def __init__(self, values: dict[AccessPath, frozenset[Origin]] | None = None) -> None:
        self.values: dict[AccessPath, frozenset[Origin]] = {}
        self._below: dict[AccessPath, set[AccessPath]] = {}
        self._owned = True  # copies share the index until one of them changes it
        for path, value in (values or {}).items():
            self.set(path, value)

    def copy(self) -> State:
        new = State.__new__(State)
        new.values = dict(self.values)
        new._below = self._below
        new._owned = self._owned = False
        return new

    def _own_index(self) -> None:
        if not self._owned:
            self._below = {prefix: set(paths) for prefix, paths in self._below.items()}
            self._owned = True

    def __contains__(self, path: AccessPath) -> bool:
        return path in self.values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, State) and self.values == other.values

    __hash__ = None  # type: ignore[assignment]

    def get(self, path: AccessPath) -> frozenset[Origin] | None:
        return self.values.get(path)

    def set(self, path: AccessPath, value: frozenset[Origin]) -> None:
        if len(path) > 1 and path not in self.values:
            self._own_index()
            for i in range(1, len(path)):
                self._below.setdefault(path[:i], set()).add(path)
        self.values[path] = value

    def bind(self, path: AccessPath, value: frozenset[Origin]) -> None:
        """Assign ``path``: replace its value and forget the parts of the old object."""
        self.forget_below(path)
        self.set(path, value)

    def unbind(self, path: AccessPath) -> None:
        """Forget ``path`` and its parts: reads fall back to what encloses the scope."""
        self.forget_below(path)
        if self.values.pop(path, None) is not None and len(path) > 1:
            self._own_index()
            for i in range(1, len(path)):
                below = self._below.get(path[:i])
                if below is not None:
                    below.discard(path)

    def forget_below(self, path: AccessPath) -> None:
        if path not in self._below:
            return
        self._own_index()
        n = len(path)
        for key in self._below.pop(path, ()):
            self.values.pop(key, None)
            for i in range(1, len(key)):
                if i < n:  # a prefix of ``path``: it keeps its other paths
                    below = self._below.get(key[:i])
                    if below is not None:
                        below.discard(key)
                elif i > n:  # a prefix inside what is forgotten
                    self._below.pop(key[:i], None)

    def read(self, path: AccessPath, fallback: Callable[[AccessPath], frozenset[Origin]]) -> frozenset[Origin]:
        """The value at ``path``: bound here, or from the fallback (globals, self).

        If a prefix of the path was re-bound here (``cfg = load()``), the old
        object's parts are gone and the value is unknown.
        """
        value = self.values.get(path)
        if value is not None:
            return value
        for i in range(len(path) - 1, 0, -1):
            if path[:i] in self.values:
                return EMPTY
        return fallback(path)

    def parts(self, path: AccessPath) -> list[tuple[AccessPath, frozenset[Origin]]]:
        """(suffix, value) of everything bound below ``path``: ``cfg['device']`` under ``cfg``."""
        n = len(path)
        return [(key[n:], self.values[key]) for key in sorted(self._below.get(path, ())) if key in self.values]

    def entries(self, path: AccessPath) -> list[tuple[str, frozenset[Origin]]]:
        """(key, value) of the string-keyed entries directly below ``path``: ``kwargs['device']``
        -> ("device", ...). What ``**path`` spreads as keyword arguments."""
        return [(suffix[0][2:-2], value) for suffix, value in self.parts(path) if len(suffix) == 1 and suffix[0].startswith("['")]

    def items(self):
        return self.values.items()

    def keys(self):
        return self.values.keys()


def path_of(expr: ast.expr) -> AccessPath | None:
    """The access path an expression names, or None if it is not a plain path.

    ``getattr(obj, "name")`` names ``obj.name``. Iterative: attribute chains may be
    thousands of links long.
    """
    steps: list[str] = []
    node = expr
    while True:
        if len(steps) > MAX_PATH:
            return None  # no real code names a value this way: unknown, and no quadratic work
        if isinstance(node, ast.Name):
            steps.append(node.id)
            return tuple(reversed(steps))
        if isinstance(node, ast.Attribute):
            steps.append("." + node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            key = node.slice
            if not (isinstance(key, ast.Constant) and isinstance(key.value, (str, int)) and not isinstance(key.value, bool)):
                return None
            steps.append(f"[{key.value!r}]")
            node = node.value
        elif isinstance(node, ast.NamedExpr):
            node = node.target
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) == 2
            and not node.keywords
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and node.args[1].value.isidentifier()
        ):
            steps.append("." + node.args[1].value)
            node = node.args[0]
        else:
            return None
