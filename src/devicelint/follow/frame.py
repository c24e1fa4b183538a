"""The interpreter for one scope: a module body, a class body or one run of a function.

``Frame`` holds what the scope knows (its module, its class context, which names are
local) and the operations on values; the constructs themselves are in three parts:
statements.py (assignments, branches, loops, try, match), expressions.py (values,
calls, sinks) and refine.py (what a test says about a value).
"""

from __future__ import annotations

import ast
from functools import cached_property

from devicelint.follow import sources
from devicelint.follow.expressions import Expressions
from devicelint.follow.receivers import Receivers
from devicelint.follow.refine import Refinement
from devicelint.follow.scopes import NO_SCOPE_INFO, ScopeInfo
from devicelint.follow.statements import Statements
from devicelint.follow.values import EMPTY, AccessPath, Origin, State

TYPE_CHECKING = False  # typing.TYPE_CHECKING (type checkers take it as true) without importing typing: 2-4 ms of start-up
if TYPE_CHECKING:
    from devicelint.follow.engine import ClassContext, Follower
    from devicelint.project import ModuleInfo

Binding = tuple[tuple[AccessPath, frozenset[Origin]], ...]  # what a caller passes: path -> value


class Frame(Statements, Expressions, Refinement, Receivers):
    def __init__(
        self,
        follower: Follower,
        module: ModuleInfo,
        scope: ast.AST | None,
        *,
        scope_name: str | None = None,
        enclosing: frozenset[str] = frozenset(),
        cls: ClassContext | None = None,
        owner: ast.ClassDef | None = None,
        self_name: str | None = None,
        is_module: bool = False,
    ) -> None:
        self.follower = follower
        self.module = module
        self.vocabulary = follower.vocabulary
        self.scope = scope  # the function, class or module whose names are local here
        self.scope_name = scope_name
        self.enclosing = enclosing
        self.cls = cls  # the class whose instance ``self`` is (maybe a subclass of owner)
        self.owner = owner  # the class this method is written in
        self.self_name = self_name
        self.is_module = is_module
        self.loops: list = []
        self.probing = 0  # inside try bodies whose handler catches a bad device: sinks there are probes
        self.stored_on_self: set[AccessPath] = set()  # self paths this method assigns
        self.returned: frozenset[Origin] = EMPTY
        self.returned_parts: dict[AccessPath, frozenset[Origin]] = {}
        self.call_parts: dict[int, list[tuple[AccessPath, frozenset[Origin]]]] = {}

    # -- scope ---------------------------------------------------------------------
    # Computed on first use: most scopes never need them (a walk of the whole scope).

    @cached_property
    def _scope_info(self) -> ScopeInfo:
        return self.follower.scope_info(self.scope, self.module) if self.scope is not None else NO_SCOPE_INFO

    @property
    def scope_locals(self) -> frozenset[str]:
        return self._scope_info.names

    @cached_property
    def global_names(self) -> frozenset[str]:
        if self.is_module or not self.follower.declares_globals(self.module):
            return frozenset()
        return self._scope_info.globals

    # -- values -------------------------------------------------------------------

    def fallback(self, path: AccessPath) -> frozenset[Origin]:
        """The value of a path this scope has not bound: self's stores, imports, globals."""
        root = path[0]
        if self.self_name is not None and root == self.self_name and self.cls is not None:
            return self.cls.value(path[1:]) if len(path) > 1 else EMPTY
        if root in self.module.imports:
            # parameters and assigned locals are always bound: an unbound imported name is the import
            return self.follower.imported_value(self.module, path)
        if self.is_module:
            return EMPTY
        value = self.follower.global_value(self.module, path)
        if value and (root in self.enclosing or root in self.scope_locals):
            return EMPTY  # a local of this scope (or of an enclosing one) that is not bound here
        return value

    def read(self, state: State, path: AccessPath) -> frozenset[Origin]:
        return state.read(path, self.fallback)

    def join(self, *states: State | None) -> State | None:
        """The union of several states; None (unreachable) is the identity.

        A path bound in only some of them is read in the others through the fallback."""
        live = [s for s in states if s is not None]
        if not live:
            return None
        result = live[0].copy()
        for other in live[1:]:
            theirs = other.values
            if theirs == result.values:
                continue
            mine = result.values
            for key, value in theirs.items():
                current = mine.get(key)
                if current is None:
                    result.set(key, value | result.read(key, self.fallback))
                elif not value <= current:
                    mine[key] = current | value
            for key in mine.keys() - theirs.keys():
                extra = other.read(key, self.fallback)
                if extra and not extra <= mine[key]:
                    mine[key] = mine[key] | extra
        return result

    def bind(self, state: State, path: AccessPath, value: frozenset[Origin]) -> None:
        """Assign ``path``: replaces its value and forgets the parts of the old object."""
        state.bind(path, value)
        if len(path) > 1 and path[0] == self.self_name:
            self.stored_on_self.add(path)
        if value and path[0] in self.global_names:  # (a walk of the scope, only when needed)
            self.follower.write_global(self.module, path, value)

    def publish(self, state: State | None) -> None:
        """Make what this method stored on ``self`` visible to the other methods.

        Called where other methods can observe the object: when this method returns
        and when it calls another method on ``self``. A value stored and then
        overwritten before either point is never seen elsewhere.
        """
        if state is None or self.cls is None or not self.stored_on_self:
            return
        stored = self.stored_on_self
        for path, value in state.items():
            # Only what this method stored: a test like `if self.x == "auto"` reads, not writes.
            if value and path[0] == self.self_name and any(path[:i] in stored for i in range(2, len(path) + 1)):
                self.cls.add(path[1:], value)

    def refine_path(self, state: State, path: AccessPath, keep) -> None:
        value = self.read(state, path)
        kept = frozenset(o for o in value if keep(o))
        if kept != value or path not in state:
            state.set(path, kept)
        ruled_out = value - kept
        if ruled_out:
            # A copy made before the test (`device = args.device; if args.device == "auto":
            # device = ...`) holds the same evaluation of the literal: the test rules it out there too.
            for other, held in list(state.items()):
                if other != path and not held.isdisjoint(ruled_out):
                    state.set(other, held - ruled_out)

    def origin(self, node: ast.Constant, role: str, parameter: str | None = None) -> Origin:
        return self.follower.origins.of(node, role, self.module.path, self.scope_name, parameter)

    def is_tracked_literal(self, node: ast.expr | None) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and self.vocabulary.is_tracked(node.value)

    def entry_state(self, args: ast.arguments, binding: Binding | None) -> State:
        """The state a function starts in: what the caller passed, else the defaults."""
        state = State()
        passed = dict(binding or ())
        positional = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        for arg, default in [*zip(positional, defaults), *zip(args.kwonlyargs, args.kw_defaults)]:
            key = (arg.arg,)
            if key in passed:
                state.set(key, passed.pop(key))
            elif self.is_tracked_literal(default):
                state.set(key, frozenset({self.origin(default, "default", arg.arg)}))  # type: ignore[arg-type]
        for path, value in passed.items():  # **kwargs entries
            state.set(path, value)
        if binding is None:  # nothing in the project calls it: click/typer, a ComfyUI node's FUNCTION
            for path, value in sources.entry_values(self, self.scope).items():
                if not state.get(path):
                    state.set(path, value)
        # every other parameter is bound too: unknown, never a module name it shadows
        for arg in (*positional, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None and (arg.arg,) not in state and arg.arg != self.self_name:
                state.set((arg.arg,), EMPTY)
        return state
