"""Statements: assignments replace, branches join, loops reach a fixpoint, and code after
``return``/``raise``/``break``/``continue`` does not see the branch that left."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable

from devicelint.dataclass import dataclass
from devicelint.follow.scopes import pattern_names
from devicelint.follow.values import EMPTY, AccessPath, Origin, State, path_of

# A bounded number of passes keeps pathological code (deep loop nests, huge
# classes) linear; the lattice is finite, so real code converges in 2-3.
MAX_PASSES = 8


@dataclass
class Loop:
    breaks: list
    continues: list


class Statements:
    def exec_block(self, body: Iterable[ast.stmt], state: State | None) -> State | None:
        for stmt in body:
            if state is None:
                return None
            state = self.exec_stmt(stmt, state)
        return state

    def exec_stmt(self, stmt: ast.stmt, state: State) -> State | None:
        handler = _STATEMENTS.get(type(stmt))
        if handler is None:
            return state
        if not self.follower.enter():
            return state  # nested past the depth bound: unknown, never a report
        try:
            return handler(self, stmt, state)
        finally:
            self.follower.leave()

    # -- one method per construct ---------------------------------------------------

    def exec_expr(self, stmt: ast.Expr, state: State) -> State:
        self.eval(stmt.value, state)
        return state

    def exec_assign(self, stmt: ast.Assign, state: State) -> State:
        value = self.eval(stmt.value, state)
        for target in stmt.targets:
            self.assign(target, stmt.value, value, state)
        return state

    def exec_ann_assign(self, stmt: ast.AnnAssign, state: State) -> State:
        if stmt.value is not None:
            self.assign(stmt.target, stmt.value, self.eval(stmt.value, state), state)
        return state

    def exec_aug_assign(self, stmt: ast.AugAssign, state: State) -> State:
        self.eval(stmt.value, state)
        self.assign(stmt.target, None, EMPTY, state)  # "cuda:" + "0" is not followed
        return state

    def exec_with(self, stmt: ast.With | ast.AsyncWith, state: State) -> State | None:
        for item in stmt.items:
            self.eval(item.context_expr, state)
            if item.optional_vars is not None:
                self.assign(item.optional_vars, None, EMPTY, state)
        return self.exec_block(stmt.body, state)

    def exec_return(self, stmt: ast.Return, state: State) -> None:
        if stmt.value is not None:
            self.returned = self.returned | self.eval(stmt.value, state)
            for suffix, part in self.structure(stmt.value, state):
                self.returned_parts[suffix] = self.returned_parts.get(suffix, EMPTY) | part
        self.publish(state)
        return None

    def exec_raise(self, stmt: ast.Raise, state: State) -> None:
        if stmt.exc is not None:
            self.eval(stmt.exc, state)
        return None

    def exec_break(self, stmt: ast.Break, state: State) -> None:
        if self.loops:
            self.loops[-1].breaks.append(state)
        return None

    def exec_continue(self, stmt: ast.Continue, state: State) -> None:
        if self.loops:
            self.loops[-1].continues.append(state)
        return None

    def exec_assert(self, stmt: ast.Assert, state: State) -> State | None:
        true_state, _ = self.refine(stmt.test, state)
        return true_state

    def exec_delete(self, stmt: ast.Delete, state: State) -> State:
        for target in stmt.targets:
            path = path_of(target)
            if path is not None:
                self.bind(state, path, EMPTY)
        return state

    def exec_definition(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, state: State) -> State:
        for decorator in stmt.decorator_list:
            self.eval(decorator, state)
        if not isinstance(stmt, ast.ClassDef):
            for default in stmt.args.defaults + [d for d in stmt.args.kw_defaults if d is not None]:
                self.eval(default, state)
        self.bind(state, (stmt.name,), EMPTY)
        return state

    def exec_import(self, stmt: ast.Import | ast.ImportFrom, state: State) -> State:
        # The name now stands for what it imports: reads resolve it through the module's
        # imports (lazily: most imported names are never read as values).
        for alias in stmt.names:
            if alias.name != "*":
                name = alias.asname or (alias.name if isinstance(stmt, ast.ImportFrom) else alias.name.split(".", 1)[0])
                state.unbind((name,))
        return state

    def exec_if(self, stmt: ast.If, state: State) -> State | None:
        # An elif chain is a loop here, not a recursion: chains may be thousands long.
        outcomes: list[State | None] = []
        current: ast.If | None = stmt
        rest: State | None = state
        while current is not None:
            true_state, rest = self.refine(current.test, rest)
            outcomes.append(self.exec_block(current.body, true_state))
            orelse = current.orelse
            if len(orelse) == 1 and isinstance(orelse[0], ast.If):
                current = orelse[0]
                continue
            outcomes.append(self.exec_block(orelse, rest) if orelse else rest)
            current = None
        return self.join(*outcomes)

    def _loop(self, head: State, run_body: Callable[[State], tuple[State | None, State | None]]) -> State | None:
        """Iterates a loop to a fixpoint. ``run_body(head)`` -> (exit-by-test, end of body)."""
        breaks: list = []
        exit_state: State | None = None
        for _ in range(MAX_PASSES):
            frame = Loop([], [])
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
            body_state = head.copy()
            self.assign(stmt.target, None, element, body_state)
            end = self.exec_block(stmt.body, body_state)
            exhausted = self.join(head, end)
            return (self.exec_block(stmt.orelse, exhausted) if stmt.orelse else exhausted), end

        return self._loop(state, run_body)

    def exec_while(self, stmt: ast.While, state: State) -> State | None:
        def run_body(head: State) -> tuple[State | None, State | None]:
            true_state, false_state = self.refine(stmt.test, head.copy())
            end = self.exec_block(stmt.body, true_state)
            if end is not None:
                _, end_false = self.refine(stmt.test, end.copy())
                false_state = self.join(false_state, end_false)
            return (self.exec_block(stmt.orelse, false_state) if stmt.orelse else false_state), end

        return self._loop(state, run_body)

    def exec_try(self, stmt: ast.Try, state: State) -> State | None:
        # An exception may leave the body after any of its statements.
        seen: list[State | None] = [state]
        current: State | None = state.copy()
        # A sink in a body whose handler catches torch's parse error (RuntimeError) and does
        # not raise again is a validation probe, not a crash: `try: torch.device(d) except RuntimeError: ...`.
        probe = any(_catches_device_error(handler.type) and not _reraises(handler) for handler in stmt.handlers)
        self.probing += probe
        try:
            for inner in stmt.body:
                if current is None:
                    break
                current = self.exec_stmt(inner, current)
                seen.append(current)
        finally:
            self.probing -= probe
        handler_entry = self.join(*seen)
        outcomes = [self.exec_block(stmt.orelse, current) if stmt.orelse else current]
        for handler in stmt.handlers:
            if handler_entry is None:
                break
            entry = handler_entry.copy()
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
        # Cases are tried in order: a literal case takes its strings away from the later
        # cases, and an irrefutable one (`case _:`) leaves nothing for "no case matched".
        self.eval(stmt.subject, state)
        subject = path_of(stmt.subject)
        outcomes: list[State | None] = []
        rest: State | None = state
        for case in stmt.cases:
            if rest is None:
                break
            entry, after = rest.copy(), rest.copy()
            pattern = case.pattern
            literals = _literal_patterns(pattern)
            if subject is not None and literals is not None:
                self.refine_member(entry, subject, literals, inside=True)
                self.refine_member(after, subject, literals, inside=False)
            elif _irrefutable(pattern):
                after = None
            for name in pattern_names(pattern):
                self.bind(entry, (name,), EMPTY)
            if case.guard is not None:
                entry, unguarded = self.refine(case.guard, entry)
                after = self.join(after, rest.copy()) if unguarded is not None else after
            outcomes.append(self.exec_block(case.body, entry))
            rest = after
        outcomes.append(rest)  # no case matched
        return self.join(*outcomes)

    def exec_global(self, stmt: ast.Global, state: State) -> State:
        return state

    # -- assignment -------------------------------------------------------------------

    def assign(self, target: ast.expr, value_node: ast.expr | None, value: frozenset[Origin], state: State) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            self.assign_elements(target.elts, value_node, state)
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
                    for suffix, _ in state.parts(base):
                        if len(suffix) == 1 and suffix[0].startswith("["):
                            state.set((*base, *suffix), EMPTY)
            if isinstance(target, (ast.Subscript, ast.Attribute)):
                self.eval(target.value, state)
            return
        if isinstance(target, ast.Subscript):
            self.eval(target.value, state)
        parts = self.structure(value_node, state) if value_node is not None else []
        self.bind(state, path, value)
        for suffix, part in parts:
            self.bind(state, (*path, *suffix), part)

    def assign_elements(self, elements: list[ast.expr], value_node: ast.expr | None, state: State) -> None:
        """``a, b = x, y`` element by element; ``a, b = f()`` from the parts f returns."""
        if (
            isinstance(value_node, (ast.Tuple, ast.List))
            and len(value_node.elts) == len(elements)
            and not any(isinstance(e, ast.Starred) for e in (*elements, *value_node.elts))
        ):
            pairs = [(t, n, self.value_of(n, state)) for t, n in zip(elements, value_node.elts)]
            for sub_target, sub_node, sub_value in pairs:
                self.assign(sub_target, sub_node, sub_value, state)
            return
        parts = dict(self.structure(value_node, state)) if value_node is not None else {}
        starred = any(isinstance(e, ast.Starred) for e in elements)
        for index, sub_target in enumerate(elements):
            key: AccessPath = (f"[{index}]",)
            if starred or key not in parts or not isinstance(sub_target, (ast.Name, ast.Attribute, ast.Subscript)):
                self.assign(sub_target, None, EMPTY, state)
                continue
            self.assign(sub_target, None, parts[key], state)
            sub_path = path_of(sub_target)
            if sub_path is not None:
                for suffix, part in parts.items():
                    if len(suffix) > 1 and suffix[0] == key[0]:
                        self.bind(state, (*sub_path, *suffix[1:]), part)


# What torch raises on a bad device string, and the classes above it.
_DEVICE_ERRORS = frozenset({"RuntimeError", "Exception", "BaseException"})


def _catches_device_error(kind: ast.expr | None) -> bool:
    if kind is None:
        return True  # bare except
    kinds = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    return any(
        (k.id if isinstance(k, ast.Name) else k.attr if isinstance(k, ast.Attribute) else None) in _DEVICE_ERRORS for k in kinds
    )


def _reraises(handler: ast.ExceptHandler) -> bool:
    """A handler that raises again (``except Exception: log(); raise``) lets the crash through."""
    return any(isinstance(stmt, ast.Raise) for stmt in handler.body)


def _literal_patterns(pattern: ast.pattern) -> list[ast.Constant] | None:
    """The strings of ``case "auto":`` / ``case "auto" | "balanced":``; None for other patterns."""
    options = pattern.patterns if isinstance(pattern, ast.MatchOr) else [pattern]
    literals = []
    for option in options:
        if not (isinstance(option, ast.MatchValue) and isinstance(option.value, ast.Constant) and isinstance(option.value.value, str)):
            return None
        literals.append(option.value)
    return literals


def _irrefutable(pattern: ast.pattern) -> bool:
    """``case _:`` and ``case name:`` match every value."""
    if isinstance(pattern, ast.MatchAs):
        return pattern.pattern is None or _irrefutable(pattern.pattern)
    if isinstance(pattern, ast.MatchOr):
        return any(_irrefutable(p) for p in pattern.patterns)
    return False


_STATEMENTS: dict[type, Callable] = {
    ast.Expr: Statements.exec_expr,
    ast.Assign: Statements.exec_assign,
    ast.AnnAssign: Statements.exec_ann_assign,
    ast.AugAssign: Statements.exec_aug_assign,
    ast.If: Statements.exec_if,
    ast.For: Statements.exec_for,
    ast.AsyncFor: Statements.exec_for,
    ast.While: Statements.exec_while,
    ast.Try: Statements.exec_try,
    ast.With: Statements.exec_with,
    ast.AsyncWith: Statements.exec_with,
    ast.Return: Statements.exec_return,
    ast.Raise: Statements.exec_raise,
    ast.Break: Statements.exec_break,
    ast.Continue: Statements.exec_continue,
    ast.Assert: Statements.exec_assert,
    ast.Delete: Statements.exec_delete,
    ast.FunctionDef: Statements.exec_definition,
    ast.AsyncFunctionDef: Statements.exec_definition,
    ast.ClassDef: Statements.exec_definition,
    ast.Match: Statements.exec_match,
    ast.Import: Statements.exec_import,
    ast.ImportFrom: Statements.exec_import,
}
if hasattr(ast, "TryStar"):
    _STATEMENTS[ast.TryStar] = Statements.exec_try
