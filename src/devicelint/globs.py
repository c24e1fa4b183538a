"""File patterns for ``exclude`` and ``per-file-ignores``, with ruff's semantics.

A pattern matches a path when it matches the path's file name (``build``,
``__init__.py``, ``test_*.py``) or, anchored at the project root (the directory
of the pyproject.toml that set it, or the current directory for command-line
flags), the path's absolute form (``src/legacy``, ``tests/*``). As in ruff
(globset's defaults), ``*`` also matches ``/``. A leading ``!`` negates a
per-file-ignores pattern: the codes apply to every file it does *not* match.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PathPattern:
    pattern: str  # as the user wrote it
    basename: re.Pattern[str]
    absolute: re.Pattern[str]
    negated: bool = False

    @classmethod
    def compile(cls, pattern: str, root: str) -> PathPattern:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        anchored = os.path.normpath(os.path.join(root, body.rstrip("/") or body))
        return cls(
            pattern,
            re.compile(fnmatch.translate(body.rstrip("/") or body)),
            re.compile(fnmatch.translate(anchored)),
            negated,
        )

    def matches(self, absolute_path: str) -> bool:
        """Whether the (normalised, absolute) path matches, before negation."""
        name = os.path.basename(absolute_path)
        return self.basename.match(name) is not None or self.absolute.match(absolute_path) is not None


@dataclass(frozen=True)
class PatternSet:
    patterns: tuple[PathPattern, ...] = ()
    # All patterns in one regular expression each for names and absolute paths: a walk
    # tests every entry, and one search beats thirty.
    _names: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)
    _paths: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.patterns:
            object.__setattr__(self, "_names", re.compile("|".join(p.basename.pattern for p in self.patterns)))
            object.__setattr__(self, "_paths", re.compile("|".join(p.absolute.pattern for p in self.patterns)))

    @classmethod
    def compile(cls, patterns: tuple[str, ...] | list[str], root: str) -> PatternSet:
        return cls(tuple(PathPattern.compile(p, root) for p in patterns))

    def __add__(self, other: PatternSet) -> PatternSet:
        return PatternSet(self.patterns + other.patterns)

    def matches(self, absolute_path: str) -> bool:
        if self._names is None or self._paths is None:
            return False
        return (
            self._names.match(os.path.basename(absolute_path)) is not None
            or self._paths.match(absolute_path) is not None
        )


def absolute(path: str | os.PathLike[str]) -> str:
    return os.path.normpath(os.path.abspath(path))
