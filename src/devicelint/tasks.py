"""The per-file tasks of ``devicelint check`` and ``fix``: read, analyse or fix, write.

The file handling (reading, the atomic write, the one-line errors) lives here once;
what a file's bytes mean is the engine's business: ``.ipynb`` files go to
notebooks.py, everything else to analysis.analyze_bytes / rewrite.fix_source_bytes.
A task is a small picklable object: runner.py sends it to each worker once, then
only paths travel.
"""

from __future__ import annotations

from dataclasses import dataclass

from devicelint.analysis import Settings, analyze_bytes
from devicelint.config import FileRules
from devicelint.notebooks import check_notebook_bytes, fix_notebook_bytes, is_notebook
from devicelint.report import Reported
from devicelint.rewrite import UnsafeFixError, fix_source_bytes, unified_diff, write_atomically


@dataclass(frozen=True)
class Outcome:
    """What one file gave."""

    path: str
    findings: tuple[Reported, ...] = ()  # check: what is reported; fix: what is left after fixing
    fixed: tuple[Reported, ...] = ()  # fix: what the fix removed (positions before the fix)
    changed: bool = False  # fix: the content differs (written unless a dry run)
    diff: str = ""
    data: bytes | None = None  # fix of standard input: the content to print (new, or as it was)
    error: str | None = None  # the file could not be read (or written)


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _cannot(action: str, error: OSError) -> str:
    return f"cannot {action}: {error.strerror or error}"


@dataclass(frozen=True)
class CheckTask:
    settings: Settings
    rules: FileRules

    def __call__(self, path: str) -> Outcome:
        try:
            data = _read(path)
        except OSError as error:
            return Outcome(path, error=_cannot("read", error))
        return self.on_bytes(data, path)

    def on_bytes(self, data: bytes, name: str) -> Outcome:
        """Check content reported as ``name`` (a file's, or standard input's)."""
        codes = self.rules.codes_for(name)
        if is_notebook(name):
            return Outcome(name, tuple(check_notebook_bytes(data, name, self.settings, codes)))
        return Outcome(name, tuple(Reported(name, f) for f in analyze_bytes(data, name, self.settings) if codes.allows(f.code)))


@dataclass(frozen=True)
class _Fixed:
    data: bytes | None  # the new content; None when nothing changes
    fixed: tuple[Reported, ...]
    remaining: tuple[Reported, ...]
    diff: str


@dataclass(frozen=True)
class FixTask:
    settings: Settings
    rules: FileRules
    write: bool = True
    want_diff: bool = False

    def _fix(self, data: bytes, name: str) -> _Fixed:
        """The fixed content; raises UnsafeFixError when a fix cannot be applied exactly."""
        codes = self.rules.codes_for(name)
        if is_notebook(name):
            result = fix_notebook_bytes(data, name, self.settings, codes, self.want_diff)
            return _Fixed(result.data, result.fixed, result.remaining, result.diff)
        new_data, fixed, remaining = fix_source_bytes(data, name, self.settings, codes)
        changed = new_data is not None and new_data != data
        return _Fixed(
            new_data,
            tuple(Reported(name, f) for f in fixed),
            tuple(Reported(name, f) for f in remaining),
            unified_diff(name, data, new_data) if changed and self.want_diff else "",  # type: ignore[arg-type]
        )

    def __call__(self, path: str) -> Outcome:
        try:
            data = _read(path)
        except OSError as error:
            return Outcome(path, error=_cannot("read", error))
        try:
            result = self._fix(data, path)
        except UnsafeFixError as error:
            return Outcome(path, error=f"not fixed: {error}")
        if result.data is None or result.data == data:
            return Outcome(path, result.remaining)  # never opened for writing
        if self.write:
            try:
                write_atomically(path, result.data)
            except OSError as error:
                return Outcome(path, result.fixed + result.remaining, error=_cannot("write", error))
        return Outcome(path, result.remaining, result.fixed, True, result.diff)

    def on_bytes(self, data: bytes, name: str) -> Outcome:
        """Fix content from standard input; the new content is in ``Outcome.data``, nothing is written."""
        try:
            result = self._fix(data, name)
        except UnsafeFixError as error:
            return Outcome(name, data=data, error=f"not fixed: {error}")
        if result.data is None or result.data == data:
            return Outcome(name, result.remaining, data=data)
        return Outcome(name, result.remaining, result.fixed, True, result.diff, result.data)
