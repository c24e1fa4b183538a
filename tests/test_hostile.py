"""Hostile input (issue 14): one bad file never costs the rest of the run, and nothing is
written where it must not be. Every test runs the real CLI / flake8 / libcst on real files."""

from __future__ import annotations

import json
import time

from helpers import devicelint

from devicelint.analysis import DEFAULT_SETTINGS


def test_prescan_is_linear_on_one_long_line() -> None:
    """8,000 "auto" strings on one line (64 KB) took 30 s: one lexing pass per candidate."""
    text = "x = [" + ", ".join(['"auto"'] * 8000) + "]\n"
    started = time.perf_counter()
    assert len(DEFAULT_SETTINGS.prescan.candidates(text)) == 8000
    assert time.perf_counter() - started < 1.0
