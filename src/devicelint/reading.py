"""Reading a file to check: only a regular file, and only up to a size limit.

Apart from source.py so that what reads files without analysing them (configuration,
discovery, a warm cache run) does not import the pre-scan and the catalogue."""

from __future__ import annotations

import os
import stat


class Refused(Exception):
    """A path that is not read: not a regular file, or over the size limit (the message says which)."""


def read_regular_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """A regular file's bytes, at most ``limit`` of them.

    A FIFO, a device (a link to /dev/zero) or a socket is refused without blocking on it
    or reading it (``O_NONBLOCK`` only matters for those), and so is a file over the limit,
    also one that grows past it while being read. OSError for what cannot be opened.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb", closefd=True) as handle:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise Refused("not a regular file")
        if status.st_size > limit:
            raise Refused(too_large(status.st_size, limit))
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Refused(too_large(len(data), limit))
    return data


def too_large(size: int, limit: int) -> str:
    return f"file too large to check ({size / 2**20:.1f} MiB; the limit is {limit / 2**20:g} MiB)"
