"""Tests refine values: inside ``if device == "auto":`` the name holds "auto"; in its
``else``, and after ``if device == "auto": device = ...``, it no longer does."""

from __future__ import annotations

import ast
from collections.abc import Callable

from devicelint.follow.values import AccessPath, State, path_of

# Methods that return a case-folded or trimmed copy: `device.lower() == "auto"` tests the
# device. The comparison applies the same method to each tracked value.
_FOLDS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "casefold": str.casefold,
    "strip": str.strip,
    "lstrip": str.lstrip,
    "rstrip": str.rstrip,
}


class Refinement:
    def refine(self, test: ast.expr, state: State | None) -> tuple[State | None, State | None]:
        """(state where ``test`` is true, state where it is false); None = impossible."""
        if state is None:
            return None, None
        if not self.follower.enter():
            return state.copy(), state.copy()  # nested past the depth bound: learn nothing
        try:
            return self._refine(test, state)
        finally:
            self.follower.leave()

    def _refine(self, test: ast.expr, state: State) -> tuple[State | None, State | None]:
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
            return (state.copy(), None) if test.value else (None, state.copy())
        self.eval(test, state)
        true_state, false_state = state.copy(), state.copy()
        checked = _isinstance_check(test)
        if checked is not None:
            # Every tracked value is a str: isinstance(x, int) holds for none of them,
            # and where isinstance(x, str) fails, x holds none of them.
            subject, may_be_str = checked
            if subject is not None:
                if not may_be_str:
                    true_state.set(subject, frozenset())
                elif may_be_str == "only":
                    false_state.set(subject, frozenset())
            return true_state, false_state
        prefixes = _startswith_check(test)
        if prefixes is not None:
            subject, fold, starts = prefixes
            self.refine_path(true_state, subject, lambda o: fold(o.value).startswith(starts))
            self.refine_path(false_state, subject, lambda o: not fold(o.value).startswith(starts))
            return true_state, false_state
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, op, right = test.left, test.ops[0], test.comparators[0]
            if isinstance(op, (ast.Eq, ast.NotEq)):
                subject, literal, fold = _subject_and_literal(left, right)
                if subject is not None and literal is not None:
                    equal = isinstance(op, ast.Eq)
                    self.refine_member(true_state, subject, [literal], inside=equal, fold=fold)
                    self.refine_member(false_state, subject, [literal], inside=not equal, fold=fold)
            elif isinstance(op, (ast.In, ast.NotIn)):
                subject, fold = _subject(left)
                literals = _string_literals(right)
                if literals is None and isinstance(right, ast.Name):
                    literals = self.constant_literals(right.id)
                if subject is not None and literals is not None:
                    inside = isinstance(op, ast.In)
                    self.refine_member(true_state, subject, literals, inside=inside, fold=fold)
                    self.refine_member(false_state, subject, literals, inside=not inside, fold=fold)
        return true_state, false_state

    def constant_literals(self, name: str) -> list[ast.Constant] | None:
        """The strings of a module-level collection constant ``VALID = ("cpu", "cuda")``:
        bound once, at module level, and not a local name here."""
        if name in self.scope_locals or name in self.enclosing or name in self.module.imports:
            return None
        if self.follower.declares_globals(self.module):
            return None  # a function may rebind it
        found: list[ast.Constant] | None = None
        for stmt in self.module.tree.body:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) else []
            for target in targets:
                if isinstance(target, ast.Name) and target.id == name:
                    if found is not None or isinstance(stmt, ast.AugAssign) or stmt.value is None:
                        return None
                    found = _string_literals(_unwrap_collection(stmt.value)) or []
        return found or None

    def refine_member(
        self, state: State, subject: AccessPath, literals: list[ast.Constant], *, inside: bool, fold: Callable[[str], str] | None = None
    ) -> None:
        values = {lit.value for lit in literals}
        if fold is not None:
            if inside:
                self.refine_path(state, subject, lambda o: fold(o.value) in values)
            else:
                self.refine_path(state, subject, lambda o: fold(o.value) not in values)
            return
        if not inside:
            self.refine_path(state, subject, lambda o: o.value not in values)
            return
        self.refine_path(state, subject, lambda o: o.value in values)
        if not state.get(subject):
            # Nothing known reaches here, yet the test says the subject holds one of
            # these strings: `if device == "auto": x.to(device)` crashes.
            tracked = [lit for lit in literals if self.vocabulary.is_tracked(lit.value)]
            if len(tracked) == len(literals):
                state.set(subject, frozenset(self.origin(lit, "comparison") for lit in tracked))


