"""Applies fixes to source text, exactly: the one place where fixes are decided.

Every front end that rewrites (``devicelint fix``, the libcst codemod, notebooks, whose
joined cells are one text) goes through ``fix_source``: which fixes apply (safe ones;
unsafe ones only with ``--unsafe-fixes``; rule selection is CodeFilter.selected), the proof
that the module's AST changed only where fixes may change it, and "fix, then analyse again".

Each fixed file is read and parsed once: the first analysis keeps its tree, a round's new
tree is the old one with only the edited top-level statements parsed anew (and proved), and
that tree is analysed again. The byte splice and the diff come from the edits' spans.
"""

from __future__ import annotations

import ast
import bisect
import codecs
import difflib
import itertools
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator

from devicelint.analysis import (
    DEFAULT_SETTINGS,
    MAX_SOURCE_BYTES,
    Settings,
    TooComplex,
    analyze_bytes,
    analyze_text,
    guarded,
    refused_finding,
)
from devicelint.dataclass import dataclass
from devicelint.findings import CodeFilter, Edit, Finding
from devicelint.follow.values import path_of
from devicelint.source import DecodedSource, decode, parse, split_lines
from devicelint.writing import FileChanged, signals_deferred, write_atomically  # noqa: F401 (their old home)


class UnsafeFixError(RuntimeError):
    """A fix would have changed more than the literals it swaps (a devicelint bug)."""


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    return _Edited(text, edits).new_text


Span = tuple[int, int, str]  # (begin, end, replacement): character offsets in a text


class _Edited:
    """One round of edits on a text: where they are, and the text they make."""

    def __init__(self, text: str, edits: Iterable[Edit]) -> None:
        self.text = text
        self.edits = list(dict.fromkeys(edits))  # two findings of one literal carry the same edit
        self.edits.sort(key=lambda e: (e.line, e.column))
        # Where each line starts (and the text's end): the lines are the tokenizer's, as the
        # edits' (split at "\n" alone, faster, when the text has no "\r").
        lines = _DIFF_LINE.findall(text) if "\r" not in text else split_lines(text)
        self.starts = list(itertools.accumulate(map(len, lines), initial=0))
        self.spans: list[Span] = []
        for edit in self.edits:
            begin = self.starts[edit.line - 1] + edit.column
            end = self.starts[edit.end_line - 1] + edit.end_column
            if self.spans and begin < self.spans[-1][1]:
                raise UnsafeFixError(f"overlapping edits at line {edit.line}")
            self.spans.append((begin, end, edit.replacement))
        pieces, cursor = [], 0
        for begin, end, replacement in self.spans:
            pieces += [text[cursor:begin], replacement]
            cursor = end
        pieces.append(text[cursor:])
        self.new_text = "".join(pieces)

    def changes(self) -> tuple[Span, ...]:
        """The spans narrowed to the characters that change (an edit rewrites a whole literal;
        only its letters differ): what splice_bytes and the diff replace."""
        changes = []
        for begin, end, replacement in self.spans:
            old = self.text[begin:end]
            if old == replacement:
                continue
            head = len(os.path.commonprefix([old, replacement]))
            tail = len(os.path.commonprefix([old[head:][::-1], replacement[head:][::-1]]))
            changes.append((begin + head, end - tail, replacement[head : len(replacement) - tail]))
        return tuple(changes)

    def within_lines(self) -> bool:
        """Whether each edit lies inside its own line and adds, drops or spans no line break
        (line numbers stay, and each edit is on the line it says)."""
        return all(
            self.starts[edit.line - 1] <= begin <= end <= self.starts[edit.line]
            and not _LINE_BREAK.search(self.text, begin, end)
            and not _LINE_BREAK.search(replacement)
            for edit, (begin, end, replacement) in zip(self.edits, self.spans)
        )


# --- the one place where fixes are decided ------------------------------------------------------


