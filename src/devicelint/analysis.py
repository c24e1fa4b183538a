"""The one analysis engine: source in, findings out. Every front end calls this.

    bytes --PreScan--> (most files stop here)
          --decode/parse--> ast.Module
          --follow.Follower (this module, and the project modules it needs)--> flows
          --rules--> findings --noqa--> what is reported
"""

from __future__ import annotations

import ast
import bisect
import gc
import itertools
import re
import sys
import threading
from collections.abc import Callable, Iterable
from functools import cached_property

from devicelint import noqa, rules
from devicelint.dataclass import dataclass, field
from devicelint.findings import Finding
from devicelint.follow import Follower
from devicelint.project import Project
from devicelint.sinks import DEFAULT_CATALOG, SinkCatalog, SinkSpec
from devicelint.source import PreScan, ascii_transparent, decode, parse, split_lines, too_large
from devicelint.vocabulary import DEFAULT_VOCABULARY, Vocabulary, vocabulary_for

TYPE_CHECKING = False  # typing.TYPE_CHECKING (type checkers take it as true) without importing typing: 2-4 ms of start-up
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """What the analysis needs to know beyond the source: the user's extra devices and sinks."""

    vocabulary: Vocabulary = DEFAULT_VOCABULARY
    catalog: SinkCatalog = field(default=DEFAULT_CATALOG, compare=False)

    @classmethod
    def create(cls, extra_device_types: Iterable[str] = (), extra_sinks: Iterable[str | SinkSpec] = ()) -> Settings:
        specs = [s if isinstance(s, SinkSpec) else SinkSpec.parse(s) for s in extra_sinks]
        return cls(vocabulary_for(extra_device_types), SinkCatalog(specs) if specs else DEFAULT_CATALOG)

    @cached_property
    def prescan(self) -> PreScan:
        return PreScan(self.vocabulary, self.catalog)


DEFAULT_SETTINGS = Settings()

# The project modules this process has read, shared by the files it checks (each
# module is parsed at most once; the cache is bounded, see project.py).
SHARED_PROJECT = Project()


def analyze_tree(
    tree: ast.Module,
    lines: list[str],
    settings: Settings = DEFAULT_SETTINGS,
    *,
    path: str = "<unknown>",
    project: Project | None = None,
    candidate_lines: set[int] | None = None,
    text: str | None = None,
) -> list[Finding]:
    """All findings of a parsed module, before noqa.

    ``path`` places the module in its project, so that values are followed into the
    modules it imports and out to the modules that import it; a name in angle brackets
    (``<stdin>``) stands alone. ``candidate_lines`` (from the pre-scan) narrows the
    run to the scopes a flow can start from; None runs the whole module. ``text`` is
    ``"".join(lines)`` when the caller has it.
    """
    project = project if project is not None else SHARED_PROJECT
    module = project.module_at(path, "".join(lines) if text is None else text, tree, lines)
    try:
        follower = Follower(project, settings.vocabulary, settings.catalog)
        follower.follow(module, candidate_lines)
        here = rules.FileContext(path, rules.Positions(lines), project.lines_of)
        return rules.findings_for(
            tree, follower.flows.values(), follower.device_map_uses.values(), settings.vocabulary, here
        )
    finally:
        project.forget(module)


def analyze_text(
    text: str,
    filename: str = "<unknown>",
    settings: Settings = DEFAULT_SETTINGS,
    *,
    tree: ast.Module | None = None,
    honour_noqa: bool = True,
    offsets: list[int] | None = None,
) -> list[Finding]:
    """Findings for Python source text. Raises SyntaxError if it does not parse.
    ``offsets``: the pre-scan's candidates in ``text``, when the caller has them."""
    offsets = settings.prescan.candidates(text) if offsets is None else offsets
    if not offsets:
        return []
    lines = split_lines(text)
    starts = list(itertools.accumulate(map(len, lines), initial=0))
    candidate_lines = {bisect.bisect_right(starts, offset) for offset in offsets}
    tree = tree if tree is not None else parse(text, filename)
    findings = analyze_tree(tree, lines, settings, path=filename, candidate_lines=candidate_lines, text=text)
    return noqa.without_suppressed(findings, text, lines, tree) if honour_noqa else findings


# --- one file's failures: DEV900 ------------------------------------------------------------
# Everything below turns what can go wrong with one file (bytes that do not decode, a
# parse error, input too deep or too large to analyse) into that file's DEV900, so the
# run goes on.

# Source files (and a notebook's code) larger than this are not analysed: at worst the
# parse and the analysis hold ~200 bytes of memory per byte of source (under 1 GiB here).
MAX_SOURCE_BYTES = 4 * 2**20

# Input nested deeper than the default recursion limit (a 400-branch elif chain, a sum of
# 1,000 terms) is analysed once more on a thread with this limit and a stack that holds it;
# deeper than this, the file is DEV900.
DEEP_RECURSION_LIMIT = 30_000
_DEEP_STACK_BYTES = 1024 * 2**20  # reserved address space; pages are used only as deep as the recursion goes
_deep = threading.local()


