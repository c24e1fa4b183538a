"""Tests refine values: inside ``if device == "auto":`` the name holds "auto"; in its
``else``, and after ``if device == "auto": device = ...``, it no longer does."""

from __future__ import annotations

import ast

from devicelint.follow.values import AccessPath, State, path_of


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
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, op, right = test.left, test.ops[0], test.comparators[0]
            if isinstance(op, (ast.Eq, ast.NotEq)):
                subject, literal = _subject_and_literal(left, right)
                if subject is not None and literal is not None:
                    equal = isinstance(op, ast.Eq)
                    self.refine_member(true_state, subject, [literal], inside=equal)
                    self.refine_member(false_state, subject, [literal], inside=not equal)
            elif isinstance(op, (ast.In, ast.NotIn)):
                subject = path_of(left)
                literals = _string_literals(right)
                if subject is not None and literals is not None:
                    inside = isinstance(op, ast.In)
                    self.refine_member(true_state, subject, literals, inside=inside)
                    self.refine_member(false_state, subject, literals, inside=not inside)
        return true_state, false_state

    def refine_member(self, state: State, subject: AccessPath, literals: list[ast.Constant], *, inside: bool) -> None:
        values = {lit.value for lit in literals}
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


def _subject_and_literal(left: ast.expr, right: ast.expr) -> tuple[AccessPath | None, ast.Constant | None]:
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