def chosen(findings: Iterable[Finding], unsafe_fixes: bool) -> tuple[list[Finding], list[Finding]]:
    """(the findings whose fix applies, the findings whose unsafe fix is skipped).

    A fix whose edits overlap an earlier one's waits for the next round (see fix_source)."""
    applied: list[Finding] = []
    skipped: list[Finding] = []
    taken: list[tuple[tuple[int, int], tuple[int, int]]] = []
    same: set[Edit] = set()
    for finding in sorted(findings, key=lambda f: f.sort_key):
        if not finding.applies(unsafe_fixes):
            if finding.unsafe_fix:
                skipped.append(finding)
            continue
        if set(finding.edits) <= same:
            applied.append(finding)  # the same literal, reported at each sink it reaches: one fix
            continue
        spans = [((e.line, e.column), (e.end_line, e.end_column)) for e in finding.edits]
        if any(a < d and c < b for a, b in spans for c, d in taken):
            continue
        taken += spans
        same.update(finding.edits)
        applied.append(finding)
    return applied, skipped


@dataclass(frozen=True)
class FixResult:
    """What the engine decided for one source text (a .py file's, or a notebook's joined cells)."""

    findings: tuple[Finding, ...]  # the selected findings of the text as given
    text: str | None  # the text with the fixes applied; None when no fix applies
    fixed: tuple[Finding, ...] = ()  # the findings whose fixes were applied (positions in the original)
    skipped: tuple[Finding, ...] = ()  # findings whose unsafe fix was left out (no --unsafe-fixes)
    remaining: tuple[Finding, ...] = ()  # the findings of the fixed text (all of them when nothing applies)
    # (begin, end, replacement): the character spans of the original text that ``text``
    # replaces, in order (what splice_bytes and the diff use); None when nothing changes.
    changes: tuple[tuple[int, int, str], ...] | None = None


# "Fix, then analyse again" a few times: a fix that overlapped another's applies in the next round.
MAX_FIX_ROUNDS = 3


def fix_source(
    text: str,
    filename: str = "<unknown>",
    settings: Settings = DEFAULT_SETTINGS,
    codes: CodeFilter = CodeFilter(),
    *,
    unsafe_fixes: bool = False,
    findings: Iterable[Finding] | None = None,
    tree: ast.Module | None = None,
) -> FixResult:
    """Findings of ``text`` with their fixes, and the text with the fixes that apply (safe ones;
    also unsafe ones with ``unsafe_fixes``). Raises SyntaxError when the text does not parse,
    UnsafeFixError when a fix would change more than it says. ``findings`` and ``tree``: those
    of ``text`` when the caller has them already (not analysed or parsed twice).

    Each round parses only what its fixes touched and analyses that tree again: the tree of the
    fixed text is the old one with the edited top-level statements parsed anew (see
    ``_proved_tree``), so the analysis of a fixed file reads its text once and parses it once."""
    if findings is None:
        findings, tree = analysed_text(text, filename, settings)
    findings = tuple(codes.selected(findings))
    current, current_findings, current_tree = text, findings, tree
    fixed: list[Finding] = []
    rounds: list[_Edited] = []
    for _ in range(MAX_FIX_ROUNDS):
        applied, _ = chosen(current_findings, unsafe_fixes)
        if not applied:
            break
        edited = _Edited(current, (e for f in applied for e in f.edits))
        current_tree = _proved_tree(edited, current_tree if current_tree is not None else _parse_or_unsafe(current))
        fixed += applied  # positions of the text each round started from
        rounds.append(edited)
        current = edited.new_text
        current_findings = tuple(codes.selected(analyze_text(current, filename, settings, tree=current_tree)))
    if current == text:
        _, skipped = chosen(findings, unsafe_fixes)
        return FixResult(findings, None, (), tuple(skipped), findings)
    _, skipped = chosen(current_findings, unsafe_fixes)
    # What changed, as spans of ``text``: from the edits, or by diffing after several rounds.
    changes = rounds[0].changes() if len(rounds) == 1 else tuple(_changes(text, current))
    return FixResult(findings, current, tuple(fixed), tuple(skipped), current_findings, changes)


def analysed_text(text: str, filename: str, settings: Settings) -> tuple[list[Finding], ast.Module | None]:
    """analyze_text's findings, and the tree it parsed (None when it had no reason to parse):
    kept for fix_source, so that a fixed text is parsed once. Raises SyntaxError."""
    offsets = settings.prescan.candidates(text)
    if not offsets:
        return [], None  # what analyze_text says without parsing
    tree = parse(text, filename)
    return analyze_text(text, filename, settings, tree=tree, offsets=offsets), tree


