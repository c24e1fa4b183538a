"""The fixes rules.py attaches to findings: what to rewrite, and whether that is safe.

DEV001, when the conditional's strategy also reaches ``device_map=``: the conditional
leaves the flow to the device sinks (its statement is dropped, or it becomes its plain
subject) and each ``device_map=`` use it reached gets the conditional inline, written
with the expression that ``device_map=`` received::

    device = "auto" if device == "cuda" else device      ->  (dropped)
    self._device = device                                    self._device = device
    M.from_pretrained(p, device_map=self._device)        ->  M.from_pretrained(p, device_map="auto" if self._device == "cuda" else self._device)
    inputs.to(self._device)                                  inputs.to(self._device)    # now "cuda"

That keeps sharding and is safe when it is exact: every use is in the same function as
the conditional or in a method of the same class (not a base class, no subclass in the
file), the value gets there without passing through a call (other callers would share
the rewritten code), each use receives a plain path, and the statements are alone on
their lines.
Otherwise the rule falls back to swapping the literals, which is unsafe then (device_map=
gets one device instead of the strategy).

DEV002, where the intent is unambiguous: the literal itself is rewritten ("gpu" -> "cuda",
"cuda 1" -> "cuda:1", "CPU" -> "cpu") when every sink it reaches is torch's and it is not
used as anything but a device; ``pipeline(device="auto")`` -> ``device_map="auto"``;
``torch.load(map_location="gpu")`` -> ``"cuda"`` is unsafe (CPU-only machines then fail).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from devicelint.catalogue import METHOD_SINKS, QUALIFIED_SINKS
from devicelint.dataclass import dataclass
from devicelint.findings import SAFE, UNSAFE, Edit
from devicelint.follow.values import path_of


@dataclass(frozen=True)
class Fix:
    edits: tuple[Edit, ...]
    applicability: str = SAFE
    note: str | None = None  # what else the fix changes (unsafe) or how it keeps behaviour


def _sorted(edits: Iterable[Edit]) -> tuple[Edit, ...]:
    return tuple(sorted(edits, key=lambda e: (e.line, e.column)))


class Parents:
    """child -> parent for one module, built once per file and only when a fix needs it."""

    def __init__(self, tree: ast.Module) -> None:
        self.of: dict[int, ast.AST] = {}
        stack: list[ast.AST] = [tree]
        while stack:  # one pass (ast.walk would list each node's children a second time)
            node = stack.pop()
            for child in ast.iter_child_nodes(node):
                self.of[id(child)] = node
                stack.append(child)

    def get(self, node: ast.AST) -> ast.AST | None:
        return self.of.get(id(node))

    def function(self, node: ast.AST) -> ast.AST | None:
        """The innermost function (or lambda) around ``node``; None at module level."""
        parent = self.get(node)
        while parent is not None and not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            parent = self.get(parent)
        return parent

    def statement(self, node: ast.AST) -> ast.stmt | None:
        while node is not None and not isinstance(node, ast.stmt):
            node = self.get(node)  # type: ignore[assignment]
        return node


# --- DEV001: move the conditional to device_map= -----------------------------------------------


def sharding_fix(cond, device_maps, positions, tree: ast.Module, parents: Parents, here) -> Fix | None:
    """The sharding-preserving fix of an inverted conditional (rules.InvertedConditional) whose
    strategy reaches the ``device_map=`` keywords ``device_maps`` (DeviceMapUse); None when it
    is not exact."""
    if not device_maps or not all(here.is_here(use.path) for use in device_maps):
        return None
    if any(use.origin.steps for use in device_maps):
        return None  # through a call's argument or return: other callers share that code
    keywords = list({id(use.keyword): use.keyword for use in device_maps}.values())
    if not _same_owner(cond.node, keywords, tree, parents):
        return None
    c_token, p_token = positions.text(cond.concrete), positions.text(cond.invalid)
    if "\n" in c_token or "\n" in p_token or "\\" in c_token + p_token:
        return None
    edits = []
    removal = _removal(cond, positions, parents)
    if removal is None:
        return None
    edits.append(removal)
    for keyword in keywords:
        value = keyword.value
        if path_of(value) is None or isinstance(value, ast.NamedExpr) or value.lineno != value.end_lineno:
            return None
        last_removed = removal.end_line - 1 if removal.end_column == 0 and removal.end_line > removal.line else removal.end_line
        if removal.line <= value.lineno <= last_removed:
            return None  # the use is inside what the fix removes
        edits.append(Edit(*positions.span(value), _inline(cond, positions.text(value), c_token, p_token)))
    lines = sorted({k.value.lineno for k in keywords})
    where = ", ".join(f"line {n}" for n in lines)
    note = (
        f"the fix moves the conditional to device_map= on {where}, which keeps receiving {cond.invalid.value!r} "
        f"where it did; the device sinks get the device itself"
    ).replace("'", '"')
    return Fix(_sorted(edits), SAFE, note)


def _inline(cond, value_text: str, c_token: str, p_token: str) -> str:
    """The conditional as the user wrote it, with ``device_map=``'s expression as its subject."""
    op = "!=" if cond.negated else "=="
    test = f"{c_token} {op} {value_text}" if cond.yoda else f"{value_text} {op} {c_token}"
    if cond.negated:
        return f"{value_text} if {test} else {p_token}"
    return f"{p_token} if {test} else {value_text}"


