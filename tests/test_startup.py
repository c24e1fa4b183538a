"""What start-up trimming relies on (issue 16: one file in 0.1 s)."""

from __future__ import annotations

import re
import sys

import pytest

from devicelint.report import UNSAFE_IN_NAMES, shown


def test_a_printable_name_has_nothing_to_escape() -> None:
    # shown() returns a printable name as it is, without the regular expression: that is
    # right only if no printable character is one it escapes. Every code point is tried.
    unsafe = re.compile(UNSAFE_IN_NAMES)
    wrong = [hex(c) for c in range(sys.maxunicode + 1) if chr(c).isprintable() and unsafe.match(chr(c))]
    assert wrong == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pkg/mod.py", "pkg/mod.py"),
        ("caf\u00e9/\u00a0x.py", "caf\u00e9/\u00a0x.py"),  # not printable (a no-break space), nothing to escape
        ("a\nb.py", "a\\nb.py"),
        ("a\x1b[31m.py", "a\\x1b[31m.py"),
        ("a\x85.py", "a\\x85.py"),
        ("a\udcff.py", "a\\xff.py"),  # an undecodable byte
        ("a\ud800.py", "a\\ud800.py"),
    ],
)
def test_shown(name: str, expected: str) -> None:
    assert shown(name) == expected