def fix_text(text: str, findings: Iterable[Finding], unsafe_fixes: bool = False) -> FixResult | None:
    """One round of fix_source on findings already at hand (of this text): the text with their
    applicable fixes applied, not analysed again (``remaining`` is empty); None if none applies."""
    findings = tuple(findings)
    applied, skipped = chosen(findings, unsafe_fixes)
    if not applied:
        return None
    edited = _Edited(text, (e for f in applied for e in f.edits))
    _proved_tree(edited, _parse_or_unsafe(text))
    return FixResult(findings, edited.new_text, tuple(applied), tuple(skipped), (), edited.changes())


def prove(old_text: str, new_text: str) -> None:
    """Raises UnsafeFixError unless the two modules differ only where fixes may change them:
    string literals (swapped, retyped), a device conditional moved between its statement and
    device_map= (or dropped for its subject), and device= renamed device_map=."""
    try:
        old_tree, new_tree = parse(old_text), parse(new_text)
    except SyntaxError as error:
        raise UnsafeFixError(f"the fixed source does not parse: {error.msg}") from None
    if _shape(old_tree) != _shape(new_tree):
        raise UnsafeFixError("the fix changed more than the fix says")


def _parse_or_unsafe(text: str) -> ast.Module:
    try:
        return parse(text)
    except SyntaxError as error:
        raise UnsafeFixError(f"the fixed source does not parse: {error.msg}") from None


def _proved_tree(edited: _Edited, old_tree: ast.Module) -> ast.Module:
    """The tree of the edited text, after the proof that it differs from ``old_tree`` (the
    tree of the text before) only where fixes may change a module (what ``prove`` checks);
    raises UnsafeFixError otherwise.

    Only the top-level statements that hold an edit are parsed and compared: the others keep
    their text and their lines, and a top-level statement's tree depends on its own text only
    (the parser starts each one with no open bracket, string or indentation), so they are the
    old tree's statements. When that cannot be shown cheaply (a fix that adds or drops lines,
    an edit outside the statements, a fragment that does not parse alone), the whole new text
    is parsed and compared, as ``prove`` does."""
    if edited.within_lines():
        runs = _edited_runs(old_tree.body, edited.edits)
        spliced = _spliced(edited, old_tree, runs) if runs is not None else None
        if spliced is not None:
            return spliced
    new_tree = _parse_or_unsafe(edited.new_text)
    if _shape(old_tree) != _shape(new_tree):
        raise UnsafeFixError("the fix changed more than the fix says")
    return new_tree


_LINE_BREAK = re.compile(r"[\r\n]")


def _statement_lines(body: list[ast.stmt]) -> list[tuple[int, int]]:
    """(first, last) line of each top-level statement; the first is the line after the
    previous statement, so that decorators and the comments before a statement go with it."""
    spans, previous_end = [], 0
    for statement in body:
        end = statement.end_lineno or statement.lineno
        spans.append((previous_end + 1, end))
        previous_end = end
    return spans


def _edited_runs(body: list[ast.stmt], edits: Iterable[Edit]) -> list[tuple[int, int, int, int]] | None:
    """(start, stop, first line, last line) of each run of consecutive top-level statements
    that hold an edit, with those that share a line with them; None when an edit lies outside
    every statement (after the last one)."""
    spans = _statement_lines(body)
    firsts = [first for first, _ in spans]
    edited = [False] * len(spans)
    for edit in edits:  # the statements whose lines it touches (they cover the lines one after another)
        for i in range(max(bisect.bisect_right(firsts, edit.line) - 1, 0), bisect.bisect_right(firsts, edit.end_line)):
            edited[i] = edited[i] or spans[i][1] >= edit.line
    # A statement that starts on the line where the previous one ends (``a = 1; b = 2``)
    # is parsed with it.
    shares = [i > 0 and body[i].lineno <= spans[i - 1][1] for i in range(len(body))]
    for i in range(len(spans) - 1, 0, -1):
        if edited[i] and shares[i]:
            edited[i - 1] = True
    for i in range(1, len(spans)):
        if edited[i - 1] and shares[i]:
            edited[i] = True
    runs: list[tuple[int, int, int, int]] = []
    for i, is_edited in enumerate(edited):
        if not is_edited:
            continue
        if runs and runs[-1][1] == i:
            start, _, first, _ = runs[-1]
            runs[-1] = (start, i + 1, first, spans[i][1])
        else:
            runs.append((i, i + 1, spans[i][0], spans[i][1]))
    if not all(any(first <= e.line and e.end_line <= last for _, _, first, last in runs) for e in edits):
        return None
    return runs


