"""``# noqa`` exactly as flake8 reads it, so the CLI, the fixer and flake8 agree.

flake8 searches the reported line for ``# noqa`` / ``# noqa: CODE,...`` (codes
match by prefix), and treats a line that is part of a multi-line token (a
triple-quoted string, a backslash continuation) as the whole token's lines.
A line matching ``# flake8: noqa`` (or ``# devicelint: noqa``) exempts the file.
"""

from __future__ import annotations

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


def without_suppressed(findings: Iterable[Finding], text: str, lines: list[str]) -> list[Finding]:
    findings = list(findings)
    if not findings or "noqa" not in text.lower():
        return findings
    if file_is_exempt(lines):
        return []
    mapping = _line_mapping(text, lines)
    return [
        f
        for f in findings
        if not is_suppressed(f.code, mapping.get(f.line, lines[f.line - 1] if f.line <= len(lines) else ""))
    ]
