"""Runs a per-file task over many files, in parallel, with results in input order.

Parallelism happens here once. Workers receive paths (not contents) and return
small results; the settings are sent to each worker once, at start-up.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence

TYPE_CHECKING = False  # typing.TYPE_CHECKING (type checkers take it as true) without importing typing: 2-4 ms of start-up
if TYPE_CHECKING:
    from typing import Any, Generic, TypeVar

    T = TypeVar("T")
    R = TypeVar("R")

# Below this many files a process pool costs more than it saves.
_SERIAL_BELOW = 64
# Each worker gets at least this many files, and there are never more than this many
# workers per core: --jobs 300 on 64 files starts 8 processes, --jobs 100000 no more than
# the machine can hold.
_FILES_PER_WORKER = 8
_WORKERS_PER_CORE = 4
# Chunks submitted ahead of the one being handed out, per worker: enough to keep every
# worker busy past a slow chunk, few enough that the parent never holds the results (or
# the queued work) of a whole large run.
_CHUNKS_AHEAD = 64

_worker_task: Callable | None = None
_worker_busy = False
_worker_stopping = False
_malloc_trim: Any = None  # glibc's malloc_trim once looked up; False where there is none


class WorkerCrashed(RuntimeError):
    """A worker process died (killed, out of memory): the run cannot finish."""


def _worker_sigterm(signum: int, frame: object) -> None:
    # A worker stops after the file it is on (its write is never cut in half; see
    # rewrite.write_atomically), hands back what it did, and exits; an idle one exits now.
    global _worker_stopping
    if not _worker_busy or _worker_stopping:
        raise SystemExit(128 + signum)
    _worker_stopping = True


def _die_with_parent() -> None:
    """Linux: SIGTERM this worker when the parent process dies (killed, even with SIGKILL), so
    no worker is left waiting for work forever."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim; elsewhere nothing).

    A file's text, lines and bytes are freed when its check ends, but glibc keeps the pages
    for reuse, so a long-lived worker holds the high-water mark of the files it has read,
    and a forked one starts with what its parent freed. Run after each chunk in a worker
    and in the parent before the pool forks: 13 MB less of the ~190 MB process tree of a
    10x site-packages run (issue 16's memory target). The price: the pages given back
    fault in again as the next chunk's files are read (~0.1 s of system time on the bench
    corpus, 2% of its CPU time).
    """
    global _malloc_trim
    if _malloc_trim is None:
        _malloc_trim = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                _malloc_trim = ctypes.CDLL(None).malloc_trim
            except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
                pass
    if _malloc_trim:
        _malloc_trim(0)


def _init_worker(task: Callable, parent: int) -> None:
    global _worker_task
    _worker_task = task
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    signal.signal(signal.SIGTERM, _worker_sigterm)
    if hasattr(signal, "pthread_sigmask"):  # forked while the parent deferred signals
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before prctl took effect
        raise SystemExit(1)


def _run_chunk(items: Sequence[object]) -> list[object]:
    global _worker_busy
    assert _worker_task is not None
    results = []
    for item in items:
        if _worker_stopping:
            break
        _worker_busy = True
        try:
            results.append(_worker_task(item))
        finally:
            _worker_busy = False
    release_free_memory()
    if _worker_stopping:
        # Hand back what was done, then go: nothing may be waiting to tell an idle worker
        # to exit (the pool's own shutdown after a crash only sends SIGTERM once).
        import threading

        threading.Timer(5.0, os._exit, (128 + signal.SIGTERM,)).start()
    return results


def default_jobs() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(jobs: int | None, files: int) -> int:
    """The processes a run uses: --jobs (0: all cores), bounded by the files and the cores."""
    cores = default_jobs()
    wanted = cores if not jobs or jobs < 1 else jobs
    return max(1, min(wanted, files // _FILES_PER_WORKER, cores * _WORKERS_PER_CORE))


class Results(Generic[R] if TYPE_CHECKING else object):  # (typing is not imported at run time)
    """``task(item)`` for every item, in order, as an iterator; ``stop()`` after an interrupt.

    Serial below _SERIAL_BELOW files or with one worker; otherwise a process pool fed in
    chunks. ``task`` must be picklable.
    """

    def __init__(self, task: Callable[[T], R], items: Sequence[T], jobs: int | None = None) -> None:
        self.task = task
        self.items = items
        self.jobs = 1 if len(items) < _SERIAL_BELOW else worker_count(jobs, len(items))
        self.pool: Any = None
        self.pending: deque[Any] = deque()  # futures submitted and not yet handed out, in order

    def __iter__(self) -> Iterator[R]:
        if self.jobs == 1:
            yield from map(self.task, self.items)
            return
        # Imported here: a serial run (pre-commit on a few files) does not pay for it.
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        from devicelint.writing import signals_deferred

        items = self.items
        size = max(1, min(64, len(items) // (self.jobs * 8)))
        starts = iter(range(0, len(items), size))

        def submit(count: int) -> None:
            # Not interrupted half-way: an interrupt inside submit() would leave the pool's
            # lock taken, and stop() waiting on it forever.
            with signals_deferred():
                for start in itertools.islice(starts, count):
                    self.pending.append(self.pool.submit(_run_chunk, items[start : start + size]))

        try:
            release_free_memory()  # what discovery freed is not copied into every worker
            with signals_deferred():
                self.pool = ProcessPoolExecutor(self.jobs, initializer=_init_worker, initargs=(self.task, os.getpid()))
            submit(self.jobs * _CHUNKS_AHEAD)
            while self.pending:
                chunk = self.pending[0].result()
                self.pending.popleft()  # handed out: the parent keeps no result it has passed on
                submit(1)
                yield from chunk
        except BrokenProcessPool:
            raise WorkerCrashed("a worker process died before the run finished (killed, or out of memory?)") from None
        except OSError as error:  # no more processes (a process limit): say so, do not hang
            raise WorkerCrashed(f"cannot start worker processes: {error.strerror or error} (try --jobs 1)") from None
        finally:
            # Also when the caller stops early (an error, an interrupt): start nothing new, so
            # no worker goes on fixing files after the run has ended. Held signals: see above.
            if self.pool is not None:
                with signals_deferred():
                    self.pool.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> list[R]:
        """After an interrupt: start nothing new, let the files in progress finish, and return
        the results that came in but were not handed out yet (files a fix already wrote)."""
        if self.pool is None:
            return []
        from concurrent.futures import CancelledError

        self.pool.shutdown(wait=True, cancel_futures=True)  # done already if the iteration ended
        late: list[R] = []
        while self.pending:
            future = self.pending.popleft()
            try:
                if future.done() and not future.cancelled() and future.exception() is None:
                    late.extend(future.result())
            except CancelledError:
                continue
        return late


def run_all(task: Callable[[T], R], items: Sequence[T], jobs: int | None = None) -> Results[R]:
    """``task(item)`` for every item, yielded in order. ``task`` must be picklable."""
    return Results(task, items, jobs)


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