def _spliced(edited: _Edited, old_tree: ast.Module, runs: list[tuple[int, int, int, int]]) -> ast.Module | None:
    """The new module's tree: the old one with each edited run parsed anew from the new text
    (the edits keep every line number); None when a run does not parse alone (the whole text
    then decides). Raises UnsafeFixError when a run changed more than fixes may."""
    starts, spans = edited.starts, edited.spans
    if runs[-1][3] >= len(starts):
        return None
    body: list[ast.stmt] = []
    previous_stop, shift, k = 0, 0, 0
    for start, stop, first, last in runs:
        begin, end = starts[first - 1], starts[last]  # the run's lines in the old text
        run_shift = 0
        while k < len(spans) and spans[k][0] < end:  # every span lies in a run (_edited_runs)
            run_shift += len(spans[k][2]) - (spans[k][1] - spans[k][0])
            k += 1
        fragment = edited.new_text[begin + shift : end + shift + run_shift]
        shift += run_shift
        try:
            part = parse(fragment)
        except (SyntaxError, ValueError):
            return None
        if first > 1:
            ast.increment_lineno(part, first - 1)
        if _shape(old_tree.body[start:stop]) != _shape(part.body):
            raise UnsafeFixError("the fix changed more than the fix says")
        body += old_tree.body[previous_stop:start]
        body += part.body
        previous_stop = stop
    body += old_tree.body[previous_stop:]
    return ast.Module(body=body, type_ignores=list(old_tree.type_ignores))


def changed_strings(old_text: str, new_text: str) -> list[tuple[str, str]]:
    """The string constants that differ between two modules, as (old, new) pairs.

    Raises UnsafeFixError if anything but string constants differs, or if the new
    text does not parse.
    """
    try:
        old_tree, new_tree = parse(old_text), parse(new_text)
    except SyntaxError as error:
        raise UnsafeFixError(f"the fixed source does not parse: {error.msg}") from None
    # Both trees compared node by node in one pass (what ast.dump compares: types and
    # fields, not positions), strings aside, in ast.walk's order; two dumps of blanked
    # copies, then a walk, were most of a fix's time.
    changed = []
    pending = deque([(old_tree, new_tree)])
    while pending:
        old, new = pending.popleft()
        if type(old) is not type(new):
            raise UnsafeFixError("the fix changed more than string literals")
        if type(old) is ast.Constant and type(old.value) is str and type(new.value) is str:  # type: ignore[attr-defined]
            if old.kind != new.kind:  # type: ignore[attr-defined]
                raise UnsafeFixError("the fix changed more than string literals")
            if old.value != new.value:  # type: ignore[attr-defined]
                changed.append((old.value, new.value))  # type: ignore[attr-defined]
            continue
        for name in old._fields:
            a, b = getattr(old, name, None), getattr(new, name, None)
            if isinstance(a, ast.AST):
                pending.append((a, b))
            elif type(a) is list:
                if type(b) is not list or len(a) != len(b):
                    raise UnsafeFixError("the fix changed more than string literals")
                for x, y in zip(a, b):
                    if isinstance(x, ast.AST):
                        pending.append((x, y))
                    elif type(x) is not type(y) or x != y:
                        raise UnsafeFixError("the fix changed more than string literals")
            elif type(a) is not type(b) or a != b and repr(a) != repr(b):
                raise UnsafeFixError("the fix changed more than string literals")
    return changed


