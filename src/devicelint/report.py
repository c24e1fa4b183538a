"""Findings -> what the user (or CI) reads: text, json, github, sarif, and --statistics.

Positions in findings are 1-based lines and 0-based character columns; every
format here shows 1-based columns, with end columns exclusive (as ruff and SARIF).
A finding in a notebook has its cell (1-based, counting every cell as Jupyter
shows them) and positions inside that cell.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence

from devicelint import __version__
from devicelint.dataclass import dataclass
from devicelint.findings import RULES, Finding


# Compiled on first use (re caches it): most names are printable, and the surrogate range
# makes it one of the costlier patterns to compile (1 ms).
UNSAFE_IN_NAMES = "[\x00-\x1f\x7f-\x9f\ud800-\udfff]"


def shown(path: str) -> str:
    """A file name as printed: control characters (a newline that would start a forged GitHub
    ``::error`` command, an ANSI escape) and bytes that are not UTF-8 (which Python keeps as
    lone surrogates) appear as escapes, so every format prints any name safely."""

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of the name (surrogateescape)
            return f"\\x{code - 0xDC00:02x}"
        return match.group().encode("unicode_escape").decode("ascii")

    if path.isprintable():  # no character of UNSAFE_IN_NAMES is printable: the usual name, as it is
        return path
    return re.sub(UNSAFE_IN_NAMES, escape, path)


@dataclass(frozen=True)
class Reported:
    """A finding with the file (and, in a notebook, the cell) it belongs to."""

    path: str
    finding: Finding
    cell: int | None = None
    related_cells: tuple[int | None, ...] = ()  # the cell of each of finding.related

    def related_cell(self, index: int) -> int | None:
        return self.related_cells[index] if index < len(self.related_cells) else self.cell

    @property
    def where(self) -> str:
        """``path:line:col`` or, in a notebook, ``path:cell N:line:col`` (ruff's spelling)."""
        f = self.finding
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{shown(self.path)}:{cell}{f.line}:{f.column + 1}"


@dataclass(frozen=True)
class RunError:
    """A file or folder the run could not read: reported on stderr (and in SARIF), exit 2."""

    path: str
    message: str


# --- text ----------------------------------------------------------------------------


def text(results: Sequence[Reported], errors: Sequence[RunError] = (), show_summary: bool = True) -> str:
    lines = []
    for item in results:
        f = item.finding
        marker = " [*]" if f.safe_fix else " [unsafe fix]" if f.unsafe_fix else ""
        lines.append(f"{item.where}: {f.code}{marker} {f.message}")
    if show_summary:
        lines.append(summary(results))
    return "\n".join(lines) + "\n" if lines else ""


def summary(results: Sequence[Reported]) -> str:
    if not results:
        return "All checks passed!"
    count = len(results)
    fixable = sum(1 for r in results if r.finding.safe_fix)
    unsafe = sum(1 for r in results if r.finding.unsafe_fix)
    noun = "problem" if count == 1 else "problems"
    line = f"Found {count} {noun}"
    if fixable:
        line += f" ({fixable} fixable with `devicelint fix`)"
    line += "."
    if unsafe:
        line += "\n" + unsafe_hint(unsafe)
    return line


def unsafe_hint(count: int) -> str:
    """The line that says how to apply the unsafe fixes a run left out (ruff's hint)."""
    return f"{count} {'fix' if count == 1 else 'fixes'} available with --unsafe-fixes"


# --- json -------------------------------------------------------------------------------


def _span(line: int, column: int, end_line: int, end_column: int) -> dict[str, int]:
    return {"line": line, "column": column + 1, "end_line": end_line, "end_column": end_column + 1}


def as_dict(item: Reported) -> dict[str, object]:
    from devicelint.ruledocs import doc_url

    f = item.finding
    return {
        "filename": item.path,
        "cell": item.cell,
        **_span(f.line, f.column, f.end_line, f.end_column),
        "code": f.code,
        "message": f.message,
        "url": doc_url(f.code),
        "fixable": f.fixable,
        "fix": None
        if not f.fixable
        else {
            "applicability": f.applicability,
            "note": f.fix_note,
            "edits": [
                {**_span(e.line, e.column, e.end_line, e.end_column), "replacement": e.replacement} for e in f.edits
            ],
        },
        "related": [
            {
                **_span(r.line, r.column, r.end_line, r.end_column),
                "cell": item.related_cell(i),
                "label": r.label,
                **({"filename": r.path} if r.path else {}),
            }
            for i, r in enumerate(f.related)
        ],
    }


def json_report(results: Sequence[Reported], errors: Sequence[RunError] = ()) -> str:
    return json.dumps([as_dict(r) for r in results], indent=2) + "\n"


# --- github -------------------------------------------------------------------------------
# Workflow commands: ::error file=F,line=L,...::MESSAGE. Escaping as @actions/core's
# command.ts: data escapes % CR LF; property values also ':' and ','.


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _command(properties: dict[str, object], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::error {props}::{escape_data(message)}"


def github(results: Sequence[Reported], errors: Sequence[RunError] = ()) -> str:
    """One annotation per finding. The file is absolute (the runner makes it relative to the
    repository, wherever devicelint ran). A notebook's annotation names the cell in its
    message and has no line: lines of the .ipynb's JSON would point at the wrong place."""
    lines = []
    for item in results:
        f = item.finding
        properties: dict[str, object] = {"file": shown(os.path.abspath(item.path))}
        if item.cell is None:
            properties.update(line=f.line, col=f.column + 1, endLine=f.end_line, endColumn=f.end_column + 1)
        properties["title"] = f"devicelint ({f.code})"
        lines.append(_command(properties, f"{item.where}: {f.code} {f.message}"))
    for error in errors:
        lines.append(_command({"file": shown(os.path.abspath(error.path)), "title": "devicelint"}, f"{shown(error.path)}: {error.message}"))
    return "".join(line + "\n" for line in lines)


# --- sarif ----------------------------------------------------------------------------------

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _artifact(path: str) -> dict[str, str]:
    """The file as a URI relative to the current directory (%SRCROOT%), or absolute when outside it."""
    import urllib.parse  # here and below: only SARIF needs them, and a text report's start-up would pay
    from pathlib import Path

    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    if relative.startswith(".."):
        return {"uri": Path(absolute).as_uri()}
    # Percent-encoded bytes: a name that is not UTF-8 is still a valid URI.
    return {"uri": urllib.parse.quote(os.fsencode(Path(relative).as_posix())), "uriBaseId": "%SRCROOT%"}


def _directory_uri(path: str) -> str:
    from pathlib import Path

    return Path(path).as_uri() + "/"


def _region(line: int, column: int, end_line: int, end_column: int) -> dict[str, int]:
    return {"startLine": line, "startColumn": column + 1, "endLine": end_line, "endColumn": end_column + 1}


def _sarif_rule(code: str) -> dict[str, object]:
    from devicelint.ruledocs import doc_url, rule_doc, what_it_does

    rule = RULES[code]
    doc = rule_doc(code)
    return {
        "id": code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": what_it_does(code) or rule.summary},
        "help": {"text": doc, "markdown": doc},
        "helpUri": doc_url(code),
        "defaultConfiguration": {"level": "error"},
        "properties": {"fixable": rule.fixable, "tags": ["correctness"]},
    }


def _sarif_result(item: Reported, rule_index: dict[str, int]) -> dict[str, object]:
    f = item.finding
    artifact = _artifact(item.path)
    in_cell = f"cell {item.cell}: " if item.cell is not None else ""
    result: dict[str, object] = {
        "ruleId": f.code,
        "ruleIndex": rule_index[f.code],
        "level": "error",
        "message": {"text": in_cell + f.message},
        "locations": [
            {"physicalLocation": {"artifactLocation": artifact, "region": _region(f.line, f.column, f.end_line, f.end_column)}}
        ],
    }
    related = []
    for i, r in enumerate(f.related):
        cell = item.related_cell(i)
        label = r.label + (f" (cell {cell})" if cell is not None else "")
        region = _region(r.line, r.column, r.end_line, r.end_column)
        where = _artifact(r.path) if r.path else artifact
        related.append(
            {"id": i, "physicalLocation": {"artifactLocation": where, "region": region}, "message": {"text": label}}
        )
    if related:
        result["relatedLocations"] = related
    if f.steps and item.cell is None:
        # The path of the value, across files where it crosses modules.
        result["codeFlows"] = [{"threadFlows": [{"locations": [
            {
                "location": {
                    "physicalLocation": {
                        "artifactLocation": _artifact(step.path) if step.path else artifact,
                        "region": _region(step.line, step.column, step.end_line, step.end_column),
                    },
                    "message": {"text": step.label},
                }
            }
            for step in f.steps
        ]}]}]
    properties: dict[str, object] = {"fixable": f.fixable}
    if f.fixable:
        properties["applicability"] = f.applicability
    if f.fix_note:
        properties["fixNote"] = f.fix_note
    if item.cell is not None:
        properties["cell"] = item.cell
    # A notebook's positions are inside a cell, not offsets into the .ipynb: no SARIF fix there.
    if f.fixable and item.cell is None:
        description = f.fix_note or ("Swap the two literals (devicelint fix)" if f.code == "DEV001" else "Correct the device string (devicelint fix)")
        replacements = [
            {"deletedRegion": _region(e.line, e.column, e.end_line, e.end_column), "insertedContent": {"text": e.replacement}}
            for e in f.edits
        ]
        result["fixes"] = [
            {"description": {"text": description}, "artifactChanges": [{"artifactLocation": artifact, "replacements": replacements}]}
        ]
    result["properties"] = properties
    return result


def sarif_log(results: Sequence[Reported], errors: Sequence[RunError] = ()) -> dict[str, object]:
    from devicelint.ruledocs import information_url

    codes = list(RULES)
    rule_index = {code: i for i, code in enumerate(codes)}
    invocation: dict[str, object] = {"executionSuccessful": not errors}
    if errors:
        invocation["toolExecutionNotifications"] = [
            {
                "level": "error",
                "message": {"text": f"{shown(error.path)}: {error.message}"},
                "locations": [{"physicalLocation": {"artifactLocation": _artifact(error.path)}}],
            }
            for error in errors
        ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "devicelint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": information_url(),
                        "rules": [_sarif_rule(code) for code in codes],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": _directory_uri(os.getcwd())}},
                "columnKind": "unicodeCodePoints",
                "invocations": [invocation],
                "results": [_sarif_result(item, rule_index) for item in results],
            }
        ],
    }