def _isinstance_check(test: ast.expr) -> tuple[AccessPath | None, bool | str] | None:
    """``isinstance(x, T)`` -> (x's path, whether a str passes: False, True or "only")."""
    if not (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Name)
        and test.func.id == "isinstance"
        and len(test.args) == 2
        and not test.keywords
    ):
        return None
    kinds = test.args[1].elts if isinstance(test.args[1], ast.Tuple) else [test.args[1]]
    names = [k.id if isinstance(k, ast.Name) else k.attr if isinstance(k, ast.Attribute) else None for k in kinds]
    if any(name is None for name in names):
        return path_of(test.args[0]), True  # unknown types: learn nothing
    if "str" not in names:
        return path_of(test.args[0]), False
    return path_of(test.args[0]), "only" if names == ["str"] else True


def _subject(node: ast.expr) -> tuple[AccessPath | None, Callable[[str], str] | None]:
    """The tested path, and the folds applied to it: ``d.strip().lower()`` -> (d, strip+lower)."""
    folds: list[Callable[[str], str]] = []
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _FOLDS
        and not node.args
        and not node.keywords
    ):
        folds.append(_FOLDS[node.func.attr])
        node = node.func.value
    subject = path_of(node)
    if subject is None or not folds:
        return subject, None
    folds.reverse()  # innermost call first

    def fold(value: str) -> str:
        for step in folds:
            value = step(value)
        return value

    return subject, fold


def _subject_and_literal(left: ast.expr, right: ast.expr) -> tuple[AccessPath | None, ast.Constant | None, Callable[[str], str] | None]:
    for subject_node, literal in ((left, right), (right, left)):
        if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
            subject, fold = _subject(subject_node)
            if subject is not None:
                return subject, literal, fold
    return None, None, None


def _startswith_check(test: ast.expr) -> tuple[AccessPath, Callable[[str], str], tuple[str, ...]] | None:
    """``d.startswith("cuda")`` / ``d.lower().startswith(("cuda", "cpu"))`` -> (d, fold, prefixes)."""
    if not (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr == "startswith"
        and len(test.args) == 1
        and not test.keywords
    ):
        return None
    arg = test.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        starts: tuple[str, ...] = (arg.value,)
    elif isinstance(arg, ast.Tuple) and arg.elts and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in arg.elts):
        starts = tuple(e.value for e in arg.elts)  # type: ignore[attr-defined]
    else:
        return None
    subject, fold = _subject(test.func.value)
    if subject is None:
        return None
    return subject, fold or (lambda value: value), starts


def _unwrap_collection(node: ast.expr) -> ast.expr:
    """``frozenset({...})``, ``set([...])``, ``tuple(...)``, ``list(...)`` -> the literal inside."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("frozenset", "set", "tuple", "list")
        and len(node.args) == 1
        and not node.keywords
    ):
        return node.args[0]
    return node


def _string_literals(node: ast.expr) -> list[ast.Constant] | None:
    """The strings of a literal tuple/list/set; ``None`` members match no tracked value."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts:
        if all(isinstance(e, ast.Constant) and (isinstance(e.value, str) or e.value is None) for e in node.elts):
            strings = [e for e in node.elts if isinstance(e.value, str)]  # type: ignore[attr-defined]
            return strings or None
    return None