def _is_str(node: object) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _conditional_subject(node: ast.IfExp) -> ast.expr | None:
    """S for ``"x" if S == "y" else S`` and its mirror shapes (any string literals)."""
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.NotEq))):
        return None
    left, right = test.left, test.comparators[0]
    subject = right if _is_str(left) else left if _is_str(right) else None
    if subject is None or path_of(subject) is None:
        return None
    passthrough, literal = (node.orelse, node.body) if isinstance(test.ops[0], ast.Eq) else (node.body, node.orelse)
    if _is_str(literal) and path_of(passthrough) == path_of(subject):
        return subject
    return None


def _dropped(statement: ast.stmt) -> bool:
    """``S = S`` (a moved conditional's statement) and ``if S == "x": S = "y"``."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        value = statement.value
        if isinstance(value, ast.IfExp):
            value = _conditional_subject(value) or value
        return path_of(statement.targets[0]) is not None and path_of(statement.targets[0]) == path_of(value)
    if isinstance(statement, ast.If) and not statement.orelse and len(statement.body) == 1:
        body = statement.body[0]
        test = statement.test
        return (
            isinstance(body, ast.Assign)
            and len(body.targets) == 1
            and _is_str(body.value)
            and isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)
            and path_of(body.targets[0]) is not None
            and path_of(body.targets[0]) in (path_of(test.left), path_of(test.comparators[0]))
        )
    return False


def _shape(node: object) -> object:
    """The module's AST with what fixes may change left out (see ``prove``)."""
    if isinstance(node, list):
        return [_shape(item) for item in node if not (isinstance(item, ast.stmt) and _dropped(item))]
    if not isinstance(node, ast.AST):
        return node
    if _is_str(node):
        return "str"
    if isinstance(node, ast.IfExp):
        subject = _conditional_subject(node)
        if subject is not None:
            return _shape(subject)
    if isinstance(node, ast.keyword) and node.arg == "device_map":
        return ("keyword", "device", _shape(node.value))
    if isinstance(node, ast.keyword):
        return ("keyword", node.arg, _shape(node.value))
    return (type(node).__name__, *(_shape(getattr(node, name, None)) for name in node._fields))


# --- bytes and files ---------------------------------------------------------------


@dataclass(frozen=True)
class FixedBytes:
    """What fixing one file's bytes gave."""

    data: bytes | None  # the new bytes; None when nothing changes
    result: FixResult  # what the engine decided
    diff: str = ""  # the unified diff, when asked for and the bytes change


def fix_source_bytes(
    data: bytes,
    filename: str,
    settings: Settings,
    codes: CodeFilter = CodeFilter(),
    unsafe_fixes: bool = False,
    want_diff: bool = False,
) -> FixedBytes:
    """What the engine decides for one file's bytes. A file that does not decode, parse or
    fit is its DEV900, and nothing changes."""
    found, source, tree = _analysed(data, filename, settings)
    findings = codes.selected(found)
    if not any(f.fixable for f in findings) or any(f.code == "DEV900" for f in findings):
        return FixedBytes(None, FixResult(tuple(findings), None, (), (), tuple(findings)))
    source = source if source is not None else decode(data)
    result = fix_source(
        source.text, filename, settings, codes, unsafe_fixes=unsafe_fixes, findings=findings, tree=tree
    )  # fmt: skip
    if result.text is None:
        return FixedBytes(None, result)
    new_data = splice_bytes(data, source, result.text, result.changes)
    diff = text_diff(filename, source.text, result.text, result.changes) if want_diff and new_data != data else ""
    return FixedBytes(new_data, result, diff)


def _analysed(data: bytes, filename: str, settings: Settings) -> tuple[list[Finding], DecodedSource | None, ast.Module | None]:
    """analyze_bytes's findings, with the decoded text and its tree when the file was parsed
    (kept for the fix: each file is parsed once). The cases that parse nothing, and every
    DEV900, are analyze_bytes's own."""
    if len(data) > MAX_SOURCE_BYTES or not settings.prescan.matches_bytes(data):
        # (analyze_bytes's first test, not run twice on the files most runs consist of)
        return ([] if len(data) <= MAX_SOURCE_BYTES and data.isascii() else analyze_bytes(data, filename, settings)), None, None
    try:
        source = decode(data)
        findings, tree = guarded(analysed_text, source.text, filename, settings)
    except (SyntaxError, UnicodeError, LookupError, ValueError):
        return analyze_bytes(data, filename, settings), None, None  # its DEV900
    except TooComplex as error:
        return [refused_finding(str(error))], None, None
    return findings, source, tree