def _same_owner(node: ast.AST, keywords: list[ast.keyword], tree: ast.Module, parents: Parents) -> bool:
    """Every use is in the conditional's function, or in a method of the class that defines that
    function (not a base class: other subclasses share it), and no class of the file derives from it."""
    function = parents.function(node)
    owner = parents.get(function) if function is not None else None
    cls = owner if isinstance(owner, ast.ClassDef) else None
    for keyword in keywords:
        used_in = parents.function(keyword)
        if used_in is function:
            continue
        if cls is None or used_in is None or parents.get(used_in) is not cls:
            return False
    if cls is not None:
        for other in ast.walk(tree):
            if isinstance(other, ast.ClassDef) and any(
                (isinstance(b, ast.Name) and b.id == cls.name) or (isinstance(b, ast.Attribute) and b.attr == cls.name)
                for b in other.bases
            ):
                return False
    return True


def _removal(cond, positions, parents: Parents) -> Edit | None:
    """Take the conditional out of the flow: drop ``S = <cond>`` / ``if S == C: S = P``, or
    write the plain subject where the conditional stands."""
    node = cond.node
    parent = parents.get(node)
    statement: ast.stmt | None = None
    if isinstance(node, ast.If):
        statement = node
    elif (
        isinstance(parent, ast.Assign)
        and parent.value is node
        and len(parent.targets) == 1
        and path_of(parent.targets[0]) == path_of(cond.subject)
    ):
        statement = parent
    if statement is None:
        if positions.span(cond.subject)[0] != positions.span(cond.subject)[2]:
            return None
        return Edit(*positions.span(node), " ".join(positions.text(cond.subject).split()))
    return _drop_statement(statement, positions, parents)


_REST_OF_LINE = re.compile(r"[ \t]*(#.*)?\r?\n?\Z|[ \t]*(#.*)?\r\Z")


def _drop_statement(statement: ast.stmt, positions, parents: Parents) -> Edit | None:
    """The edit that deletes a statement's whole lines; None when it shares a line with other code
    or is the only statement of its block."""
    block = parents.get(statement)
    siblings = next(
        (body for name in ("body", "orelse", "finalbody") if statement in (body := getattr(block, name, None) or [])),
        None,
    )
    if siblings is None or len(siblings) < 2:
        return None
    line, column, end_line, end_column = positions.span(statement)
    lines = positions.lines
    if lines[line - 1][:column].strip() or not _REST_OF_LINE.fullmatch(lines[end_line - 1][end_column:]):
        return None
    if end_line < len(lines):
        return Edit(line, 0, end_line + 1, 0, "")
    return Edit(line, 0, end_line, len(lines[end_line - 1]), "")


# --- DEV002 ------------------------------------------------------------------------------------

_TORCH_SINKS = frozenset(spec.name for spec in (*QUALIFIED_SINKS, *METHOD_SINKS) if not spec.name.startswith("transformers."))
_PIPELINES = ("transformers.pipeline(", "transformers.pipelines.pipeline(")
_DEVICE_WORD = re.compile(r"(?i)(cuda|gpu|cpu)(?:[ :_-]?(\d+))?")


def corrected_device(value: str) -> str | None:
    """The device an invalid string unambiguously means: "GPU" -> "cuda", "cuda 1" -> "cuda:1"."""
    match = _DEVICE_WORD.fullmatch(value)
    if match is None:
        return None
    kind = "cpu" if match[1].lower() == "cpu" else "cuda"
    fixed = kind + (f":{int(match[2])}" if match[2] is not None else "")
    return fixed if fixed != value else None


def _sink_name(label: str) -> str:
    return label.split("(", 1)[0]


def _is_torch_sink(label: str) -> bool:
    name = _sink_name(label)
    return name in _TORCH_SINKS or name.startswith("torch.")  # torch.zeros(device=) and the other factories


