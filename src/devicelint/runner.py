"""Runs a per-file task over many files, in parallel, with results in input order.

Parallelism happens here once. Workers receive paths (not contents) and return
small results; the settings are sent to each worker once, at start-up.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many files a process pool costs more than it saves.
_SERIAL_BELOW = 64

_worker_task: Callable | None = None


class WorkerCrashed(RuntimeError):
    """A worker process died (killed, out of memory): the run cannot finish."""


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # The pool terminates the other workers when one dies; raising lets a worker that
    # is between writing a temporary file and renaming it remove that file first.
    raise SystemExit(128 + signum)


def _init_worker(task: Callable) -> None:
    global _worker_task
    _worker_task = task
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _run_in_worker(item: object) -> object:
    assert _worker_task is not None
    return _worker_task(item)


def default_jobs() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_all(task: Callable[[T], R], items: Sequence[T], jobs: int | None = None) -> Iterator[R]:
    """``task(item)`` for every item, yielded in order. ``task`` must be picklable."""
    jobs = default_jobs() if not jobs or jobs < 1 else jobs
    if jobs == 1 or len(items) < _SERIAL_BELOW:
        yield from map(task, items)
        return
    # Imported here: a serial run (pre-commit on a few files) does not pay for it.
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    chunksize = max(1, min(64, len(items) // (jobs * 8)))
    try:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(task,)) as pool:
            yield from pool.map(_run_in_worker, items, chunksize=chunksize)  # type: ignore[misc]
    except BrokenProcessPool:
        raise WorkerCrashed("a worker process died before the run finished (killed, or out of memory?)") from None


class Progress:
    """A one-line progress bar on stderr, shown only on a terminal and for long runs."""

    def __init__(self, total: int, label: str, enabled: bool | None = None) -> None:
        self.total = total
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self.done = 0
        self.shown = False

    def advance(self) -> None:
        self.done += 1
        if not self.enabled:
            return
        if not self.shown and time.monotonic() - self.started < 0.5:
            return  # short runs stay quiet
        if self.done % 50 and self.done != self.total:
            return
        self.shown = True
        width = 30
        filled = width * self.done // max(self.total, 1)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * (len(self.label) + 50) + "\r")
            sys.stderr.flush()