def splice_bytes(
    data: bytes, source: DecodedSource, new_text: str, changes: Iterable[tuple[int, int, str]] | None = None
) -> bytes:
    """The file's bytes with only the changed text's bytes replaced.

    Re-encoding the whole text would also rewrite bytes the fix never touched where the
    encoding does not round-trip (cp932, big5, utf-7, iso2022_jp comments). The changed
    regions are ``changes`` (from the edits) or else found by diffing the texts. Raises
    UnsafeFixError when the spliced bytes do not decode to exactly the fixed text (a
    stateful encoding), so such a file is left alone rather than changed elsewhere.
    """
    bom = codecs.BOM_UTF8 if source.encoding == "utf-8-sig" else b""
    encoding = "utf-8" if bom else source.encoding
    old_text = source.text
    try:
        pieces, cursor = [data[: len(bom)]], len(bom)
        for begin, end, replacement in changes if changes is not None else _changes(old_text, new_text):
            begin_byte = len(bom) + len(old_text[:begin].encode(encoding))
            end_byte = begin_byte + len(old_text[begin:end].encode(encoding))
            pieces += [data[cursor:begin_byte], replacement.encode(encoding)]
            cursor = end_byte
        pieces.append(data[cursor:])
        new_data = b"".join(pieces)
        exact = decode(new_data).text == new_text
    except (UnicodeError, SyntaxError, LookupError):
        exact = False
    if not exact:
        raise UnsafeFixError(f"the fix cannot be written in the file's encoding ({source.encoding}) without changing other bytes")
    return new_data


def _changes(old: str, new: str) -> Iterator[tuple[int, int, str]]:
    """(begin, end, replacement) character spans that turn ``old`` into ``new``: lines are
    matched first (cheap on large files), then characters inside each changed block."""
    old_lines, new_lines = split_lines(old), split_lines(new)
    old_starts = list(itertools.accumulate((len(line) for line in old_lines), initial=0))
    new_starts = list(itertools.accumulate((len(line) for line in new_lines), initial=0))
    lines = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in lines.get_opcodes():
        if tag == "equal":
            continue
        base, old_block = old_starts[i1], old[old_starts[i1] : old_starts[i2]]
        new_block = new[new_starts[j1] : new_starts[j2]]
        chars = difflib.SequenceMatcher(None, old_block, new_block, autojunk=False)
        for tag2, a1, a2, b1, b2 in chars.get_opcodes():
            if tag2 != "equal":
                yield base + a1, base + a2, new_block[b1:b2]


_DIFF_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def text_diff(path: str, old_text: str, new_text: str, changes: Iterable[tuple[int, int, str]] | None = None) -> str:
    """A unified diff that ``patch`` and ``git apply`` accept, as difflib.unified_diff writes it.

    Lines are split at ``\n`` only, as those tools do (``str.splitlines`` would also
    split at form feeds and lone carriage returns), and a last line without a newline
    gets the ``\\ No newline at end of file`` marker instead of running into the next.
    ``changes`` (character spans of ``old_text``, from the edits): only the lines they touch
    are compared, not the whole files.
    """
    changes = list(changes) if changes is not None else None
    if changes is None:
        lines: Iterable[str] = difflib.unified_diff(_DIFF_LINE.findall(old_text), _DIFF_LINE.findall(new_text), path, path)
    elif not changes:
        lines = ()
    else:
        lines = _diff_of_changes(path, old_text, new_text, changes)
    pieces = []
    for line in lines:
        pieces.append(line)
        if not line.endswith("\n"):
            pieces.append("\n\\ No newline at end of file\n")
    return "".join(pieces)


