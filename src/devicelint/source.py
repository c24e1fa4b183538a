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
import codecs
import gc
import io
import re
import sys
import tokenize
import warnings
from keyword import kwlist, softkwlist
from collections.abc import Iterable

from devicelint.catalogue import PLACEMENT_CALLEES
from devicelint.dataclass import dataclass
from devicelint.reading import Refused, read_regular_file, too_large  # noqa: F401 (re-exported)
from devicelint.sinks import SinkCatalog
from devicelint.vocabulary import WRONG_CASE_PATTERN, Vocabulary

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


# What str.splitlines splits on besides \r and \n (the tokenizer does not).
_OTHER_LINE_BREAKS = ("\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def split_lines(text: str) -> list[str]:
    """Lines as Python's tokenizer numbers them (``str.splitlines`` also splits on \\f)."""
    if not any(brk in text for brk in _OTHER_LINE_BREAKS):
        return text.splitlines(keepends=True)  # the same lines, several times faster
    return _LINE.findall(text)


@dataclass(frozen=True)
class DecodedSource:
    text: str
    encoding: str  # as tokenize detects it: "utf-8", "utf-8-sig" (BOM), "latin-1", ...


def decode(data: bytes) -> DecodedSource:
    """Decode Python source bytes by their BOM or PEP 263 coding cookie.

    Newlines are kept as they are (no universal-newline translation), so text
    offsets map back to the file's own bytes. A byte that does not decode raises
    UnicodeDecodeError at that byte, on the first two lines too (where tokenize only
    says "invalid or missing encoding declaration").
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "invalid or missing encoding declaration" in str(error):
            bom = 3 if data.startswith(codecs.BOM_UTF8) else 0
            try:
                data[bom:].decode("utf-8")
            except UnicodeDecodeError as bad:
                raise UnicodeDecodeError("utf-8", data, bom + bad.start, bom + bad.end, bad.reason) from None
        raise
    return DecodedSource(data.decode(encoding), encoding)


def ascii_transparent(encoding: str) -> bool:
    """Whether every ASCII character of the text is the same byte in the file (so the byte
    pre-scan sees the quotes and letters it looks for). Not so for utf-16, utf-7, EBCDIC..."""
    name = codecs.lookup(encoding).name
    return name in ("utf-8", "utf-8-sig", "ascii", "latin-1", "iso8859-1", "cp1252") or name.startswith("iso8859-")


def parse(text: str, filename: str = "<unknown>") -> ast.Module:
    """ast.parse, with the SyntaxWarnings of odd escapes silenced (not ours to report).

    The cyclic garbage collector is paused meanwhile: the parse allocates a tree (no
    cycles) of up to millions of objects, and the collections that would otherwise run
    over them as they are made cost ~15% of the parse."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=filename)
    finally:
        if collecting:
            gc.enable()


# Right after these, a string literal is a sink's device argument (after ' -> ").
_DIRECT_SINK_PREFIXES = (
    "device=", "device = ", "map_location=", "map_location = ", "device_type=",
    "device_type = ", "device(", ".cuda(", "autocast(", "Generator(",
)


def sink_prefixes(catalog: SinkCatalog) -> set[str]:
    """What a sink's string argument follows (before its '"'): the built-in prefixes and
    those of the user's extra sinks (``name(`` for a positional one, ``kw=`` for a keyword)."""
    prefixes = set(_DIRECT_SINK_PREFIXES)
    for spec in catalog.extra:
        if spec.position is not None:
            prefixes.add(spec.name.rsplit(".", 1)[-1] + "(")
        if spec.keyword is not None:
            prefixes.update((f"{spec.keyword}=", f"{spec.keyword} = "))
    return prefixes


class PreScan:
    """The byte scan that decides whether a file needs parsing at all."""

    def __init__(self, vocabulary: Vocabulary, catalog: SinkCatalog) -> None:
        prefixes = sink_prefixes(catalog)
        lookbehinds = "|".join(f'(?<={re.escape(p)}")' for p in sorted(prefixes))
        pattern = (
            rf'"(?:(?={_one_of(vocabulary.tracked_first_chars)})(?:{vocabulary.tracked_pattern})"'
            rf'|(?<={_one_of(p[-1] for p in prefixes)}")(?:{lookbehinds})(?!(?:{vocabulary.types_pattern})(?::[0-9]+)?")'
            rf'|(?<=\.to\(")(?={WRONG_CASE_PATTERN}"))'
        )
        # The pattern starts with a literal '"', which lets the regex engine skip
        # ahead with a fast search; single quotes are folded into double ones first.
        # At most quotes, one character class then rules out each group of alternatives
        # (what a tracked mistake starts with, what a sink prefix ends with): the same
        # matches, 40% faster than trying every alternative.
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
        lexer = _LineLexer(text)
        survivors = [start for start in matches if not _is_inert(text, folded, start, lexer)]
        if survivors:
            # The exact check last: it lexes the whole file.
            spans = _triple_quoted_spans(text, until=survivors[-1])  # (_in_triple_quoted reads no later span)
            survivors = [start for start in survivors if not _in_triple_quoted(spans, start)]
        return survivors


def _one_of(chars: Iterable[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(set(chars))) + "]"


# One left-to-right pass over comments and string literals, so that a quote character in
# a comment or inside a string (such as '"') is not taken for the start of triple-quoted
# text. At each position, in this order: a comment, triple-quoted text, a one-line
# string; a quote that starts none of them is one character. One match runs up to the
# end of the next triple-quoted literal: each lexeme before it is consumed atomically (a
# lookahead and a back-reference), so no other reading of it is ever tried, and the
# regex engine does the whole pass without a Python step per lexeme.
# (Unrolled loops: no per-character alternation, which would make this pass slow.)
_TRIPLE_QUOTED = (
    r'(?P<triple>"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*''')"
)
_OTHER_LEXEME = (
    r"""[^#"']+"""
    r"|#[^\r\n]*"
    r'|"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"'
    r"|'[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*'"
    r"""|["']"""
)
_UP_TO_TRIPLE_QUOTED = re.compile(rf"(?:(?=(?P<lexeme>{_OTHER_LEXEME}))(?P=lexeme))*?{_TRIPLE_QUOTED}", re.S)


def _triple_quoted_spans(text: str, until: int | None = None) -> list[tuple[int, int]]:
    """(start of the opening quotes, end) of every triple-quoted literal, in order; with
    ``until``, those that start after it may be left out."""
    spans, position, match = [], 0, _UP_TO_TRIPLE_QUOTED.match
    while (found := match(text, position)) is not None:
        span = found.span("triple")
        if until is not None and span[0] > until:
            break
        spans.append(span)
        position = found.end()
    return spans


def _in_triple_quoted(spans: list[tuple[int, int]], start: int) -> bool:
    """Inside a docstring or other triple-quoted text (but not a triple-quoted "auto" itself)."""
    index = bisect.bisect_right(spans, (start, sys.maxsize)) - 1
    return index >= 0 and start < spans[index][1] and spans[index][0] != start - 2


_SUBSCRIPTED_END = re.compile(r"(?:\)|\]|(\w+))\Z")
# Before "[", these start a list display, not a subscript: for d in ["gpu"], return ["gpu"].
_KEYWORDS = frozenset(kwlist) | frozenset(softkwlist)


def _is_subscripted(text: str) -> bool:
    """Whether ``text`` ends with what a subscript follows: a name (not a keyword), ")" or "]"."""
    found = _SUBSCRIPTED_END.search(text)
    return found is not None and found[1] not in _KEYWORDS


# ``in`` or ``not in`` right after a literal: comparisons bind tighter than anything else a
# literal can end (a conditional, a tuple, a lambda, not/and/or), so the literal is (the end
# of) the element tested, never the container, whose strings would refine a subject.
_MEMBERSHIP_TEST = re.compile(r"[ \t]*(?:not[ \t]+)?in(?!\w)")


class _LineLexer:
    """Whether a position lies inside a string or a comment of its line, for positions in
    increasing order: one left-to-right scan per line, resumed where the last question
    stopped, so a line with thousands of candidates costs one pass (not one per candidate).

    Enough for single-line strings and comments (triple-quoted text spanning lines is
    handled by the caller).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_start = 0
        self.position = 0  # scanned up to here
        self.quote = ""  # the open string's quotes, if any
        self.comment = False

    def line_start_of(self, start: int) -> int:
        # Lines end at "\n", "\r\n" or a lone "\r", as the tokenizer reads them; only the
        # text since the last question is searched.
        found = max(self.text.rfind("\n", self.position, start), self.text.rfind("\r", self.position, start))
        if found >= 0:
            self.line_start = self.position = found + 1
            self.quote, self.comment = "", False
        return self.line_start

    def inside(self, start: int) -> bool:
        """Whether ``start`` is inside a string or comment, reading the line only up to
        ``start`` (a quote right before it is not taken for the start of triple quotes)."""
        self.line_start_of(start)
        text, i, quote, comment = self.text, self.position, self.quote, self.comment
        resume = None  # the state before the last two characters, where look-aheads are cut short
        while i < start and not comment:
            if resume is None and i + 3 > start:
                resume = (i, quote)
            char = text[i]
            if quote:
                if char == "\\":
                    i += 1
                elif text.startswith(quote, i, start):
                    i += len(quote) - 1
                    quote = ""
            elif char == "#":
                comment = True
            elif char in "\"'":
                quote = text[i : min(i + 3, start)] if text[i : min(i + 3, start)] in ('"""', "'''") else char
                i += len(quote) - 1
            i += 1
        inside = comment or bool(quote)
        if comment:
            self.comment, self.position = True, max(i, self.position)
        elif resume is not None:
            self.position, self.quote = resume
        else:
            self.position, self.quote = max(i, self.position), quote
        return inside


def _is_inert(text: str, folded: str, start: int, lexer: _LineLexer) -> bool:
    """True when the string literal opening at ``start`` can never carry a value to a sink.

    A cheap look at the characters around the literal (quotes folded to '"'). Each
    context listed here is one the analysis ignores anyway, so skipping it changes
    no result; a wrong guess (a '#' inside a string) only costs a parse.
    """
    if lexer.inside(start):
        return True  # inside another string (an f-string's text) or a comment
    if start > lexer.line_start and text[start - 1] in "fFbB":
        return True  # f-string or bytes: never a plain str constant
    end = folded.find('"', start + 1)
    if end < 0:
        return True
    after = folded[end + 1 : end + 3].lstrip(" ")[:1]
    before_text = folded[max(0, start - 40) : start].rstrip()
    before = before_text[-1:]
    if after in ("+", "%", ".") or before in ("+", "%"):
        return True  # an operand or a method receiver: the result is not followed
    if _MEMBERSHIP_TEST.match(folded, end + 1):
        return True  # the element of a membership test ("gpu" in name): a bool comes of it, and no refinement
    if after == ":" and folded[end + 1 : end + 3].lstrip(" ")[1:2] != "=" and before in ("{", ","):
        return True  # a dict key
    if before == "[" and after == "]" and _is_subscripted(before_text[:-1].rstrip()):
        return True  # a subscript key: cfg["gpu"]
    for keyword in ("device_map=", "device_map ="):
        if before_text.endswith(keyword):
            # A keyword argument (after "(" or ",") of a library call that places a model:
            # what device_map= receives there is fine. A parameter's default, a keyword of
            # another call (a project function may move it) and a variable that happens to
            # be called device_map are judged by where they go.
            if not before_text[: -len(keyword)].rstrip().endswith(("(", ",")):
                return False
            callee = _enclosing_callee(folded, folded.rfind("device_map", 0, start))
            return callee in PLACEMENT_CALLEES and f"def {callee}" not in text
    return False


_CALLEE = re.compile(r"(?<![\w.])(def[ \t]+)?(?:\w+[ \t]*\.[ \t]*)*(\w+)[ \t]*\Z")


def _enclosing_callee(folded: str, position: int) -> str | None:
    """The name called by the parentheses around ``position`` (``from_pretrained`` for
    ``AutoModel.from_pretrained(p, device_map=``); None for a definition's parameters, or
    where the scan cannot tell (strings skipped from quote to quote; 4,000 characters)."""
    depth, i, limit = 0, position - 1, max(0, position - 4000)
    while i >= limit:
        char = folded[i]
        if char == '"':
            i = folded.rfind('"', limit, i) - 1
            if i < limit - 1:
                return None
            continue
        if char in ")]}":
            depth += 1
        elif char in "([{":
            if depth == 0:
                if char != "(":
                    return None
                found = _CALLEE.search(folded, max(0, i - 200), i)
                return found[2] if found is not None and not found[1] else None
            depth -= 1
        i -= 1
    return None
