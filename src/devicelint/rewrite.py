"""Applies DEV001 fixes to source text, exactly: only the two literals change.

Every front end that rewrites (``devicelint fix``, the libcst codemod, notebooks)
goes through ``fix_text``, which also proves its own result: the module's AST
after the fix may differ from the one before only in the swapped literals.
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

from devicelint.analysis import Settings, analyze_bytes, analyze_text
from devicelint.findings import CodeFilter, Edit, Finding
from devicelint.source import DecodedSource, decode, parse, split_lines


class UnsafeFixError(RuntimeError):
    """A fix would have changed more than the literals it swaps (a devicelint bug)."""


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
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


@dataclass(frozen=True)
class FixResult:
    text: str
    fixed: tuple[Finding, ...]  # the findings whose edits were applied


def fix_text(text: str, findings: Iterable[Finding]) -> FixResult | None:
    """The text with every fixable finding's edits applied; None if nothing to fix."""
    fixable = tuple(f for f in findings if f.edits)
    if not fixable:
        return None
    edits = [e for f in fixable for e in f.edits]
    new_text = apply_edits(text, edits)
    if len(changed_strings(text, new_text)) != len(edits):
        raise UnsafeFixError("the fix did not change exactly the literals it swaps")
    return FixResult(new_text, fixable)


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


class _BlankStrings(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        if isinstance(node.value, str):
            node.value = ""
        return node


# --- bytes and files ---------------------------------------------------------------


def fix_source_bytes(
    data: bytes, filename: str, settings: Settings, codes: CodeFilter = CodeFilter()
) -> tuple[bytes | None, list[Finding], list[Finding]]:
    """(new bytes or None, fixed findings, remaining findings) for one file's bytes."""
    findings = [f for f in analyze_bytes(data, filename, settings) if codes.allows(f.code)]
    if not any(f.edits for f in findings):
        return None, [], findings
    source = decode(data)
    result = fix_text(source.text, findings)
    assert result is not None
    new_data = splice_bytes(data, source, [e for f in result.fixed for e in f.edits], result.text)
    # Analyse the result again: positions after the swap, and proof the fix holds.
    remaining = [f for f in analyze_text(result.text, filename, settings) if codes.allows(f.code)]
    return new_data, list(result.fixed), remaining


def splice_bytes(data: bytes, source: DecodedSource, edits: Iterable[Edit], new_text: str) -> bytes:
    """The file's bytes with only the edited literals' bytes replaced.

    Re-encoding the whole text would also rewrite bytes the fix never touched where the
    encoding does not round-trip (cp932, big5, utf-7, iso2022_jp comments). Raises
    UnsafeFixError when the spliced bytes do not decode to exactly the fixed text (a
    stateful encoding), so such a file is left alone rather than changed elsewhere.
    """
    bom = codecs.BOM_UTF8 if source.encoding == "utf-8-sig" else b""
    encoding = "utf-8" if bom else source.encoding
    lines = split_lines(source.text)
    starts = list(itertools.accumulate((len(line) for line in lines), initial=0))

    def byte_offset(line: int, column: int) -> int:
        return len(bom) + len(source.text[: starts[line - 1] + column].encode(encoding))

    pieces, cursor = [], 0
    try:
        for edit in sorted(edits, key=lambda e: (e.line, e.column)):
            begin, end = byte_offset(edit.line, edit.column), byte_offset(edit.end_line, edit.end_column)
            pieces += [data[cursor:begin], edit.replacement.encode(encoding)]
            cursor = end
        pieces.append(data[cursor:])
        new_data = b"".join(pieces)
        exact = decode(new_data).text == new_text
    except (UnicodeError, SyntaxError, LookupError):
        exact = False
    if not exact:
        raise UnsafeFixError(f"the fix cannot be written in the file's encoding ({source.encoding}) without changing other bytes")
    return new_data


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
