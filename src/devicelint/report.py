"""Findings -> what the user reads: text (the default) and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from devicelint.findings import Finding


@dataclass(frozen=True)
class Reported:
    """A finding with the file it belongs to."""

    path: str
    finding: Finding


def text(results: Sequence[Reported], show_summary: bool = True) -> str:
    lines = []
    for item in results:
        f = item.finding
        marker = " [*]" if f.fixable else ""
        lines.append(f"{item.path}:{f.line}:{f.column + 1}: {f.code}{marker} {f.message}")
    if show_summary:
        lines.append(summary(results))
    return "\n".join(lines) + "\n" if lines else ""


def summary(results: Sequence[Reported]) -> str:
    if not results:
        return "All checks passed!"
    count = len(results)
    fixable = sum(1 for r in results if r.finding.fixable)
    noun = "problem" if count == 1 else "problems"
    line = f"Found {count} {noun}"
    if fixable:
        line += f" ({fixable} fixable with `devicelint fix`)"
    return line + "."


def as_dict(item: Reported) -> dict[str, object]:
    f = item.finding
    return {
        "filename": item.path,
        "line": f.line,
        "column": f.column + 1,
        "end_line": f.end_line,
        "end_column": f.end_column + 1,
        "code": f.code,
        "message": f.message,
        "fixable": f.fixable,
        "fix": None
        if not f.fixable
        else {
            "note": f.fix_note,
            "edits": [
                {
                    "line": e.line,
                    "column": e.column + 1,
                    "end_line": e.end_line,
                    "end_column": e.end_column + 1,
                    "replacement": e.replacement,
                }
                for e in f.edits
            ],
        },
        "related": [
            {"line": r.line, "column": r.column + 1, "end_line": r.end_line, "end_column": r.end_column + 1, "label": r.label}
            for r in f.related
        ],
    }


def json_report(results: Sequence[Reported]) -> str:
    return json.dumps([as_dict(r) for r in results], indent=2) + "\n"


FORMATS = {"text": text, "json": json_report}
