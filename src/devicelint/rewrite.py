"""Applies fixes to source text, exactly: the one place where fixes are decided.

Every front end that rewrites (``devicelint fix``, the libcst codemod, notebooks) goes
through ``fix_source`` (a notebook, whose cells are edited one by one, through ``chosen``
and ``prove``): rule selection, which fixes apply (safe ones; unsafe ones only with
``--unsafe-fixes``), the proof that the module's AST changed only where fixes may change it,
and "fix, then analyse again".
"""

from __future__ import annotations

import ast
import codecs
import contextlib
import difflib
import itertools
import os
import re
import signal
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from devicelint.analysis import DEFAULT_SETTINGS, Settings, analyze_bytes, analyze_text
from devicelint.findings import CodeFilter, Edit, Finding
from devicelint.follow.values import path_of
from devicelint.source import DecodedSource, decode, parse, split_lines


class UnsafeFixError(RuntimeError):
    """A fix would have changed more than the literals it swaps (a devicelint bug)."""


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    edits = dict.fromkeys(edits)  # two findings of one literal carry the same edit
    lines = split_lines(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column

    pieces = []
    cursor = 0
    for edit in sorted(edits, key=lambda e: (e.line, e.column)):
        begin, end = offset(edit.line, edit.column), offset(edit.end_line, edit.end_column)
        if begin < cursor:
            raise UnsafeFixError(f"overlapping edits at line {edit.line}")
        pieces += [text[cursor:begin], edit.replacement]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


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
) -> FixResult:
    """Findings of ``text`` with their fixes, and the text with the fixes that apply (safe ones;
    also unsafe ones with ``unsafe_fixes``). Raises SyntaxError when the text does not parse,
    UnsafeFixError when a fix would change more than it says. ``findings``: those of ``text``
    when the caller has them already (not analysed twice)."""
    findings = tuple(selected(analyze_text(text, filename, settings) if findings is None else findings, codes))
    current, current_findings = text, findings
    fixed: list[Finding] = []
    for _ in range(MAX_FIX_ROUNDS):
        applied, _ = chosen(current_findings, unsafe_fixes)
        if not applied:
            break
        new_text = apply_edits(current, [e for f in applied for e in f.edits])
        prove(current, new_text)
        if not fixed:
            fixed = applied  # positions of the text as given; later rounds are counted below
        else:
            fixed += applied
        current = new_text
        current_findings = tuple(selected(analyze_text(current, filename, settings), codes))
    if current == text:
        _, skipped = chosen(findings, unsafe_fixes)
        return FixResult(findings, None, (), tuple(skipped), findings)
    _, skipped = chosen(current_findings, unsafe_fixes)
    return FixResult(findings, current, tuple(fixed), tuple(skipped), current_findings)


def selected(findings: Iterable[Finding], codes: CodeFilter) -> list[Finding]:
    """Rule selection (--select, --ignore, per-file-ignores), applied here for every front end."""
    return [f for f in findings if codes.allows(f.code)]


def fix_text(text: str, findings: Iterable[Finding], unsafe_fixes: bool = False) -> FixResult | None:
    """One round of fix_source on findings already at hand (of this text): the text with their
    applicable fixes applied, not analysed again (``remaining`` is empty); None if none applies."""
    findings = tuple(findings)
    applied, skipped = chosen(findings, unsafe_fixes)
    if not applied:
        return None
    new_text = apply_edits(text, [e for f in applied for e in f.edits])
    prove(text, new_text)
    return FixResult(findings, new_text, tuple(applied), tuple(skipped))


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


def fix_source_bytes(
    data: bytes, filename: str, settings: Settings, codes: CodeFilter = CodeFilter(), unsafe_fixes: bool = False
) -> tuple[bytes | None, FixResult]:
    """(new bytes or None, what the engine decided) for one file's bytes. A file that does not
    decode, parse or fit is its DEV900, and nothing changes."""
    findings = selected(analyze_bytes(data, filename, settings), codes)
    if not any(f.fixable for f in findings) or any(f.code == "DEV900" for f in findings):
        return None, FixResult(tuple(findings), None, (), (), tuple(findings))
    source = decode(data)
    result = fix_source(source.text, filename, settings, codes, unsafe_fixes=unsafe_fixes, findings=findings)
    if result.text is None:
        return None, result
    new_data = splice_bytes(data, source, result.text)
    return new_data, result


