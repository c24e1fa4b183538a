"""The reference tools need the ``reference`` extra; without it they say so in one line.

The linter installs without torch. ``python -m devicelint.reference.qwen2_audio`` (even with
``--help``) and ``python -m devicelint.reference.tiny`` then print one line naming the extra
and exit 2, instead of a ``ModuleNotFoundError`` traceback. Only the standard library here.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Iterable

EXIT_USAGE = 2
INSTALL = "pip install 'devicelint[reference]' (from a checkout: pip install -e '.[reference]')"


def missing(modules: Iterable[str]) -> list[str]:
    """The modules of ``modules`` that cannot be imported here."""
    absent = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            absent.append(name)
    return absent


def require(prog: str, modules: Iterable[str]) -> None:
    """Exit 2 with one line on stderr unless every module of ``modules`` is installed."""
    absent = missing(modules)
    if absent:
        print(
            f"{prog}: error: needs the 'reference' extra ({', '.join(absent)} not installed): {INSTALL}",
            file=sys.stderr,
        )
        sys.exit(EXIT_USAGE)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``PROG: error: MESSAGE (see --help)``), exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {' '.join(message.split())} (see --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)
