"""DEV001 and DEV002: which flows are findings, where they are reported, and the fix.

DEV001 (inverted device conditional): ``P if S == C else S`` and its three mirror
shapes, or ``if S == C: S = P``, where C is a concrete device and P a tracked
mistake ("auto"), *and* P reaches a torch device sink. Reported at the
conditional; the fix swaps the two literals, or, when P also reaches device_map=,
moves the conditional there (fixes.py; the swap is unsafe then).

DEV002 (invalid device string): any other invalid string that reaches a sink.
Reported at the sink's argument; fixed only where the intent is unambiguous
("gpu" -> "cuda", fixes.py).
"""

from __future__ import annotations

import ast
import json
import re
from collections import deque
from collections.abc import Callable, Iterable

from devicelint.dataclass import dataclass
from devicelint.findings import UNSAFE, Edit, Finding, Location
from devicelint.follow.engine import DeviceMapUse, Flow, display_path
from devicelint.follow.scopes import any_between
from devicelint.follow.values import Origin, path_of
from devicelint.vocabulary import Vocabulary

TYPE_CHECKING = False  # typing.TYPE_CHECKING (type checkers take it as true) without importing typing: 2-4 ms of start-up
if TYPE_CHECKING:  # imported where a fix is built: a clean file never pays for it
    from devicelint import fixes


@dataclass(frozen=True, eq=False)
class InvertedConditional:
    """A DEV001-shaped conditional: maps concrete ``concrete`` to invalid ``invalid``."""

    node: ast.IfExp | ast.If
    subject: ast.expr
    concrete: ast.Constant
    invalid: ast.Constant
    yoda: bool  # the literal is on the left of the comparison
    negated: bool  # the != shape: S if S != C else P