def _diff_of_changes(path: str, old_text: str, new_text: str, changes: list[Span], n: int = 3) -> Iterator[str]:
    """The diff of two texts that differ by ``changes`` (in order), from the lines around them
    only: the window from n lines before the first change to n lines after the last holds all
    the hunks' lines (difflib shows n lines of context), the rest of the files is not split."""
    start = old_text.rfind("\n", 0, changes[0][0]) + 1
    for _ in range(n):
        if start == 0:
            break
        start = old_text.rfind("\n", 0, start - 1) + 1
    end = changes[-1][1]
    for _ in range(n + 1):
        found = old_text.find("\n", end)
        end = len(old_text) if found < 0 else found + 1
    shift = sum(len(replacement) - (stop - begin) for begin, stop, replacement in changes)
    old_window, new_window = old_text[start:end], new_text[start : end + shift]
    base = old_text.count("\n", 0, start)  # the window's first line, the same in both texts
    old_lines, new_lines = _DIFF_LINE.findall(old_window), _DIFF_LINE.findall(new_window)
    moved = [(begin - start, stop - start, replacement) for begin, stop, replacement in changes]
    opcodes = _line_opcodes(old_window, new_window, old_lines, new_lines, moved)
    return _unified(path, old_lines, new_lines, opcodes, base, n)


Opcode = tuple[str, int, int, int, int]


def _line_opcodes(old_text: str, new_text: str, old_lines: list[str], new_lines: list[str], changes: list[Span]) -> list[Opcode]:
    """difflib's opcodes over the ``\n`` lines of two texts that differ only by ``changes``:
    the lines each change touches are compared with difflib (a few lines), the rest are equal."""
    blocks: list[list[int]] = []  # [old start, old stop, new start, new stop] line indices
    shift = 0
    for begin, end, replacement in changes:
        new_begin = begin + shift
        shift += len(replacement) - (end - begin)
        old_first, old_last = old_text.count("\n", 0, begin), old_text.count("\n", 0, end)
        new_first, new_last = new_text.count("\n", 0, new_begin), new_text.count("\n", 0, new_begin + len(replacement))
        block = [old_first, min(old_last + 1, len(old_lines)), new_first, min(new_last + 1, len(new_lines))]
        if blocks and block[0] <= blocks[-1][1]:
            blocks[-1][1], blocks[-1][3] = max(blocks[-1][1], block[1]), max(blocks[-1][3], block[3])
        else:
            blocks.append(block)
    opcodes: list[Opcode] = []

    def add(tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        if tag == "equal" and opcodes and opcodes[-1][0] == "equal":
            tag, i1, _, j1, _ = opcodes.pop()
        if i1 < i2 or j1 < j2:
            opcodes.append((tag, i1, i2, j1, j2))

    i = j = 0
    for i1, i2, j1, j2 in blocks:
        add("equal", i, i1, j, j1)
        inner = difflib.SequenceMatcher(None, old_lines[i1:i2], new_lines[j1:j2], autojunk=False)
        for tag, a1, a2, b1, b2 in inner.get_opcodes():
            add(tag, i1 + a1, i1 + a2, j1 + b1, j1 + b2)
        i, j = i2, j2
    add("equal", i, len(old_lines), j, len(new_lines))
    return opcodes


def _unified(
    path: str, old_lines: list[str], new_lines: list[str], opcodes: list[Opcode], base: int = 0, n: int = 3
) -> Iterator[str]:
    """difflib.unified_diff's lines for known opcodes (its grouping into hunks, its format);
    ``base``: the number of the lines' first line (a window of the files)."""
    codes = list(opcodes) or [("equal", 0, 1, 0, 1)]
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = tag, max(i1, i2 - n), i2, max(j1, j2 - n), j2
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)
    groups, group = [], []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * n:
            group.append((tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    for number, group in enumerate(groups):
        if number == 0:
            yield f"--- {path}\n"
            yield f"+++ {path}\n"
        first, last = group[0], group[-1]
        yield f"@@ -{_range(base + first[1], base + last[2])} +{_range(base + first[3], base + last[4])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in old_lines[i1:i2])
                continue
            if tag in ("replace", "delete"):
                yield from ("-" + line for line in old_lines[i1:i2])
            if tag in ("replace", "insert"):
                yield from ("+" + line for line in new_lines[j1:j2])


def _range(start: int, stop: int) -> str:
    """difflib's hunk range: ``3`` for one line, ``3,4``, ``2,0`` for none."""
    length = stop - start
    if length == 1:
        return f"{start + 1}"
    return f"{start + 1 if length else start},{length}"
