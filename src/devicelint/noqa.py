"""``# noqa`` exactly as flake8 reads it, so the CLI, the fixer and flake8 agree.

flake8 searches the reported line for ``# noqa`` / ``# noqa: CODE,...`` (codes
match by prefix), and treats a line that is part of a multi-line token (a
triple-quoted string, a backslash continuation) as the whole token's lines.
A line matching ``# flake8: noqa`` (or ``# devicelint: noqa``) exempts the file.
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize
from collections.abc import Iterable

from devicelint.findings import Finding

# flake8.defaults.NOQA_INLINE_REGEXP and NOQA_FILE (flake8 7).
NOQA_INLINE = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
NOQA_FILE = re.compile(r"\s*# (?:flake8|devicelint)[:=]\s*noqa(?P<codes>:\s?\S)?", re.IGNORECASE)


def file_is_exempt(lines: list[str]) -> bool:
    """A blanket file-level ``# flake8: noqa`` (one with codes is ignored, as flake8 does)."""
    return any((m := NOQA_FILE.match(line)) is not None and not m.group("codes") for line in lines)


def _line_mapping(text: str, lines: list[str]) -> dict[int, str]:
    """flake8's FileProcessor._noqa_line_mapping: line -> text searched for noqa."""
    mapping: dict[int, str] = {}
    first, last = len(lines) + 2, -1
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first, last = min(first, tok.start[0]), max(last, tok.end[0])
            if tok.type in (tokenize.NL, tokenize.NEWLINE):
                joined = "".join(lines[first - 1 : last])
                for line in range(first, last + 1):
                    mapping[line] = joined
                first, last = len(lines) + 2, -1
    except (tokenize.TokenError, SyntaxError):
        return {}
    return mapping


def is_suppressed(code: str, noqa_text: str) -> bool:
    match = NOQA_INLINE.search(noqa_text)
    if match is None:
        return False
    codes = match.group("codes")
    if codes is None:
        return True
    listed = tuple(c for c in re.split(r"[,\s]+", codes.strip()) if c)
    return code in listed or code.startswith(listed)


def without_suppressed(
    findings: Iterable[Finding], text: str, lines: list[str], tree: ast.Module | None = None
) -> list[Finding]:
    """The findings no ``# noqa`` suppresses. With the module's ``tree``, only the top-level
    statements that hold a finding and mention noqa are tokenized (a line's noqa text never
    reaches beyond its top-level statement), not the whole file."""
    findings = list(findings)
    if not findings or "noqa" not in text.lower():
        return findings
    if file_is_exempt(lines):
        return []
    if tree is None:
        mapping = _line_mapping(text, lines)
    else:
        mapping = _statement_mapping(lines, tree, {f.line for f in findings})
    return [
        f
        for f in findings
        if not is_suppressed(f.code, mapping.get(f.line, lines[f.line - 1] if f.line <= len(lines) else ""))
    ]


def _statement_mapping(lines: list[str], tree: ast.Module, wanted: set[int]) -> dict[int, str]:
    """``_line_mapping`` for the lines in ``wanted``, tokenizing only their top-level statements."""
    spans = [(min([s.lineno, *(d.lineno for d in getattr(s, "decorator_list", ()))]), s.end_lineno or s.lineno) for s in tree.body]
    starts = [first for first, _ in spans]
    mapping: dict[int, str] = {}
    done: set[int] = set()
    for line in sorted(wanted):
        index = bisect.bisect_right(starts, line) - 1
        if index < 0 or line > spans[index][1] or index in done:
            continue  # outside every statement: its own line is its noqa text
        done.add(index)
        first, last = spans[index]
        fragment = lines[first - 1 : last]
        if not any("noqa" in part.lower() for part in fragment):
            continue
        text = "".join(fragment)
        if not text.endswith(("\n", "\r")):
            text += "\n"
        inner = _line_mapping(text, fragment)
        if not inner:  # did not tokenize alone: the whole file, as flake8 reads it
            return _line_mapping("".join(lines), lines)
        mapping.update({first - 1 + number: joined for number, joined in inner.items()})
    return mapping
