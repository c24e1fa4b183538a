"""Expressions: the value of each construct, and the sinks and calls met on the way."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from devicelint.catalogue import (
    BUILTIN_NAMES,
    DEFAULT_RETURNING_CALLS,
    NAMESPACE_BUILDERS,
    PASSTHROUGH_CALLS,
    PLACEMENT_KEYWORD,
)
from devicelint.follow import sources
from devicelint.follow.values import EMPTY, AccessPath, Origin, State, path_of
from devicelint.sinks import qualified_name

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


class Expressions:
    def callee(self, call: ast.Call) -> str | None:
        """The qualified name a call resolves to through the imports (or a builtin's name)."""
        name = qualified_name(call.func, self.module.imports)
        if name is None and isinstance(call.func, ast.Name) and call.func.id in BUILTIN_NAMES:
            if call.func.id not in self.module.imports and not self._shadowed(call.func.id):
                return call.func.id
        return name

    def _shadowed(self, name: str) -> bool:
        # module-level names only: a local `str = ...` is too rare to pay a walk of every scope
        return name in self.follower.module_names(self.module)

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
            return self.constant(node)
        path = path_of(node)
        if path is not None and not isinstance(node, (ast.NamedExpr, ast.Call)):
            return self.read(state, path)
        return self.eval(node, state.copy())

    def constant(self, node: ast.Constant) -> frozenset[Origin]:
        if isinstance(node.value, str) and self.vocabulary.is_tracked(node.value):
            return frozenset({self.origin(node, "literal")})
        return EMPTY

    def eval(self, node: ast.expr, state: State) -> frozenset[Origin]:
        """The value of ``node``; records every sink it contains on the way."""
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.read(state, (node.id,))
        if not self.follower.enter():
            return EMPTY  # nested past the depth bound: unknown, never a report
        try:
            handler = _EXPRESSIONS.get(type(node))
            if handler is not None:
                return handler(self, node, state)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.eval(child, state)
            return EMPTY
        finally:
            self.follower.leave()

    # -- one method per construct -------------------------------------------------

    def eval_access(self, node: ast.Attribute | ast.Subscript, state: State) -> frozenset[Origin]:
        self.eval(node.value, state)
        if isinstance(node, ast.Subscript):
            self.eval(node.slice, state)
        path = path_of(node)
        if path is None and isinstance(node.value, ast.Call) and id(node.value) in self.call_parts:
            # a part of what a call returned: parse_args().device, Config().device, f()["device"]
            key = (_step(node),)
            return next((value for suffix, value in self.call_parts[id(node.value)] if suffix == key), EMPTY)
        return self.read(state, path) if path is not None else EMPTY

    def eval_if_expression(self, node: ast.IfExp, state: State) -> frozenset[Origin]:
        true_state, false_state = self.refine(node.test, state)
        value = self.eval(node.body, true_state) if true_state is not None else EMPTY
        if false_state is not None:
            value = value | self.eval(node.orelse, false_state)
        return value

    def eval_bool_op(self, node: ast.BoolOp, state: State) -> frozenset[Origin]:
        value = EMPTY
        current: State | None = state
        for operand in node.values:
            if current is None:
                break
            value = value | self.eval(operand, current)
            # the next operand runs only if this one was true (and) / false (or)
            true_state, false_state = self.refine(operand, current.copy())
            current = true_state if isinstance(node.op, ast.And) else false_state
        return value

    def eval_named(self, node: ast.NamedExpr, state: State) -> frozenset[Origin]:
        value = self.eval(node.value, state)
        self.assign(node.target, node.value, value, state)
        return value

    def eval_lambda(self, node: ast.Lambda, state: State) -> frozenset[Origin]:
        inner = state.copy()
        for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
            self.bind(inner, (arg.arg,), EMPTY)
        self.eval(node.body, inner)
        return EMPTY

    def eval_comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, state: State) -> frozenset[Origin]:
        inner: State | None = state.copy()
        for generator in node.generators:
            if inner is None:
                return EMPTY
            self.eval(generator.iter, inner)
            self.assign(generator.target, None, self.elements(generator.iter, inner), inner)
            for condition in generator.ifs:
                inner, _ = self.refine(condition, inner)
                if inner is None:
                    return EMPTY
        if isinstance(node, ast.DictComp):
            self.eval(node.key, inner)
            self.eval(node.value, inner)
        else:
            self.eval(node.elt, inner)
        return EMPTY

    # -- calls ------------------------------------------------------------------------

    def eval_call(self, call: ast.Call, state: State) -> frozenset[Origin]:
        func = call.func
        if path_of(func) is None:
            self.eval(func, state)  # sinks inside the callee expression: f(x).to(...)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == self.self_name:
            self.publish(state)  # self.method() observes what this method stored so far
        values: dict[int, frozenset[Origin]] = {}
        for arg in call.args:
            values[id(arg)] = self.eval(arg.value if isinstance(arg, ast.Starred) else arg, state)
        for kw in call.keywords:
            values[id(kw.value)] = value = self.eval(kw.value, state)
            if kw.arg is None and isinstance(kw.value, ast.Dict):
                for item in kw.value.values:  # **{"device": x}: each entry is an argument
                    values[id(item)] = self.value_of(item, state)
            if kw.arg == PLACEMENT_KEYWORD and value:
                self.follower.record_device_map(kw, value, self.module.path)
        name = self.callee(call)
        self.record_sinks(call, name, values, state)
        getattr_path = path_of(call)
        if getattr_path is not None:  # getattr(self, "_device")
            return self.read(state, getattr_path)
        return self.call_result(call, name, values, state)

    def record_sinks(self, call: ast.Call, name: str | None, values: dict[int, frozenset[Origin]], state: State) -> None:
        if self.probing:
            return  # a validation probe (see Statements.exec_try)
        catalog = self.follower.catalog
        for use in catalog.uses(call, name):
            value = values.get(id(use.argument), EMPTY)
            argument = use.argument
            if not value and isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                # A literal written at the sink: any non-device string at a strict sink.
                literal = argument.value
                if self.vocabulary.is_device_like(literal) if not use.strict else not self.vocabulary.is_concrete(literal):
                    if self.vocabulary.is_device_like(literal) or not self.follower.registers_backend(self.module, literal):
                        value = frozenset({self.origin(argument, "literal")})
            if value and use.label.startswith(".") and not self.torch_method(call):
                continue  # another library's .to(), or a project class's own
            self.follower.record_sink(use, value, self.module.path)
        for kw in call.keywords:
            spread = path_of(kw.value) if kw.arg is None else None
            if spread is None:
                continue
            # **kwargs whose entries are known: kwargs = {"device": d}; torch.zeros(3, **kwargs)
            for key, value in state.entries(spread):
                if value:
                    for use in catalog.spread_uses(call, name, key, kw.value):
                        if use.label.startswith(".") and not self.torch_method(call):
                            continue
                        self.follower.record_sink(use, value, self.module.path)

    def call_result(self, call: ast.Call, name: str | None, values: dict[int, frozenset[Origin]], state: State) -> frozenset[Origin]:
        """What a call returns: a project function's summary, a catalogue entry, or unknown."""
        if name in PASSTHROUGH_CALLS and len(call.args) == 1 and not call.keywords:
            return values[id(call.args[0])]
        role = DEFAULT_RETURNING_CALLS.get(name or "")
        if role is not None:
            default = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "default"), None)
            if self.is_tracked_literal(default):
                return frozenset({self.origin(default, role)})  # type: ignore[arg-type]
            return EMPTY
        if name is None and _is_literal_lookup(call):
            return self.literal_lookup(call, values)
        result = self.follower.call(self, call, values, state)
        if result is None:
            func = call.func
            word = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if word not in sources.CALL_WORDS and word not in self.follower.home_records:
                return EMPTY
            result = sources.call_value(self, call, state)  # argparse, records, .get(k, default)
            if result is None:
                return EMPTY
        returned, parts = result
        if parts:
            self.call_parts[id(call)] = parts
        return returned

    def literal_lookup(self, call: ast.Call, values: dict[int, frozenset[Origin]]) -> frozenset[Origin]:
        """``{"auto": "cuda"}.get(d, d)``: an entry's value, or the default for the other keys."""
        table: ast.Dict = call.func.value  # type: ignore[attr-defined]
        keys = {key.value for key in table.keys}  # type: ignore[union-attr]
        result = frozenset().union(*(self.constant(v) for v in table.values if isinstance(v, ast.Constant)))
        if len(call.args) == 2:
            default = values.get(id(call.args[1]), EMPTY)
            if path_of(call.args[1]) is not None and path_of(call.args[1]) == path_of(call.args[0]):
                default = frozenset(o for o in default if o.value not in keys)  # the key was found
            result = result | default
        return result

    # -- structure ----------------------------------------------------------------------

    def structure(self, node: ast.expr, state: State) -> list[tuple[AccessPath, frozenset[Origin]]]:
        """The known parts of a value: ``{"device": "auto"}`` -> [(("['device']",), {auto})]."""
        return list(self._parts(node, state, 0))

    def _parts(self, node: ast.expr, state: State, depth: int) -> Iterator[tuple[AccessPath, frozenset[Origin]]]:
        if depth > 8:
            return
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, (str, int)):
                    yield from self._part(f"[{key.value!r}]", value, state, depth)
        elif isinstance(node, (ast.Tuple, ast.List)):
            if not any(isinstance(e, ast.Starred) for e in node.elts):
                for index, element in enumerate(node.elts):
                    yield from self._part(f"[{index}]", element, state, depth)
        elif isinstance(node, ast.Call):
            builder = NAMESPACE_BUILDERS.get(self.callee(node) or "") if not node.args else None
            if builder is not None:
                for kw in node.keywords:
                    if kw.arg is not None:
                        yield from self._part(builder.format(kw.arg), kw.value, state, depth)
            else:
                yield from self.call_parts.get(id(node), ())
        elif (source := path_of(node)) is not None:
            yield from state.parts(source)

    def _part(self, step: str, node: ast.expr, state: State, depth: int) -> Iterator[tuple[AccessPath, frozenset[Origin]]]:
        yield (step,), self.value_of(node, state)
        for suffix, value in self._parts(node, state, depth + 1):
            yield (step, *suffix), value


def _step(node: ast.Attribute | ast.Subscript) -> str | None:
    """The access path step of one attribute or constant subscript: ".device", "['device']"."""
    if isinstance(node, ast.Attribute):
        return "." + node.attr
    key = node.slice
    if isinstance(key, ast.Constant) and isinstance(key.value, (str, int)) and not isinstance(key.value, bool):
        return f"[{key.value!r}]"
    return None


def _is_literal_lookup(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "get"
        and isinstance(func.value, ast.Dict)
        and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in func.value.keys)
        and 1 <= len(call.args) <= 2
        and not call.keywords
    )


_EXPRESSIONS = {
    ast.Attribute: Expressions.eval_access,
    ast.Subscript: Expressions.eval_access,
    ast.Call: Expressions.eval_call,
    ast.IfExp: Expressions.eval_if_expression,
    ast.BoolOp: Expressions.eval_bool_op,
    ast.NamedExpr: Expressions.eval_named,
    ast.Lambda: Expressions.eval_lambda,
    **{kind: Expressions.eval_comprehension for kind in _COMPREHENSIONS},
}
