"""The one analysis engine: source in, findings out. Every front end calls this.

    bytes --PreScan--> (most files stop here)
          --decode/parse--> ast.Module
          --follow.Follower (this module, and the project modules it needs)--> flows
          --rules--> findings --noqa--> what is reported
"""

from __future__ import annotations

import ast
import bisect
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from devicelint import noqa, rules
from devicelint.findings import Finding
from devicelint.follow import Follower
from devicelint.project import Project
from devicelint.sinks import DEFAULT_CATALOG, SinkCatalog, SinkSpec
from devicelint.source import PreScan, decode, parse, split_lines
from devicelint.vocabulary import DEFAULT_VOCABULARY, Vocabulary, vocabulary_for


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
) -> list[Finding]:
    """All findings of a parsed module, before noqa.

    ``path`` places the module in its project, so that values are followed into the
    modules it imports and out to the modules that import it; a name in angle brackets
    (``<stdin>``) stands alone. ``candidate_lines`` (from the pre-scan) narrows the
    run to the scopes a flow can start from; None runs the whole module.
    """
    project = project if project is not None else SHARED_PROJECT
    module = project.module_at(path, "".join(lines), tree)
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
) -> list[Finding]:
    """Findings for Python source text. Raises SyntaxError if it does not parse."""
    offsets = settings.prescan.candidates(text)
    if not offsets:
        return []
    lines = split_lines(text)
    starts = list(itertools.accumulate((len(line) for line in lines), initial=0))
    candidate_lines = {bisect.bisect_right(starts, offset) for offset in offsets}
    tree = tree if tree is not None else parse(text, filename)
    findings = analyze_tree(tree, lines, settings, path=filename, candidate_lines=candidate_lines)
    return noqa.without_suppressed(findings, text, lines) if honour_noqa else findings


def syntax_error_finding(error: SyntaxError | UnicodeError | LookupError, data: bytes = b"") -> Finding:
    """DEV900 at the error: the parser's position, or the first bad byte."""
    if isinstance(error, SyntaxError):
        if error.lineno:
            line, column = error.lineno, max((error.offset or 1) - 1, 0)
        else:  # no position: a null byte, which the parser refuses outright
            line, column = _byte_position(data, max(data.find(b"\0"), 0))
        return Finding("DEV900", f"syntax error: {error.msg}", line, column, line, column)
    offset = error.start if isinstance(error, UnicodeDecodeError) else 0
    return Finding("DEV900", f"cannot decode source: {error}", *_byte_position(data, offset) * 2)


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """(1-based line, 0-based column) of a byte offset, columns in bytes."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start


def analyze_bytes(data: bytes, filename: str = "<unknown>", settings: Settings = DEFAULT_SETTINGS) -> list[Finding]:
    """Findings for a file's bytes; a file that does not decode or parse gives DEV900."""
    if not settings.prescan.matches_bytes(data):
        return []
    try:
        source = decode(data)
        return analyze_text(source.text, filename, settings)
    except (SyntaxError, UnicodeError, LookupError) as error:
        return [syntax_error_finding(error, data)]
    except ValueError as error:  # older Pythons: "source code string cannot contain null bytes"
        return [syntax_error_finding(SyntaxError(str(error)), data)]

