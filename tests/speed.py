"""The quick run and the full run.

Plain ``pytest`` is the quick run: every test whose assertion is about behaviour, with
property tests at a fraction of their examples, in well under a minute. ``pytest --slow``
(what ``.ci/run`` does) adds the tests marked ``slow`` (hypothesmith fuzzing, the sweeps over
installed packages, pre-commit hook environments, fresh virtual environments) and runs
every property test with its full example count. conftest.py sets ``FULL`` from the flag
before any test module is imported.
"""

from __future__ import annotations

FULL = False

# Property tests run this share of their examples in the quick run (at least QUICK_MIN).
QUICK_SHARE = 0.05
QUICK_MIN = 10


def examples(full: int) -> int:
    """``full`` examples in the full run, a twentieth of them (at least 10) in the quick run."""
    return full if FULL else max(QUICK_MIN, min(full, round(full * QUICK_SHARE)))
