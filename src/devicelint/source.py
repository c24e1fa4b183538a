"""Bytes -> text -> tree, and the byte pre-scan that lets most files skip the parse.

Most Python files contain no device mistake at all. ``PreScan`` decides that from
the raw bytes with one regular-expression pass: it looks for a tracked mistake in
quotes ("auto", "gpu", ...) or a non-device string written right after a sink
(``device="``, ``torch.device("``). Only files it matches are decoded and parsed.
The scan may say yes when there is nothing to report (the parse then decides); it
must never say no to a file the analysis would report on.
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass

from devicelint.sinks import SinkCatalog
from devicelint.vocabulary import WRONG_CASE_PATTERN, Vocabulary

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines as Python's tokenizer numbers them (``str.splitlines`` also splits on \\f)."""
    return _LINE.findall(text)


@dataclass(frozen=True)
class DecodedSource:
    text: str
    encoding: str  # as tokenize detects it: "utf-8", "utf-8-sig" (BOM), "latin-1", ...


def decode(data: bytes) -> DecodedSource:
    """Decode Python source bytes by their BOM or PEP 263 coding cookie.

    Newlines are kept as they are (no universal-newline translation), so text
    offsets map back to the file's own bytes.
    """
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return DecodedSource(data.decode(encoding), encoding)


def parse(text: str, filename: str = "<unknown>") -> ast.Module:
    """ast.parse, with the SyntaxWarnings of odd escapes silenced (not ours to report)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, filename=filename)


# Right after these, a string literal is a sink's device argument (after ' -> ").
_DIRECT_SINK_PREFIXES = (
    "device=", "device = ", "map_location=", "map_location = ", "device_type=",
    "device_type = ", "device(", ".cuda(", "autocast(", "Generator(",
)


class PreScan:
    """The byte scan that decides whether a file needs parsing at all."""

    def __init__(self, vocabulary: Vocabulary, catalog: SinkCatalog) -> None:
        prefixes = set(_DIRECT_SINK_PREFIXES)
        for spec in catalog.extra:
            if spec.position is not None:
                prefixes.add(spec.name.rsplit(".", 1)[-1] + "(")
            if spec.keyword is not None:
                prefixes.update((f"{spec.keyword}=", f"{spec.keyword} = "))
        lookbehinds = "|".join(f'(?<={re.escape(p)}")' for p in sorted(prefixes))
        pattern = (
            rf'"(?:(?:{vocabulary.tracked_pattern})"'
            rf'|(?:{lookbehinds})(?!(?:{vocabulary.types_pattern})(?::[0-9]+)?")'
            rf'|(?<=\.to\(")(?={WRONG_CASE_PATTERN}"))'
        )
        # The pattern starts with a literal '"', which lets the regex engine skip
        # ahead with a fast search; single quotes are folded into double ones first.
        self._bytes = re.compile(pattern.encode())
        self._text = re.compile(pattern)

    def matches_bytes(self, data: bytes) -> bool:
        return self._bytes.search(data.replace(b"'", b'"')) is not None

    def matches_text(self, text: str) -> bool:
        return self._text.search(text.replace("'", '"')) is not None

    def candidates(self, text: str) -> list[int]:
        """Offsets in ``text`` of the candidate literals that can start a value.

        The matches of the scan, minus those whose surroundings show they can never
        become a value the analysis follows (see ``_is_inert``). Empty: nothing to
        analyse, so the file is not even parsed.
        """
        folded = text.replace("'", '"')
        matches = [m.start() for m in self._text.finditer(folded)]
        if not matches:
            return matches
        survivors = [start for start in matches if not _is_inert(text, folded, start)]
        if survivors:
            # The exact check last: it lexes the whole file.
            spans = _triple_quoted_spans(text)
            survivors = [start for start in survivors if not _in_triple_quoted(spans, start)]
        return survivors


# One left-to-right pass over comments and string literals, so that a quote character in
# a comment or inside a string (such as '"') is not taken for the start of triple-quoted
# text. Only the spans of the triple-quoted literals are kept.
# (Unrolled loops: no per-character alternation, which would make this pass slow.)
_LEXEMES = re.compile(
    r"#[^\r\n]*"
    r'|(?P<triple>"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*''')"
    r'|"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"'
    r"|'[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*'",
    re.S,
)


def _triple_quoted_spans(text: str) -> list[tuple[int, int]]:
    """(start of the opening quotes, end) of every triple-quoted literal, in order."""
    return [match.span("triple") for match in _LEXEMES.finditer(text) if match.group("triple")]


def _in_triple_quoted(spans: list[tuple[int, int]], start: int) -> bool:
    """Inside a docstring or other triple-quoted text (but not a triple-quoted "auto" itself)."""
    index = bisect.bisect_right(spans, (start, sys.maxsize)) - 1
    return index >= 0 and start < spans[index][1] and spans[index][0] != start - 2


_IDENTIFIER_END = re.compile(r"[\w)\]]\Z")


def _in_string_or_comment(head: str) -> bool:
    """Whether the end of a line's first part lies inside a string or a comment.

    A left-to-right scan of one line: enough for single-line strings and comments
    (triple-quoted text spanning lines is handled by the caller).
    """
    quote = ""
    i, n = 0, len(head)
    while i < n:
        char = head[i]
        if quote:
            if char == "\\":
                i += 1
            elif head.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif char == "#":
            return True
        elif char in "\"'":
            quote = head[i : i + 3] if head[i : i + 3] in ('"""', "'''") else char
            i += len(quote) - 1
        i += 1
    return bool(quote)


def _is_inert(text: str, folded: str, start: int) -> bool:
    """True when the string literal opening at ``start`` can never carry a value to a sink.

    A cheap look at the characters around the literal (quotes folded to '"'). Each
    context listed here is one the analysis ignores anyway, so skipping it changes
    no result; a wrong guess (a '#' inside a string) only costs a parse.
    """
    # Lines end at "\n", "\r\n" or a lone "\r", as the tokenizer reads them.
    line_start = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    head = text[line_start:start]
    if _in_string_or_comment(head):
        return True  # inside another string (an f-string's text) or a comment
    if head[-1:] in ("f", "F", "b", "B"):
        return True  # f-string or bytes: never a plain str constant
    end = folded.find('"', start + 1)
    if end < 0:
        return True
    after = folded[end + 1 : end + 3].lstrip(" ")[:1]
    before_text = folded[max(0, start - 40) : start].rstrip()
    before = before_text[-1:]
    if after in ("+", "%", ".") or before in ("+", "%"):
        return True  # an operand or a method receiver: the result is not followed
    if after == ":" and folded[end + 1 : end + 3].lstrip(" ")[1:2] != "=" and before in ("{", ","):
        return True  # a dict key
    if before == "[" and after == "]" and _IDENTIFIER_END.search(before_text[:-1].rstrip()):
        return True  # a subscript key: cfg["gpu"]
    for keyword in ("device_map=", "device_map ="):
        if before_text.endswith(keyword):
            # A keyword argument (after "(" or ","): what device_map= receives is fine. A
            # variable that happens to be called device_map is judged by where it goes.
            return before_text[: -len(keyword)].rstrip().endswith(("(", ","))
    return False
