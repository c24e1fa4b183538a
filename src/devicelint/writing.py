"""Writing a fixed file: atomically, and never half-way through an interrupt.

Apart from rewrite.py so that what every run imports (runner.py defers signals while it
records results) does not load the fixer.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator


class FileChanged(OSError):
    """The file changed on disk between devicelint's read and its write: the fix is dropped."""


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done (main thread, POSIX): a write is whole
    and recorded, or not started, and its temporary file never outlives an interrupt."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def write_atomically(path: str, data: bytes, expected: bytes | None = None) -> None:
    """Replace the file's content in one rename: readers see the old or the new file, never half.

    The temporary file lives in the same directory (same filesystem) and gets the
    original's permission bits (and, where allowed, its owner and group) before the
    rename. A symbolic link is written through: its target is replaced, the link stays.
    A file without any write permission bit is read-only for everyone, root included
    (root passes ``os.access``, and the rename would silently replace the file).

    ``expected``: the content the fix was computed from. The file is read again just
    before the rename, and if it differs (an editor saved it meanwhile) nothing is written
    and FileChanged is raised: the user's edit wins.
    """
    path = os.path.realpath(path)
    status = os.stat(path)
    if not os.access(path, os.W_OK) or not status.st_mode & 0o222:
        raise PermissionError(13, "Permission denied (read-only file)", path)
    directory = os.path.dirname(path)
    import tempfile  # here: only a fix that writes needs it

    with signals_deferred():
        temp = None
        try:
            fd, temp = tempfile.mkstemp(prefix=".devicelint-", suffix=".tmp", dir=directory)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.chown(temp, status.st_uid, status.st_gid)
            except OSError:
                pass  # not allowed (not root, not our group): the file is ours now, as with any rewrite
            os.chmod(temp, status.st_mode & 0o7777)
            if expected is not None and not _unchanged(path, status, expected):
                raise FileChanged(f"{path} changed on disk while it was being fixed; not written (run again)")
            os.replace(temp, path)
            temp = None
        finally:
            if temp is not None:
                try:
                    os.unlink(temp)
                except OSError:
                    pass


def _unchanged(path: str, before: os.stat_result, expected: bytes) -> bool:
    try:
        now = os.stat(path)
        if (now.st_size, now.st_mtime_ns, now.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino):
            return False
        with open(path, "rb") as handle:
            return handle.read(len(expected) + 1) == expected
    except OSError:
        return False
