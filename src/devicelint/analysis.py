"""The one analysis engine: source in, findings out. Every front end calls this.

    bytes --PreScan--> (most files stop here)
          --decode/parse--> ast.Module
          --rules.find_inverted_conditionals + flow.ModuleFlow--> flows
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
from devicelint.flow import ModuleFlow
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


def analyze_tree(
    tree: ast.Module, lines: list[str], settings: Settings = DEFAULT_SETTINGS, candidate_lines: set[int] | None = None
) -> list[Finding]:
    """All findings of a parsed module, before noqa.

    ``candidate_lines`` (from the pre-scan) narrows the analysis to the scopes
    around them; None analyses the whole module.
    """
    vocabulary = settings.vocabulary
    module = ModuleFlow(
        tree, vocabulary, settings.catalog, lambda node: rules.match_inverted_conditional(node, vocabulary), candidate_lines
    )
    module.run()
    conditionals = list(module.conditionals.values())
    flows = list(module.flows.values())
    positions = rules.Positions(lines)
    findings = rules.inverted_conditional_findings(
        conditionals, flows, module.device_map_uses.values(), vocabulary, positions
    )
    findings += rules.invalid_string_findings(flows, settings.vocabulary, positions)
    return sorted(findings, key=lambda f: f.sort_key)


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
    candidate_lines = _line_numbers(offsets, lines)
    findings = analyze_tree(tree if tree is not None else parse(text, filename), lines, settings, candidate_lines)
    return noqa.without_suppressed(findings, text, lines) if honour_noqa else findings


def _line_numbers(offsets: list[int], lines: list[str]) -> set[int]:
    starts = list(itertools.accumulate((len(line) for line in lines), initial=0))
    return {bisect.bisect_right(starts, offset) for offset in offsets}


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

