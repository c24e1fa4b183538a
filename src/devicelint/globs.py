"""File patterns for ``exclude`` and ``per-file-ignores``, with ruff's semantics.

A pattern matches a path when it matches the path's file name (``build``,
``__init__.py``, ``test_*.py``) or, anchored at the project root (the directory
of the pyproject.toml that set it, or the current directory for command-line
flags), the path's absolute form (``src/legacy``, ``tests/*``). As in ruff
(globset's defaults), ``*`` also matches ``/``. A leading ``!`` negates a
per-file-ignores pattern: the codes apply to every file it does *not* match.

Patterns are translated and compiled on first use, not when read: a run on the
files pre-commit names never tests the 28 default excludes, and compiling them
would be a tenth of its start-up.
"""

from __future__ import annotations

import fnmatch
import os
import re
from functools import cached_property

from devicelint.dataclass import dataclass


@dataclass(frozen=True)
class PathPattern:
    pattern: str  # as the user wrote it
    root: str  # what it is anchored at

    @property
    def negated(self) -> bool:
        return self.pattern.startswith("!")

    @cached_property
    def sources(self) -> tuple[str, str]:
        """The regular expressions (as text) for the file name and for the absolute path."""
        body = self.pattern[1:] if self.negated else self.pattern
        body = body.rstrip("/") or body
        return fnmatch.translate(body), fnmatch.translate(os.path.normpath(os.path.join(self.root, body)))

    @cached_property
    def _compiled(self) -> tuple[re.Pattern[str], re.Pattern[str]]:
        name, path = self.sources
        return re.compile(name), re.compile(path)

    def matches(self, absolute_path: str) -> bool:
        """Whether the (normalised, absolute) path matches, before negation."""
        name, path = self._compiled
        return name.match(os.path.basename(absolute_path)) is not None or path.match(absolute_path) is not None


@dataclass(frozen=True)
class PatternSet:
    patterns: tuple[PathPattern, ...] = ()

    @classmethod
    def of(cls, patterns: tuple[str, ...] | list[str], root: str) -> PatternSet:
        return cls(tuple(PathPattern(p, root) for p in patterns))

    def __add__(self, other: PatternSet) -> PatternSet:
        return PatternSet(self.patterns + other.patterns)

    @cached_property
    def _compiled(self) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
        # All patterns in one regular expression each for names and absolute paths: a walk
        # tests every entry, and one search beats thirty.
        if not self.patterns:
            return None
        sources = [p.sources for p in self.patterns]
        return re.compile("|".join(s[0] for s in sources)), re.compile("|".join(s[1] for s in sources))

    def matches(self, absolute_path: str) -> bool:
        compiled = self._compiled
        if compiled is None:
            return False
        names, paths = compiled
        return names.match(os.path.basename(absolute_path)) is not None or paths.match(absolute_path) is not None


def absolute(path: str | os.PathLike[str]) -> str:
    return os.path.normpath(os.path.abspath(path))
