"""Which ``.to()`` is torch's: method sinks match by name, so a receiver known to come
from another library (tinygrad, OpenVINO, pint, ...) or to be an instance of a project
class with its own plain ``to`` is not a torch sink. Asked only when a tracked value
reaches a method sink (rare), so the walks below cost nothing on clean code."""

from __future__ import annotations

import ast
from collections.abc import Callable

from devicelint.catalogue import PLAIN_BASES
from devicelint.follow.values import AccessPath, path_of
from devicelint.sinks import library_kind, qualified_name

MAX_HOPS = 4  # receiver = f(g(h(...))): how far back a receiver is traced


class Receivers:
    def torch_method(self, call: ast.Call) -> bool:
        """False when ``x.to(...)`` is known not to be torch's ``.to``."""
        if self.follower.is_foreign(self.module, call.lineno):
            return False
        func = call.func
        return not (isinstance(func, ast.Attribute) and self.foreign_value(func.value, 0))

    def foreign_value(self, node: ast.expr, hops: int) -> bool:
        """Whether ``node`` is built by a non-torch library or is a plain project object with its own ``to``."""
        if hops > MAX_HOPS:
            return False
        if isinstance(node, ast.Call):
            name = self.callee(node)
            kind = library_kind(name) if name is not None else None
            if kind is not None:
                return kind == "foreign"
            found = self.follower.definition_of(self.module, node.func)
            if found is not None:
                return isinstance(found[1], ast.ClassDef) and self.plain_class_with_to(found[0], found[1])
            # a method of a foreign object: Tensor.rand(3).realize(), OVModel.from_pretrained(...)
            return isinstance(node.func, ast.Attribute) and self.foreign_value(node.func.value, hops + 1)
        if isinstance(node, ast.Subscript) and path_of(node) is None:
            return self.foreign_value(node.value, hops + 1)  # t[0:4] of a foreign tensor
        path = path_of(node)
        if path is None:
            return False
        if len(path) == 1 and self.foreign_annotation(path[0]):
            return True  # def step(x: Tensor) with tinygrad's Tensor
        if path == (self.self_name,):
            return self.owner is not None and self.plain_class_with_to(self.module, self.owner)
        if path[0] in self.module.imports and path[0] not in self.scope_locals:
            qualified = qualified_name(node, self.module.imports)
            return qualified is not None and library_kind(qualified) == "foreign"
        assigned = self.assigned_values(path)
        return bool(assigned) and all(self.foreign_value(value, hops + 1) for value in assigned)

    def foreign_annotation(self, name: str) -> bool:
        """A parameter of this function annotated with a foreign library's class."""
        scope = self.scope
        if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        params = scope.args
        for arg in (*params.posonlyargs, *params.args, *params.kwonlyargs):
            if arg.arg == name and arg.annotation is not None:
                qualified = qualified_name(arg.annotation, self.module.imports)
                return qualified is not None and library_kind(qualified) == "foreign"
        return False

    def assigned_values(self, path: AccessPath) -> list[ast.expr] | None:
        """Every value stored to a local name (or ``self.attr`` in the class's methods) by a
        plain assignment; None if it is a parameter or bound any other way."""
        if len(path) == 1:
            scope = self.scope
            if scope is None or isinstance(scope, ast.ClassDef):
                return None
            if self.is_module:
                if self.follower.declares_globals(self.module):
                    return None  # a function may rebind it
            else:
                params = scope.args
                if path[0] in {a.arg for a in (*params.posonlyargs, *params.args, *params.kwonlyargs, params.vararg, params.kwarg) if a}:
                    return None
            bodies = [scope]
            word = path[0]
            matches = lambda target: isinstance(target, ast.Name) and target.id == word  # noqa: E731
        elif len(path) == 2 and path[0] == self.self_name and self.owner is not None:
            word = attribute = path[1][1:]
            bodies = [m for m in self.owner.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
            matches = lambda target: isinstance(target, ast.Attribute) and target.attr == attribute  # noqa: E731
        else:
            return None
        values: list[ast.expr] = []
        stores = 0
        mentions = self.module.mentions(word)
        for body in bodies:
            for node in _walk_scope(body, mentions):
                if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Store) and matches(node):
                    stores += 1
                elif isinstance(node, ast.Assign) and len(node.targets) == 1 and matches(node.targets[0]):
                    values.append(node.value)
                elif isinstance(node, ast.AnnAssign) and node.value is not None and matches(node.target):
                    values.append(node.value)
        return values if stores == len(values) else None

    def plain_class_with_to(self, module, node: ast.ClassDef) -> bool:
        """A project class that defines ``to`` and derives only from plain project classes."""
        order = self.follower.mro(module, node, everywhere=True)
        defines_to = False
        for owner_module, cls in order:
            if any(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == "to" for s in cls.body):
                defines_to = True
            for base in cls.bases:
                found = self.follower.definition_of(owner_module, base)
                if found is not None and isinstance(found[1], ast.ClassDef):
                    continue  # in the order too
                name = qualified_name(base, owner_module.imports) or (base.id if isinstance(base, ast.Name) else None)
                if name not in PLAIN_BASES:
                    return False  # nn.Module, PreTrainedModel, or unknown: may be torch's
        return defines_to


def _walk_scope(scope: ast.AST, mentions: Callable[[ast.stmt], bool] | None = None):
    """The nodes of a function body, without nested functions, lambdas and classes; with
    ``mentions``, without the statements whose text does not hold the word looked for
    (none of their nodes can store to it)."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        if mentions is not None and isinstance(node, ast.stmt) and not mentions(node):
            continue
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