def _is_str(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _same_subject(a: ast.expr, b: ast.expr) -> bool:
    if isinstance(a, ast.NamedExpr) or isinstance(b, ast.NamedExpr):
        return False
    path = path_of(a)
    return path is not None and path == path_of(b)


def _comparison(test: ast.expr, op: type, vocabulary: Vocabulary) -> tuple[ast.expr, ast.Constant, bool] | None:
    """``S op C`` or ``C op S`` with C a concrete device literal -> (S, C, yoda)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], op)):
        return None
    left, right = test.left, test.comparators[0]
    for subject, literal, yoda in ((left, right, False), (right, left, True)):
        if _is_str(literal) and not _is_str(subject) and vocabulary.is_concrete(literal.value):  # type: ignore[union-attr]
            if path_of(subject) is not None and not isinstance(subject, ast.NamedExpr):
                return subject, literal, yoda  # type: ignore[return-value]
    return None


def match_inverted_conditional(node: ast.AST, vocabulary: Vocabulary) -> InvertedConditional | None:
    """The DEV001 shape of ``node``, if it has one (syntax only; reachability is flow's)."""
    if isinstance(node, ast.IfExp):
        if (found := _comparison(node.test, ast.Eq, vocabulary)) is not None:
            subject, concrete, yoda = found
            invalid, passthrough, negated = node.body, node.orelse, False
        elif (found := _comparison(node.test, ast.NotEq, vocabulary)) is not None:
            subject, concrete, yoda = found
            invalid, passthrough, negated = node.orelse, node.body, True
        else:
            return None
        if _is_str(invalid) and vocabulary.is_tracked(invalid.value) and _same_subject(subject, passthrough):  # type: ignore[union-attr]
            return InvertedConditional(node, subject, concrete, invalid, yoda, negated)  # type: ignore[arg-type]
        return None
    if isinstance(node, ast.If) and not node.orelse and len(node.body) == 1:
        found = _comparison(node.test, ast.Eq, vocabulary)
        assign = node.body[0]
        if (
            found is not None
            and isinstance(assign, ast.Assign)
            and len(assign.targets) == 1
            and _same_subject(found[0], assign.targets[0])
            and _is_str(assign.value)
            and vocabulary.is_tracked(assign.value.value)  # type: ignore[attr-defined]
        ):
            subject, concrete, yoda = found
            return InvertedConditional(node, subject, concrete, assign.value, yoda, False)  # type: ignore[arg-type]
    return None


# --- positions -------------------------------------------------------------------


class Positions:
    """ast positions (UTF-8 byte columns) -> character columns of the source text."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def column(self, line: int, byte_column: int) -> int:
        if 0 < line <= len(self.lines):
            text = self.lines[line - 1]
            if not text.isascii():
                return len(text.encode("utf-8")[:byte_column].decode("utf-8", "replace"))
        return byte_column

    def span(self, node: ast.AST) -> tuple[int, int, int, int]:
        end_line = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        return (
            node.lineno,  # type: ignore[attr-defined]
            self.column(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            end_line,
            self.column(end_line, node.end_col_offset or 0),  # type: ignore[attr-defined]
        )

    def text(self, node: ast.AST) -> str:
        line, col, end_line, end_col = self.span(node)
        if line == end_line:
            return self.lines[line - 1][col:end_col]
        return self.lines[line - 1][col:] + "".join(self.lines[line : end_line - 1]) + self.lines[end_line - 1][:end_col]


_SIMPLE_STRING = re.compile(r"(?s)([rRuU]?)('''|\"\"\"|'|\")(.*)\2")


def _retyped(token: str, old: str, new: str) -> str | None:
    """The literal ``token`` (holding ``old``) rewritten to hold ``new``, same prefix and quotes.

    None when the token is not one plain literal (implicit concatenation, escapes),
    where a textual swap could change more than the value.
    """
    match = _SIMPLE_STRING.fullmatch(token)
    if match is None or match.group(3) != old or "\\" in token:
        return None
    prefix, quote, _ = match.groups()
    return f"{prefix}{quote}{new}{quote}"


def _quoted(value: str) -> str:
    """A string as a double-quoted literal on one line (newlines and controls escaped)."""
    return json.dumps(value, ensure_ascii=False)


def _squash(text: str) -> str:
    return " ".join(text.split())


# --- findings --------------------------------------------------------------------


@dataclass(frozen=True)
class FileContext:
    """The file findings are reported in, and how to show positions of other files."""

    path: str
    positions: Positions
    other_lines: Callable[[str], list[str] | None]  # the lines of another file of the project

    def is_here(self, path: str) -> bool:
        return path == self.path

    def where(self, path: str, line: int) -> str:
        """``line 40`` here, ``line 40 of app.py`` in another file."""
        if self.is_here(path):
            return f"line {line}"
        return f"line {line} of {display_path(path, self.path)}"

    def location(self, path: str, node: ast.AST, label: str) -> Location:
        positions = self.positions if self.is_here(path) else Positions(self.other_lines(path) or [])
        return Location(*positions.span(node), label=label, path=None if self.is_here(path) else path)


def conditionals_of(
    tree: ast.Module, vocabulary: Vocabulary, lines: set[int] | None = None
) -> dict[int, InvertedConditional]:
    """The DEV001-shaped conditionals of a module, by their invalid literal; with ``lines``,
    only those spanning one of them (a conditional spans the line of its literal: walking
    the whole tree was most of a dense file's cost)."""
    found = {}
    nodes = ast.walk(tree) if lines is None else _spanning(tree, sorted(lines))
    for node in nodes:
        if isinstance(node, (ast.IfExp, ast.If)):
            match = match_inverted_conditional(node, vocabulary)
            if match is not None:
                found[id(match.invalid)] = match
    return found


def _spanning(tree: ast.Module, lines: list[int]):
    """The nodes of ast.walk over each top-level statement, in its order, without the
    subtrees whose lines hold none of ``lines``: a conditional spans the line of its
    literal. A definition spans its decorators too; positions inside an f-string are not
    trusted (Python < 3.12)."""
    for stmt in tree.body:
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        if any_between(lines, first, stmt.end_lineno or stmt.lineno):
            yield from _walk_spanning(stmt, lines)


def _walk_spanning(root: ast.stmt, lines: list[int]):
    todo = deque([(root, False)])
    while todo:
        node, inside_fstring = todo.popleft()
        first = getattr(node, "lineno", None)
        if first is not None and not inside_fstring:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = min([first, *(d.lineno for d in node.decorator_list)])
            if not any_between(lines, first, node.end_lineno or first):  # type: ignore[attr-defined]
                continue
        inside_fstring = inside_fstring or isinstance(node, ast.JoinedStr)
        todo.extend((child, inside_fstring) for child in ast.iter_child_nodes(node))
        yield node


def _path_key(origin: Origin) -> tuple:
    """Orders the paths of one literal: shorter first, then by where each hop is. Origins
    live in sets (ordered by memory address), so every choice among paths needs a key."""
    return (len(origin.steps), [(step.path, step.node.lineno, step.node.col_offset, step.text) for step in origin.steps])  # type: ignore[attr-defined]


def _sink_key(flow: Flow) -> tuple:
    arg = flow.sink.argument
    return (_path_key(flow.origin), flow.path, arg.lineno, arg.col_offset, flow.sink.label)


def _via(origin: Origin) -> str:
    if not origin.steps:
        return ""
    return " via " + ", then ".join(step.text for step in origin.steps)


def _origin_text(origin: Origin, here: FileContext) -> str:
    where = here.where(origin.path, origin.node.lineno)
    if origin.role == "default":
        text = f"the default of parameter `{origin.parameter}` on {where}"
    elif origin.role == "comparison":
        text = f"the comparison on {where}"
    elif origin.role == "environment default":
        text = f"the environment-variable default on {where}"
    elif origin.role == "source":  # "default of --device", 'choice "auto" of field device of Config'
        text = f"the {origin.parameter} on {where}"
    else:
        text = where
    if origin.steps and origin.scope:
        text += f" (in {origin.scope})"
    return text + _via(origin)


def _strategy_hint(value: str, vocabulary: Vocabulary) -> str:
    if vocabulary.is_strategy(value):
        return f"; {_quoted(value)} is a device_map strategy, not a device"
    return ""


def _trace(flow: Flow, here: FileContext) -> tuple[Location, ...]:
    """The path of one flow, for SARIF codeFlows: origin, each hop, the sink."""
    origin = flow.origin
    steps = [here.location(origin.path, origin.node, "origin")]
    steps += [here.location(step.path, step.node, step.text) for step in origin.steps]
    steps.append(here.location(flow.path, flow.sink.argument, flow.sink.label))
    return tuple(steps)


def inverted_conditional_findings(
    conditionals: dict[int, InvertedConditional],
    flows: Iterable[Flow],
    device_map_uses: Iterable[DeviceMapUse],
    vocabulary: Vocabulary,
    here: FileContext,
    parents: Callable[[], fixes.Parents] | None = None,
    tree: ast.Module | None = None,
) -> list[Finding]:
    """DEV001 for each conditional of this file whose invalid literal reaches a sink."""
    positions = here.positions
    reached: dict[int, list[Flow]] = {}
    for flow in flows:
        reached.setdefault(id(flow.origin.node), []).append(flow)
    device_maps: dict[int, list[DeviceMapUse]] = {}
    for use in device_map_uses:
        device_maps.setdefault(id(use.origin.node), []).append(use)

    # A device_map= that more than one conditional reaches cannot take each one inline.
    reaching: dict[int, set[int]] = {}
    for uses in device_maps.values():
        for use in uses:
            reaching.setdefault(id(use.keyword), set()).add(id(use.origin.node))
    shared = {keyword for keyword, literals in reaching.items() if len(literals) > 1}

    findings = []
    for cond in conditionals.values():
        sinks = sorted(reached.get(id(cond.invalid), ()), key=_sink_key)
        if not sinks:
            continue
        first = sinks[0]
        c, p = cond.concrete.value, cond.invalid.value
        c_token, p_token = positions.text(cond.concrete), positions.text(cond.invalid)
        new_c_token, new_p_token = _retyped(c_token, c, p), _retyped(p_token, p, c)
        edits: tuple[Edit, ...] = ()
        if new_c_token is not None and new_p_token is not None:
            edits = tuple(
                sorted(
                    (Edit(*positions.span(cond.concrete), new_c_token), Edit(*positions.span(cond.invalid), new_p_token)),
                    key=lambda e: (e.line, e.column),
                )
            )
        message = (
            f"inverted device conditional turns {_quoted(c)} into {_quoted(p)}, which reaches "
            f"{first.sink.label} on {here.where(first.path, first.sink.argument.lineno)}{_via(first.origin)}; "
            f"use {_suggestion(cond, positions)}"
        )
        fix_note = None
        applicability = "safe"
        maps = sorted(
            device_maps.get(id(cond.invalid), ()),
            key=lambda u: (_path_key(u.origin), u.path, u.keyword.value.lineno, u.keyword.value.col_offset),
        )
        if maps and vocabulary.is_strategy(p):
            movable = parents is not None and tree is not None and not any(id(u.keyword) in shared for u in maps)
            from devicelint import fixes

            moved = fixes.sharding_fix(cond, maps, positions, tree, parents(), here) if movable else None
            if moved is not None:
                # Keep the strategy for device_map= alone: the conditional moves there.
                edits, fix_note = moved.edits, moved.note
                where = here.where(maps[0].path, maps[0].keyword.value.lineno)
                message = message.rsplit("; use ", 1)[0] + f"; {_quoted(p)} is meant for device_map= on {where} only: write the conditional there"
            else:
                # device_map= accepted the strategy; after the swap it places the model on one device.
                applicability = UNSAFE
                fix_note = (
                    f"the fix also changes device_map= on {here.where(maps[0].path, maps[0].keyword.value.lineno)}: it then receives "
                    f"{_quoted(c)} (one device) instead of {_quoted(p)} (a placement over all GPUs)"
                )
                message += f"; note: {fix_note}"
        seen: set[int] = set()
        related = []
        for flow in sinks:
            if id(flow.sink.argument) not in seen:
                seen.add(id(flow.sink.argument))
                related.append(here.location(flow.path, flow.sink.argument, flow.sink.label))
        findings.append(
            Finding("DEV001", message, *positions.span(cond.node), edits, fix_note, applicability, tuple(related), _trace(first, here))
        )
    return findings


def _suggestion(cond: InvertedConditional, positions: Positions) -> str:
    """The corrected conditional, on one line, in the user's spelling."""
    subject = _squash(positions.text(cond.subject))
    c, p = cond.concrete.value, cond.invalid.value
    c_text = _retyped(positions.text(cond.concrete), c, p) or _quoted(p)
    p_text = _retyped(positions.text(cond.invalid), p, c) or _quoted(c)
    op = "!=" if cond.negated else "=="
    test = f"{c_text} {op} {subject}" if cond.yoda else f"{subject} {op} {c_text}"
    if isinstance(cond.node, ast.If):
        return f"if {test}: {subject} = {p_text}"
    if cond.negated:
        return f"{subject} if {test} else {p_text}"
    return f"{p_text} if {test} else {subject}"


def invalid_string_findings(
    flows: Iterable[Flow],
    vocabulary: Vocabulary,
    here: FileContext,
    parents: Callable[[], fixes.Parents] | None = None,
    tree: ast.Module | None = None,
    device_map_literals: frozenset[int] = frozenset(),
) -> list[Finding]:
    """DEV002 once per place: the sink's argument when the sink is in this file, else the
    literal (its value reaches a sink in another file)."""
    flows = list(flows)
    by_literal: dict[int, list[Flow]] = {}
    for flow in flows:
        by_literal.setdefault(id(flow.origin.node), []).append(flow)
    groups: dict[int, list[Flow]] = {}
    for flow in flows:
        at = flow.sink.argument if here.is_here(flow.path) else flow.origin.node
        groups.setdefault(id(at), []).append(flow)
    findings = []
    for group in groups.values():
        group.sort(key=lambda f: (f.origin.node.lineno, f.origin.node.col_offset, _sink_key(f)))
        flow = group[0]
        sink, origin = flow.sink, flow.origin
        value = origin.value
        if not here.is_here(flow.path):
            at_node: ast.AST = origin.node
            message = (
                f"invalid device string {_quoted(value)} reaches {sink.label} on "
                f"{here.where(flow.path, sink.argument.lineno)}{_via(origin)}"
            )
            if origin.role == "source":  # the literal is a declaration: say which
                message += f"; it is the {origin.parameter}"
        elif origin.node is sink.argument:
            at_node = sink.argument
            message = f"invalid device string {_quoted(value)} passed to {sink.label}"
        else:
            at_node = sink.argument
            message = f"invalid device string {_quoted(value)} reaches {sink.label}; it comes from {_origin_text(origin, here)}"
            others = len({id(f.origin.node) for f in group}) - 1
            if others:
                message += f" (and {others} more)"
        message += _strategy_hint(value, vocabulary)
        related = () if origin.node is sink.argument else (
            here.location(origin.path, origin.node, "origin") if at_node is sink.argument
            else here.location(flow.path, sink.argument, sink.label),
        )
        fix = None
        if parents is not None and tree is not None and all(f.origin.node is origin.node for f in group):
            mine = by_literal[id(origin.node)]
            from devicelint import fixes

            fix = fixes.invalid_string_fix(flow, mine, device_map_literals, vocabulary, here.positions, tree, parents, here)
        findings.append(
            Finding(
                "DEV002", message, *here.positions.span(at_node),
                edits=fix.edits if fix else (), fix_note=fix.note if fix else None,
                applicability=fix.applicability if fix else "safe", related=related, steps=_trace(flow, here),
            )
        )
    return findings


def findings_for(
    tree: ast.Module,
    flows: Iterable[Flow],
    device_map_uses: Iterable[DeviceMapUse],
    vocabulary: Vocabulary,
    here: FileContext,
) -> list[Finding]:
    """DEV001 and DEV002 of one file: the flows whose literal is written in this file."""
    own = [flow for flow in flows if here.is_here(flow.origin.path)]
    origin_lines = {getattr(flow.origin.node, "lineno", None) for flow in own}
    conditionals = conditionals_of(tree, vocabulary, None if None in origin_lines else origin_lines) if own else {}  # type: ignore[arg-type]
    own_maps = [use for use in device_map_uses if here.is_here(use.origin.path)]
    built: list[fixes.Parents] = []

    def parents() -> fixes.Parents:  # only a file with a finding to fix pays for it, once
        if not built:
            from devicelint import fixes

            built.append(fixes.Parents(tree))
        return built[0]

    findings = inverted_conditional_findings(
        conditionals,
        [flow for flow in own if id(flow.origin.node) in conditionals],
        own_maps,
        vocabulary,
        here,
        parents,
        tree,
    )
    findings += invalid_string_findings(
        [flow for flow in own if id(flow.origin.node) not in conditionals], vocabulary, here, parents, tree,
        frozenset(id(use.origin.node) for use in own_maps),
    )
    return sorted(findings, key=lambda f: f.sort_key)