class TooComplex(Exception):
    """One file's input is too deep or too large to analyse (becomes its DEV900)."""


def guarded(function: Callable[..., T], *args: object) -> T:
    """``function(*args)``; RecursionError and MemoryError become TooComplex.

    On RecursionError it runs once more on a thread with DEEP_RECURSION_LIMIT and a large
    stack, so deep but reasonable input is still analysed (with the same result).

    The cyclic garbage collector is paused meanwhile: a file's tree (often 100,000 objects
    or more, and no cycles) was traversed by every collection its own allocations set off
    (4-5% of a run over code dense with candidates); the few cycles an analysis leaves are
    collected after it."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _guarded(function, *args)
    finally:
        if collecting:
            gc.enable()


def _guarded(function: Callable[..., T], *args: object) -> T:
    try:
        return function(*args)
    except RecursionError as error:
        if getattr(_deep, "active", False):
            raise TooComplex(_reason(error)) from None
    except MemoryError as error:
        raise TooComplex(_reason(error)) from None
    return _on_deep_stack(function, *args)


def _reason(error: BaseException) -> str:
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return f"too deeply nested or too complex to analyse ({detail})"


def _on_deep_stack(function: Callable[..., T], *args: object) -> T:
    outcome: dict[str, object] = {}

    def target() -> None:
        _deep.active = True
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # handed to the calling thread
            outcome["error"] = error

    old_stack = threading.stack_size(_DEEP_STACK_BYTES)
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, DEEP_RECURSION_LIMIT))
    try:
        thread = threading.Thread(target=target, name="devicelint-deep", daemon=True)
        try:
            thread.start()
        except RuntimeError as error:  # no room for the stack (ulimit -v): the bound is reached
            raise TooComplex(_reason(RecursionError(str(error)))) from None
        thread.join()
    finally:
        sys.setrecursionlimit(old_limit)
        threading.stack_size(old_stack)
    error = outcome.get("error")
    if isinstance(error, (RecursionError, MemoryError)):
        raise TooComplex(_reason(error))
    if isinstance(error, BaseException):
        raise error
    return outcome["value"]  # type: ignore[return-value]


def dev900(message: str, line: int = 1, column: int = 0) -> Finding:
    """The one way a DEV900 is built (a file, or a notebook, that could not be analysed)."""
    return Finding("DEV900", message, line, column, line, column)


def refused_finding(reason: str) -> Finding:
    """DEV900 for a file that was not analysed at all (too large, too deep, not a regular file)."""
    return dev900(reason)


def syntax_error_finding(error: SyntaxError | UnicodeError | LookupError, data: bytes = b"") -> Finding:
    """DEV900 at the error: the parser's position, or the first bad byte."""
    if isinstance(error, SyntaxError):
        if error.lineno:
            line, column = error.lineno, max((error.offset or 1) - 1, 0)
        elif "encoding" in str(error):  # an unknown or conflicting coding cookie
            line, column = _cookie_line(data), 0
        else:  # no position: a null byte, which the parser refuses outright
            line, column = _byte_position(data, max(data.find(b"\0"), 0))
        return dev900(f"syntax error: {error.msg}", line, column)
    offset = error.start if isinstance(error, UnicodeDecodeError) else 0
    return dev900(f"cannot decode source: {error}", *_byte_position(data, offset))


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.M)


def _cookie_line(data: bytes) -> int:
    match = _COOKIE.search(data, 0, len(b"\n".join(data.split(b"\n", 2)[:2])))
    return data.count(b"\n", 0, match.start()) + 1 if match else 1


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """(1-based line, 0-based column) of a byte offset, columns in bytes."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start


def analyze_bytes(
    data: bytes, filename: str = "<unknown>", settings: Settings = DEFAULT_SETTINGS, *, honour_noqa: bool = True
) -> list[Finding]:
    """Findings for a file's bytes; a file that does not decode or parse, or that is too large
    or too deep to analyse, gives DEV900 (never an exception)."""
    if len(data) > MAX_SOURCE_BYTES:
        return [refused_finding(too_large(len(data), MAX_SOURCE_BYTES))]
    matched = settings.prescan.matches_bytes(data)
    if not matched and data.isascii():
        return []
    try:
        # Not ASCII: the file must decode (else DEV900, as Python cannot read it either).
        source = decode(data)
        if not matched and (
            ascii_transparent(source.encoding) or not settings.prescan.matches_text(source.text)
        ):
            return []  # decodes, and holds no candidate even as text (utf-16, utf-7, EBCDIC)
        return guarded(lambda: analyze_text(source.text, filename, settings, honour_noqa=honour_noqa))
    except (SyntaxError, UnicodeError, LookupError) as error:
        return [syntax_error_finding(error, data)]
    except ValueError as error:  # older Pythons: "source code string cannot contain null bytes"
        return [syntax_error_finding(SyntaxError(str(error)), data)]
    except TooComplex as error:
        return [refused_finding(str(error))]
