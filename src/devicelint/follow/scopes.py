"""Scopes: which names a function binds, where its nested functions and classes are,
and which parameter of a method is ``self``."""

from __future__ import annotations

import ast
import bisect
from collections.abc import Callable, Iterable, Iterator

from devicelint.dataclass import dataclass
from devicelint.project import ModuleInfo

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def scopes_in(body: Iterable[ast.stmt], skip_functions: bool = False) -> Iterator[ast.stmt]:
    """Function and class definitions directly in this scope (inside if/try/... too)."""
    stack = [list(body)]
    while stack:
        block = stack.pop()
        for index, stmt in enumerate(block):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not skip_functions:
                    yield stmt
            elif isinstance(stmt, ast.ClassDef):
                yield stmt
            else:
                children: list[ast.stmt] = []
                for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                    for child in getattr(stmt, field, None) or ():
                        children.extend(child.body if isinstance(child, (ast.ExceptHandler, ast.match_case)) else [child])
                if children:
                    # finish this block after the nested one, keeping source order
                    stack.append(block[index + 1 :])
                    stack.append(children)
                    break


@dataclass(frozen=True)
class ScopeInfo:
    """The names a scope binds (its locals) and declares global, from one walk."""

    names: frozenset[str]
    globals: frozenset[str]

    @classmethod
    def of(cls, scope: ast.AST, walrus: bool = True) -> ScopeInfo:
        """``walrus=False`` when the scope's source holds no ``:=``: a name can then be bound
        only in a target (a Name, Tuple, List or Starred that stores or deletes), so every
        other expression is skipped unwalked (the same result, for a fraction of the nodes)."""
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
            if not walrus and isinstance(node, ast.expr) and not isinstance(getattr(node, "ctx", None), _BINDING):
                continue  # reads, calls, lambdas, comprehensions: no name bound here without :=
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


_BINDING = (ast.Store, ast.Del)

NO_SCOPE_INFO = ScopeInfo(frozenset(), frozenset())


def self_parameter(node: FunctionNode) -> str | None:
    """The first parameter of a method (``self``/``cls``); None for staticmethods."""
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Name) and decorator.id == "staticmethod":
            return None
    positional = [*node.args.posonlyargs, *node.args.args]
    return positional[0].arg if positional else None


def is_classmethod(node: FunctionNode) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "classmethod" for d in node.decorator_list)


def pattern_names(pattern: ast.pattern) -> Iterator[str]:
    for node in ast.walk(pattern):
        name = getattr(node, "name", None) if isinstance(node, (ast.MatchAs, ast.MatchStar)) else None
        if name:
            yield name
        if isinstance(node, ast.MatchMapping) and node.rest:
            yield node.rest


def any_between(sorted_lines: list[int], first: int, last: int) -> bool:
    """Whether a sorted list holds a line in ``first..last`` (a bisection)."""
    index = bisect.bisect_left(sorted_lines, first)
    return index < len(sorted_lines) and sorted_lines[index] <= last


def select_scopes(
    module: ModuleInfo,
    mentioning: Callable[..., Callable[[ast.stmt], bool]],
    candidate_lines: set[int] | None = None,
    names: set[str] | None = None,
    bases: set[str] | None = None,
) -> tuple[bool, list[ast.stmt]] | None:
    """(does module-level code start a flow?, the top-level functions and classes that can),
    or None when the whole module must run. ``mentioning(names, from_tree=False)(stmt)``:
    whether the identifiers in a statement's text hold one of ``names`` (names from the
    tree: whether the text may spell one of them).

    Values start only at literals, so only the code around the candidate lines can start
    one; the engine then adds the scopes that use ``names`` whose values carry one (a
    caller sees a callee's return, a function sees a global), and the classes derived
    from ``bases`` (a subclass sees what its base stores on self). A ``global``
    statement in a selected scope makes the whole module run (values then cross
    functions through the module).
    """
    if candidate_lines is None and names is None and bases is None:
        return None
    module_level = False
    selected: list[ast.stmt] = []
    lines = sorted(candidate_lines or ())
    named = mentioning(names) if names else None
    based = mentioning(bases, True) if bases else None
    for stmt in module.tree.body:
        is_scope = isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        last = stmt.end_lineno or stmt.lineno
        hit = any_between(lines, first, last)
        if named is not None and not hit:
            hit = named(stmt)
        if based is not None and not hit and isinstance(stmt, ast.ClassDef) and stmt.bases and based(stmt):
            hit = any(isinstance(n, ast.Name) and n.id in bases or isinstance(n, ast.Attribute) and n.attr in bases
                      for base in stmt.bases for n in ast.walk(base))
        if hit:
            if is_scope:
                selected.append(stmt)
            if not is_scope or first < stmt.lineno:
                module_level = True  # module-level code (decorators run there too)
    if any(module.declares_global(s) for s in selected):
        return None
    return module_level, selected
