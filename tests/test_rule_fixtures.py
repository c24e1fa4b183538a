"""The rule fixtures: every case reports exactly what is written next to it.

Each file under fixtures/rules/ holds cases (one function or class each) with the
expected findings marked inline (``# expect: DEV001``) on the reported line, as in
flake8-bugbear's eval files. clean_*.py files must report nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import RULE_FIXTURES, expected_findings, expected_positions

from devicelint.analysis import DEFAULT_SETTINGS, analyze_text, analyze_tree
from devicelint.source import parse, split_lines

FIXTURES = sorted(RULE_FIXTURES.glob("*.py"))
CASE = re.compile(r"^(?:def case_|class Case)", re.MULTILINE)


def _describe(path: Path, found: set[tuple[int, int, str]]) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(f"  {code} {n}:{col}: {lines[n - 1].strip()}" for n, col, code in sorted(found))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_reports_exactly_the_marked_findings(path: Path) -> None:
    expected = expected_positions(path)
    got = {(f.line, f.column + 1, f.code) for f in analyze_text(path.read_text(encoding="utf-8"), str(path))}
    missing, unexpected = expected - got, got - expected
    assert not missing and not unexpected, (
        f"missing:\n{_describe(path, missing)}\nunexpected:\n{_describe(path, unexpected)}"
    )


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_prescan_filter_loses_nothing(path: Path) -> None:
    """The pre-scan's candidate filter (which lets most files skip the parse) drops nothing
    the analysis of the whole module reports."""
    text = path.read_text(encoding="utf-8")
    filtered = analyze_text(text, str(path), honour_noqa=False)
    whole = analyze_tree(parse(text), split_lines(text), DEFAULT_SETTINGS, path=str(path))
    assert [(f.line, f.column, f.code, f.message) for f in filtered] == [
        (f.line, f.column, f.code, f.message) for f in whole
    ]


def test_clean_files_carry_no_markers_and_report_nothing() -> None:
    clean = [p for p in FIXTURES if p.name.startswith("clean_")]
    assert clean
    for path in clean:
        assert not expected_findings(path), path.name
        assert analyze_text(path.read_text(encoding="utf-8")) == [], path.name


def test_enough_cases_of_each_kind() -> None:
    """At least 30 must-report findings per rule and 30 must-not-report cases."""
    markers = [code for p in FIXTURES for _, code in expected_findings(p)]
    assert markers.count("DEV001") >= 30
    assert markers.count("DEV002") >= 30
    clean_cases = sum(len(CASE.findall(p.read_text(encoding="utf-8"))) for p in FIXTURES if p.name.startswith("clean_"))
    assert clean_cases >= 30


def test_every_case_is_documented() -> None:
    """Each case is preceded by a comment saying what it tests (easy to add one)."""
    for path in FIXTURES:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if CASE.match(line):
                above = lines[number - 1].strip() if number else ""
                assert above.startswith(("#", "@")), f"{path.name}:{number + 1} has no comment"