def invalid_string_fix(flow, mine, device_map_literals: set[int], vocabulary, positions, tree, parents_of, here) -> Fix | None:
    """The fix of one DEV002 finding (reported for ``flow``); ``mine`` are every flow of its
    literal, ``device_map_literals`` the literals that also reach device_map=."""
    origin, sink = flow.origin, flow.sink
    literal = origin.node
    if not here.is_here(origin.path) or origin.role not in ("literal", "default"):
        return None
    if id(literal) in device_map_literals:
        return None
    token = positions.text(literal)
    if "\\" in token or "\n" in token or not _SIMPLE.fullmatch(token):
        return None
    label = sink.label
    if label.startswith(_PIPELINES) and literal is sink.argument and vocabulary.is_strategy(origin.value):
        keyword = next((k for k in sink.call.keywords if k.value is literal and k.arg == "device"), None)
        if keyword is None or any(k.arg == "device_map" for k in sink.call.keywords):
            return None
        line, column = keyword.lineno, positions.column(keyword.lineno, keyword.col_offset)
        if positions.lines[line - 1][column : column + len("device")] != "device":
            return None
        return Fix((Edit(line, column, line, column + len("device"), "device_map"),), SAFE,
                   f"pipeline() places the model with device_map={token}; device= takes one device")
    if not mine or not all(_is_torch_sink(f.sink.label) for f in mine):
        return None
    if not all(here.is_here(f.path) and all(here.is_here(s.path) for s in f.origin.steps) for f in mine):
        return None  # the literal travels into another file: its other uses there are not seen here
    map_location = _sink_name(label) == "torch.load"
    new_value = corrected_device(origin.value)
    if map_location and origin.value == "auto":
        new_value = "cuda"
    if new_value is None:
        return None
    if literal is not sink.argument and not _only_device_uses(literal, mine, tree, parents_of()):
        return None
    edit = Edit(*positions.span(literal), _requoted(token, new_value))
    if map_location and new_value.startswith("cuda"):
        return Fix((edit,), UNSAFE, f"map_location={_requoted(token, new_value)} loads onto the GPU, and fails on a machine "
                   "without one; map_location=None or \"cpu\" may be what was meant")
    return Fix((edit,), SAFE, None)


_SIMPLE = re.compile(r"(?s)([rRuU]?)('''|\"\"\"|'|\")(.*)\2")


def _requoted(token: str, value: str) -> str:
    match = _SIMPLE.fullmatch(token)
    assert match is not None
    return f"{match[1]}{match[2]}{value}{match[2]}"


def _only_device_uses(literal: ast.Constant, flows, tree: ast.Module, parents: Parents) -> bool:
    """Whether the name a far literal is bound to (a default, a constant, an attribute) is read
    only where it travels on as a device: a sink's argument, the right side of an assignment,
    an argument of a call the value is followed through. A comparison (``device == "gpu"``), an
    f-string or any other read keeps the literal as it is: changing it would change that too."""
    bound = _bound_name(literal, parents)
    if bound is None:
        return False
    name, scope = bound
    sink_arguments = {id(f.sink.argument) for f in flows}
    hop_calls = {id(step.node) for f in flows for step in f.origin.steps}
    for node in ast.walk(scope):
        read = (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)) or (
            isinstance(node, ast.Attribute) and node.attr == name and isinstance(node.ctx, ast.Load)
        )
        if not read or id(node) in sink_arguments:
            continue
        parent = parents.get(node)
        if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is node:
            continue
        if isinstance(parent, ast.keyword):
            parent = parents.get(parent)
        if isinstance(parent, ast.Call) and id(parent) in hop_calls and parent.func is not node:
            continue
        return False
    return True


def _bound_name(literal: ast.Constant, parents: Parents) -> tuple[str, ast.AST] | None:
    """(the name, where to look for its reads) for a literal that is a parameter default or the
    value of a one-target assignment."""
    parent = parents.get(literal)
    if isinstance(parent, ast.arguments):
        function = parents.get(parent)
        positional = [*parent.posonlyargs, *parent.args]
        for index, default in enumerate(parent.defaults):
            if default is literal:
                return positional[len(positional) - len(parent.defaults) + index].arg, function  # type: ignore[return-value]
        for arg, default in zip(parent.kwonlyargs, parent.kw_defaults):
            if default is literal:
                return arg.arg, function  # type: ignore[return-value]
        return None
    if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is literal:
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        if len(targets) != 1:
            return None
        target = targets[0]
        function = parents.function(parent)
        if isinstance(target, ast.Name):
            if function is None:
                return target.id, _module_of(parent, parents)
            return target.id, function
        if isinstance(target, ast.Attribute):
            return target.attr, _module_of(parent, parents)
    return None


def _module_of(node: ast.AST, parents: Parents) -> ast.AST:
    while parents.get(node) is not None:
        node = parents.get(node)  # type: ignore[assignment]
    return node
