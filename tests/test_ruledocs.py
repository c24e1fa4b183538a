"""Every rule doc keeps ruff's sections, and every example in it is checked against the engine:
its "bad" code reports the rule, its "Use instead" code does not, and where the rule has a
fix for the bad code, `devicelint fix` (with --unsafe-fixes) turns the one into the other."""

from __future__ import annotations

import re

import pytest

from devicelint.analysis import analyze_bytes
from devicelint.findings import RULES
from devicelint.rewrite import fix_source
from devicelint.ruledocs import SECTIONS, examples, rule_doc

PAIRS = [pytest.param(code, bad, good, id=f"{code}-{i}") for code in RULES for i, (bad, good) in enumerate(examples(code))]


@pytest.mark.parametrize("code", list(RULES))
def test_doc_has_ruffs_sections_in_order(code: str) -> None:
    titles = re.findall(r"^## (.+)$", rule_doc(code), re.M)
    assert titles == list(SECTIONS)
    assert rule_doc(code).startswith(f"# {code}: {RULES[code].name}\n")


@pytest.mark.parametrize("code", list(RULES))
def test_doc_has_an_example_with_its_correction(code: str) -> None:
    assert any(good is not None for _, good in examples(code))


@pytest.mark.parametrize(("code", "bad", "good"), PAIRS)
def test_doc_example(code: str, bad: str, good: str | None) -> None:
    found = analyze_bytes(bad.encode(), "example.py")
    assert code in {f.code for f in found}, found
    if good is None:
        return
    assert analyze_bytes(good.encode(), "example.py") == []
    if any(f.fixable for f in found if f.code == code):
        assert fix_source(bad, "example.py", unsafe_fixes=True).text == good
