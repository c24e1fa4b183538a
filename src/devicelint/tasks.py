"""The per-file tasks of ``devicelint check`` and ``fix``, dispatched by suffix.

``.ipynb`` files go to notebooks.py, everything else to the engine's own file
functions (analysis.check_path, rewrite.fix_path). A task is a small picklable
object: runner.py sends it to each worker once, then only paths travel.
"""

from __future__ import annotations

from dataclasses import dataclass

from devicelint.analysis import Settings, analyze_bytes, check_path
from devicelint.config import FileRules
from devicelint.notebooks import check_notebook_bytes, fix_notebook_bytes, is_notebook
from devicelint.report import Reported
from devicelint.rewrite import (
    FileFix,
    UnsafeFixError,
    fix_path,
    fix_source_bytes,
    unified_diff,
    write_atomically,
)


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
        codes = self.rules.codes_for(path)
        if is_notebook(path):
            try:
                data = _read(path)
            except OSError as error:
                return Outcome(path, error=_cannot("read", error))
            return Outcome(path, tuple(check_notebook_bytes(data, path, self.settings, codes)))
        report = check_path(path, self.settings)
        findings = tuple(Reported(path, f) for f in report.findings if codes.allows(f.code))
        return Outcome(path, findings, error=report.error)

    def on_bytes(self, data: bytes, name: str) -> Outcome:
        """Check content that is not on disk (standard input), reported as ``name``."""
        codes = self.rules.codes_for(name)
        if is_notebook(name):
            return Outcome(name, tuple(check_notebook_bytes(data, name, self.settings, codes)))
        return Outcome(name, tuple(Reported(name, f) for f in analyze_bytes(data, name, self.settings) if codes.allows(f.code)))


def _from_file_fix(result: FileFix) -> Outcome:
    return Outcome(
        result.path,
        tuple(Reported(result.path, f) for f in result.remaining),
        tuple(Reported(result.path, f) for f in result.fixed),
        result.changed,
        result.diff,
        error=result.error,
    )


@dataclass(frozen=True)
class FixTask:
    settings: Settings
    rules: FileRules
    write: bool = True
    want_diff: bool = False

    def __call__(self, path: str) -> Outcome:
        codes = self.rules.codes_for(path)
        if not is_notebook(path):
            return _from_file_fix(fix_path(path, self.settings, codes, self.write, self.want_diff))
        try:
            data = _read(path)
        except OSError as error:
            return Outcome(path, error=_cannot("read", error))
        try:
            result = fix_notebook_bytes(data, path, self.settings, codes, self.want_diff)
        except UnsafeFixError as error:
            return Outcome(path, error=f"not fixed: {error}")
        if result.data is None or result.data == data:
            return Outcome(path, result.remaining)
        if self.write:
            try:
                write_atomically(path, result.data)
            except OSError as error:
                return Outcome(path, result.fixed + result.remaining, error=_cannot("write", error))
        return Outcome(path, result.remaining, result.fixed, True, result.diff)

    def on_bytes(self, data: bytes, name: str) -> Outcome:
        """Fix content from standard input; the new content is in ``Outcome.data``, nothing is written."""
        codes = self.rules.codes_for(name)
        try:
            if is_notebook(name):
                result = fix_notebook_bytes(data, name, self.settings, codes, self.want_diff)
                if result.data is None or result.data == data:
                    return Outcome(name, result.remaining, data=data)
                return Outcome(name, result.remaining, result.fixed, True, result.diff, result.data)
            new_data, fixed, remaining = fix_source_bytes(data, name, self.settings, codes)
        except UnsafeFixError as error:
            return Outcome(name, data=data, error=f"not fixed: {error}")
        if new_data is None or new_data == data:
            return Outcome(name, tuple(Reported(name, f) for f in remaining), data=data)
        diff = unified_diff(name, data, new_data) if self.want_diff else ""
        return Outcome(
            name,
            tuple(Reported(name, f) for f in remaining),
            tuple(Reported(name, f) for f in fixed),
            True,
            diff,
            new_data,
        )
