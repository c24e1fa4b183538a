"""runner.release_free_memory: what a file's check freed goes back to the system (issue 16's
memory target: the process tree of a long run holds what it uses, not its high-water mark)."""

from __future__ import annotations

import os
import sys

import pytest

from devicelint import runner

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.path.exists("/proc/self/statm"), reason="glibc and /proc: Linux"
)

_pinned: dict[int, list[bytes]] = {}  # per process (a forked worker makes its own)


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _use_and_free(mb: int) -> None:
    """Use ``mb`` MB of the C heap and free it, leaving it fragmented as a checked file's text,
    lines and bytes do: blocks below glibc's mmap threshold, every tenth of the first call's
    kept (so the heap cannot shrink from its top), the later calls reusing the holes between."""
    pinned = _pinned.setdefault(os.getpid(), [])
    blocks = []
    for count in range(mb * 10):
        blocks.append(b"x" * 100_000)  # written: its pages are resident (calloc's may not be)
        if count % 10 == 9 and len(pinned) < 40:
            pinned.append(blocks.pop())
    del blocks


def test_the_freed_heap_goes_back_to_the_system() -> None:
    _use_and_free(40)
    before = _rss_mb()
    runner.release_free_memory()
    assert _rss_mb() < before - 30


def _probe(item: int) -> tuple[int, int, float]:
    """A pool task: the worker's RSS as the item starts, then 30 MB used and freed."""
    rss = _rss_mb()
    _use_and_free(30)
    return os.getpid(), item, rss


def test_a_worker_gives_back_what_a_chunk_freed() -> None:
    """Within a chunk the freed heap stays with the worker (glibc keeps it for reuse); a chunk
    starts with it given back."""
    items = list(range(128))
    results = runner.Results(_probe, items, jobs=2)
    assert results.jobs == 2
    size = len(items) // (results.jobs * 8)  # the runner's chunk size for this run
    first: dict[int, int] = {}
    chunk_starts, inside = [], []
    for pid, item, rss in results:
        first.setdefault(pid, item)
        if item == first[pid]:
            continue  # a fresh worker: nothing freed yet
        (chunk_starts if item % size == 0 else inside).append(rss)
    assert chunk_starts and inside
    assert max(chunk_starts) < min(inside) - 15, (chunk_starts, inside)
