"""The per-file tasks of ``devicelint check`` and ``fix``: read, analyse or fix, write.

The file handling (reading, the atomic write, the one-line errors) lives here once;
what a file's bytes mean is the engine's business: ``.ipynb`` files go to
notebooks.py, everything else to analysis.analyze_bytes / rewrite.fix_source_bytes.
Rule selection is CodeFilter.selected's, here as everywhere. A task is a small
picklable object: runner.py sends it to each worker once, then only paths travel.

rewrite and notebooks are imported when first needed (a fix, a notebook): a check of
Python files, such as pre-commit's one file, does not pay for them. Nor does a check whose
every file comes from the persistent cache pay for the engine (analysis, source): it is
imported, and the analysis Settings made, only when a file is read.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from functools import cached_property

from devicelint.config import FileRules
from devicelint.dataclass import dataclass, replace
from devicelint.discover import NOTEBOOK_SUFFIX
from devicelint.findings import Finding
from devicelint.report import Reported
from devicelint.runner import run_all

TYPE_CHECKING = False  # typing.TYPE_CHECKING (type checkers take it as true) without importing typing: 2-4 ms of start-up
if TYPE_CHECKING:
    from devicelint.analysis import Settings
    from devicelint.cache import Record, ResultCache
    from devicelint.config import Config

# A notebook's JSON may carry large outputs (images); its code is held to MAX_SOURCE_BYTES.
MAX_NOTEBOOK_BYTES = 64 * 2**20

# Files written by this process, in order, recorded as each rename happens: after an
# interrupt the command can still say what it wrote (tasks.written).
written: list[str] = []


@dataclass(slots=True)  # not frozen: made for every file, and a frozen one costs six times as much
class Outcome:
    """What one file gave."""

    path: str
    findings: tuple[Reported, ...] = ()  # check: what is reported; fix: what is left after fixing
    fixed: tuple[Reported, ...] = ()  # fix: what the fix removed (positions before the fix)
    changed: bool = False  # fix: the content differs (written unless a dry run)
    diff: str = ""
    data: bytes | None = None  # fix of standard input: the content to print (new, or as it was)
    error: str | None = None  # the file could not be read (or written)
    skipped: tuple[Reported, ...] = ()  # fix: findings whose unsafe fix was not applied (no --unsafe-fixes)
    record: Record | None = None  # check with the persistent cache: what to store for this file


def is_notebook(path: str) -> bool:
    return path.endswith(NOTEBOOK_SUFFIX)


def _read(path: str) -> bytes:
    """Regular files only (never block on a FIFO or read /dev/zero), up to the size limit."""
    from devicelint.analysis import MAX_SOURCE_BYTES
    from devicelint.reading import read_regular_file

    return read_regular_file(path, MAX_NOTEBOOK_BYTES if is_notebook(path) else MAX_SOURCE_BYTES)


def _cannot(action: str, error: OSError) -> str:
    return f"cannot {action}: {error.strerror or error}"


def _refused(path: str, reason: str, rules: FileRules) -> tuple[Reported, ...]:
    """DEV900 for a file that was not analysed (too large, too deep, not a regular file), if selected."""
    from devicelint.analysis import refused_finding

    return tuple(Reported(path, f) for f in rules.codes_for(path).selected([refused_finding(reason)]))


@dataclass(frozen=True)
class CheckTask:
    settings: Settings | None  # None: made from ``config`` when first needed (not by a warm run)
    rules: FileRules
    record: bool = False  # hand back a cache Record (what the result depends on)
    config: Config | None = None

    @cached_property
    def analysis_settings(self) -> Settings:
        if self.settings is not None:
            return self.settings
        from devicelint.config import Config, settings_of

        return settings_of(self.config or Config())

    def __call__(self, path: str) -> Outcome:
        from devicelint.reading import Refused

        if self.record and not is_notebook(path):
            return self._recorded(path)
        try:
            data = _read(path)
        except Refused as refused:
            return Outcome(path, _refused(path, str(refused), self.rules))
        except OSError as error:
            return Outcome(path, error=_cannot("read", error))
        return self.on_bytes(data, path)

    def _recorded(self, path: str) -> Outcome:
        from devicelint.analysis import SHARED_PROJECT, analyze_bytes
        from devicelint.cache import Record
        from devicelint.project import content_digest
        from devicelint.reading import Refused

        recorded_at = time.time_ns()  # before the read: a later write shows as a change
        try:
            status = os.stat(path)
            data = _read(path)
        except Refused as refused:
            return Outcome(path, _refused(path, str(refused), self.rules))
        except OSError as error:
            return Outcome(path, error=_cannot("read", error))
        SHARED_PROJECT.recorded = {}
        try:
            findings = analyze_bytes(data, path, self.analysis_settings)
            dependencies = tuple(SHARED_PROJECT.recorded)
        finally:
            SHARED_PROJECT.recorded = None
        record = Record(
            os.path.abspath(path), status.st_mtime_ns, status.st_size, content_digest(data), recorded_at,
            dependencies, tuple(findings),
        )  # fmt: skip
        return replace(self.from_findings(path, findings), record=record)

    def from_findings(self, name: str, findings: list[Finding]) -> Outcome:
        """What a Python file reports, from all its findings (analysed, or from the cache)."""
        if not findings:
            return Outcome(name)
        return Outcome(name, tuple(Reported(name, f) for f in self.rules.codes_for(name).selected(findings)))

    def on_bytes(self, data: bytes, name: str) -> Outcome:
        """Check content reported as ``name`` (a file's, or standard input's)."""
        from devicelint.analysis import TooComplex, analyze_bytes

        if is_notebook(name):
            from devicelint.notebooks import check_notebook_bytes

            try:
                return Outcome(name, tuple(check_notebook_bytes(data, name, self.analysis_settings, self.rules.codes_for(name))))
            except TooComplex as error:
                return Outcome(name, _refused(name, str(error), self.rules))
        return self.from_findings(name, analyze_bytes(data, name, self.analysis_settings))


class CachedCheck:
    """``check`` with the persistent cache: the files whose entry holds come from it (looked
    up here, in the parent), only the others are analysed (by the pool), and their results
    are stored. Outcomes in the order of ``files``."""

    def __init__(
        self, task: CheckTask, files: list[str], jobs: int | None, cache: ResultCache, stats: dict[str, os.stat_result] | None = None
    ) -> None:
        self.files, self.cache, self.task = files, cache, task
        python = [path for path in files if not path.endswith(NOTEBOOK_SUFFIX)]  # is_notebook, without a call each
        found = cache.lookup_all(python, stats)
        if len(python) != len(files):  # notebooks are not cached: each a miss
            stored = dict(zip(python, found))
            found = [stored.get(path) for path in files]
        self.found = found  # what the cache holds for each file (None: a miss)
        misses = [path for path, findings in zip(files, found) if findings is None]
        if misses:  # the Settings made once here, not in each worker
            task = replace(task, settings=task.analysis_settings)
        self.results = run_all(replace(task, record=True), misses, jobs)

    def __iter__(self) -> Iterator[Outcome]:
        """The outcome of a file from the cache is made as it is handed over, not all of them
        at once: thousands of them alive would be for the garbage collector to walk (a few
        milliseconds when it next runs) and for the exit to free."""
        pending, task = iter(self.results), self.task
        try:
            for path, findings in zip(self.files, self.found):
                if findings is not None:  # (Outcome(path) is from_findings(path, []), without a call)
                    yield Outcome(path) if not findings else task.from_findings(path, findings)
                    continue
                outcome = next(pending)
                if outcome.record is not None:
                    self.cache.store(outcome.record)
                    outcome = replace(outcome, record=None)
                yield outcome
        finally:
            self.cache.save()  # also after an interrupt: what was stored is right

    def stop(self) -> list[Outcome]:
        return self.results.stop()


@dataclass(frozen=True)
class _Fixed:
    data: bytes | None  # the new content; None when nothing changes
    fixed: tuple[Reported, ...]
    remaining: tuple[Reported, ...]
    diff: str
    skipped: tuple[Reported, ...] = ()


@dataclass(frozen=True)
class FixTask:
    settings: Settings
    rules: FileRules
    write: bool = True
    want_diff: bool = False
    unsafe_fixes: bool = False
    linked_out: frozenset[str] = frozenset()  # reached through a symbolic link leading out of the tree

    def _fix(self, data: bytes, name: str) -> _Fixed:
        """The fixed content; raises UnsafeFixError when a fix cannot be applied exactly.
        Input too deep or too large to analyse is that file's DEV900, and nothing changes."""
        from devicelint.analysis import TooComplex, guarded

        try:
            return guarded(self._fix_unguarded, data, name)
        except TooComplex as error:
            return _Fixed(None, (), _refused(name, str(error), self.rules), "")

    def _fix_unguarded(self, data: bytes, name: str) -> _Fixed:
        codes = self.rules.codes_for(name)
        if is_notebook(name):
            from devicelint.notebooks import fix_notebook_bytes

            result = fix_notebook_bytes(data, name, self.settings, codes, self.want_diff, self.unsafe_fixes)
            return _Fixed(result.data, result.fixed, result.remaining, result.diff, result.skipped)
        from devicelint.rewrite import fix_source_bytes

        fixed = fix_source_bytes(data, name, self.settings, codes, self.unsafe_fixes, self.want_diff)
        decided = fixed.result
        return _Fixed(
            fixed.data,
            tuple(Reported(name, f) for f in decided.fixed),
            tuple(Reported(name, f) for f in decided.remaining),
            fixed.diff,
            tuple(Reported(name, f) for f in decided.skipped),
        )

    def __call__(self, path: str) -> Outcome:
        from devicelint.rewrite import UnsafeFixError
        from devicelint.reading import Refused
        from devicelint.writing import signals_deferred, write_atomically

        try:
            data = _read(path)
        except Refused as refused:
            return Outcome(path, _refused(path, str(refused), self.rules))
        except OSError as error:
            return Outcome(path, error=_cannot("read", error))
        try:
            result = self._fix(data, path)
        except UnsafeFixError as error:
            return Outcome(path, error=f"not fixed: {error}")
        if result.data is None or result.data == data:
            return Outcome(path, result.remaining, skipped=result.skipped)  # never opened for writing
        if self.write:
            refusal = self._may_not_write(path)
            if refusal is None:
                try:
                    with signals_deferred():  # a file written is a file recorded
                        write_atomically(path, result.data, expected=data)
                        written.append(path)
                except OSError as error:
                    refusal = _cannot("write", error) if error.errno else f"not fixed: {error}"
            if refusal is not None:
                return Outcome(path, result.fixed + result.remaining, error=refusal, skipped=result.skipped)
        return Outcome(path, result.remaining, result.fixed, True, result.diff, skipped=result.skipped)

    def _may_not_write(self, path: str) -> str | None:
        """Why this file must not be rewritten, if it must not."""
        if path in self.linked_out:
            return "not fixed: reached through a symbolic link that leads out of the tree being fixed (fix the target itself)"
        try:
            links = os.stat(path).st_nlink
        except OSError as error:
            return _cannot("write", error)
        if links > 1:
            return f"not fixed: the file has {links} hard links, and rewriting it would break them (the other names would keep the bug)"
        return None

    def on_bytes(self, data: bytes, name: str) -> Outcome:
        """Fix content from standard input; the new content is in ``Outcome.data``, nothing is written."""
        from devicelint.rewrite import UnsafeFixError

        try:
            result = self._fix(data, name)
        except UnsafeFixError as error:
            return Outcome(name, data=data, error=f"not fixed: {error}")
        if result.data is None or result.data == data:
            return Outcome(name, result.remaining, data=data, skipped=result.skipped)
        return Outcome(name, result.remaining, result.fixed, True, result.diff, result.data, skipped=result.skipped)