def sarif(results: Sequence[Reported], errors: Sequence[RunError] = ()) -> str:
    return json.dumps(sarif_log(results, errors), indent=2) + "\n"


FORMATS: dict[str, Callable[..., str]] = {"text": text, "json": json_report, "github": github, "sarif": sarif}


# --- --statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statistic:
    code: str
    count: int
    fixable: int


def statistics(results: Sequence[Reported]) -> list[Statistic]:
    """Counts per code, most frequent first (ruff's order)."""
    counts = Counter(r.finding.code for r in results)
    fixable = Counter(r.finding.code for r in results if r.finding.fixable)
    return [Statistic(code, n, fixable[code]) for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def statistics_text(results: Sequence[Reported], errors: Sequence[RunError] = ()) -> str:
    """flake8/ruff's --statistics: count, code, [*] when fixable, the rule's name; tab separated."""
    stats = statistics(results)
    if not stats:
        return ""
    count_width = max(len(str(s.count)) for s in stats)
    code_width = max(len(s.code) for s in stats)
    any_fixable = any(s.fixable for s in stats)
    lines = []
    for s in stats:
        marker = ("[*] " if s.fixable else "[ ] ") if any_fixable else ""
        lines.append(f"{s.count:>{count_width}}\t{s.code:<{code_width}}\t{marker}{RULES[s.code].name}")
    if any_fixable:
        lines.append("[*] fixable with `devicelint fix`")
    return "\n".join(lines) + "\n"


def statistics_json(results: Sequence[Reported], errors: Sequence[RunError] = ()) -> str:
    items = [{"code": s.code, "name": RULES[s.code].name, "count": s.count, "fixable": s.fixable} for s in statistics(results)]
    return json.dumps(items, indent=2) + "\n"


STATISTICS_FORMATS: dict[str, Callable[..., str]] = {"text": statistics_text, "json": statistics_json}