def splice_bytes(data: bytes, source: DecodedSource, new_text: str) -> bytes:
    """The file's bytes with only the changed text's bytes replaced.

    Re-encoding the whole text would also rewrite bytes the fix never touched where the
    encoding does not round-trip (cp932, big5, utf-7, iso2022_jp comments). The changed
    region is the span between the common prefix and suffix of the two texts. Raises
    UnsafeFixError when the spliced bytes do not decode to exactly the fixed text (a
    stateful encoding), so such a file is left alone rather than changed elsewhere.
    """
    bom = codecs.BOM_UTF8 if source.encoding == "utf-8-sig" else b""
    encoding = "utf-8" if bom else source.encoding
    old_text = source.text
    try:
        pieces, cursor = [data[: len(bom)]], len(bom)
        for begin, end, replacement in _changes(old_text, new_text):
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


def unified_diff(path: str, old: bytes, new: bytes) -> str:
    """A unified diff that ``patch`` and ``git apply`` accept.

    Lines are split at ``\n`` only, as those tools do (``str.splitlines`` would also
    split at form feeds and lone carriage returns), and a last line without a newline
    gets the ``\\ No newline at end of file`` marker instead of running into the next.
    """
    old_text, new_text = decode(old).text, decode(new).text
    pieces = []
    for line in difflib.unified_diff(_DIFF_LINE.findall(old_text), _DIFF_LINE.findall(new_text), path, path):
        pieces.append(line)
        if not line.endswith("\n"):
            pieces.append("\n\\ No newline at end of file\n")
    return "".join(pieces)


class FileChanged(OSError):
    """The file changed on disk between devicelint's read and its write: the fix is dropped."""


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done (main thread, POSIX): a write is whole
    and recorded, or not started, and its temporary file never outlives an interrupt."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def write_atomically(path: str, data: bytes, expected: bytes | None = None) -> None:
    """Replace the file's content in one rename: readers see the old or the new file, never half.

    The temporary file lives in the same directory (same filesystem) and gets the
    original's permission bits (and, where allowed, its owner and group) before the
    rename. A symbolic link is written through: its target is replaced, the link stays.
    A file without any write permission bit is read-only for everyone, root included
    (root passes ``os.access``, and the rename would silently replace the file).

    ``expected``: the content the fix was computed from. The file is read again just
    before the rename, and if it differs (an editor saved it meanwhile) nothing is written
    and FileChanged is raised: the user's edit wins.
    """
    path = os.path.realpath(path)
    status = os.stat(path)
    if not os.access(path, os.W_OK) or not status.st_mode & 0o222:
        raise PermissionError(13, "Permission denied (read-only file)", path)
    directory = os.path.dirname(path)
    with signals_deferred():
        temp = None
        try:
            fd, temp = tempfile.mkstemp(prefix=".devicelint-", suffix=".tmp", dir=directory)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.chown(temp, status.st_uid, status.st_gid)
            except OSError:
                pass  # not allowed (not root, not our group): the file is ours now, as with any rewrite
            os.chmod(temp, status.st_mode & 0o7777)
            if expected is not None and not _unchanged(path, status, expected):
                raise FileChanged(f"{path} changed on disk while it was being fixed; not written (run again)")
            os.replace(temp, path)
            temp = None
        finally:
            if temp is not None:
                try:
                    os.unlink(temp)
                except OSError:
                    pass


def _unchanged(path: str, before: os.stat_result, expected: bytes) -> bool:
    try:
        now = os.stat(path)
        if (now.st_size, now.st_mtime_ns, now.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino):
            return False
        with open(path, "rb") as handle:
            return handle.read(len(expected) + 1) == expected
    except OSError:
        return False
