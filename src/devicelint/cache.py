"""The persistent cache of ``devicelint check``: a file's findings, reused while nothing
they depend on has changed (as ruff's cache).

One index file per *fingerprint* (devicelint's version and code, Python's version, the
analysis settings) holds an entry per checked file (by absolute path): its size, time
and content hash, its import name, the findings, and what the engine read besides the file
(project.py records it: the project modules its summaries used by content hash, and by
size and time when they were written well before they were read; the module paths it
looked for and did not find, or the first missing folder above them; and the file
listings of the importer index, since a new or edited importer can change a result). An
entry is used only when all of that still holds; anything else is a miss, and a miss is
only slower.

* Where: ``DEVICELINT_CACHE_DIR``, else ``cache-dir`` in the configuration, else the
  platform cache folder (``$XDG_CACHE_HOME/devicelint`` or ``~/.cache/devicelint``).
  Never the tree being checked (unless configured so), never for standard input, never
  from the flake8 plugin; ``--no-cache`` reads and writes nothing; ``devicelint clean``
  removes it.
* Safe: each index is written whole to a temporary file and renamed (concurrent runs
  never see half a file; the last writer wins, merged with what is on disk); a checksum
  guards against a damaged file, which is then ignored; a size and time are trusted to
  mean "unchanged" only when taken well after the last write (else the content hash
  decides). A listing is walked again unless every folder it walked keeps its device,
  inode and time, taken well after that folder's last write and with no symbolic link in
  it (see _Disk: its shape, kept under ``listings/`` by the first warm run, checksummed
  like an index). Bounded: MAX_ENTRIES per index, MAX_INDEXES indexes, MAX_LISTINGS shapes.
* Fast when nothing changed: one stat per path a run (discovery's, shared by the entries,
  the modules and listings they depend on), and the usual entry (no findings, no
  dependencies, its size and time trusted when it was stored) compact and checked on its
  text (ResultCache._compact). The engine is not imported unless a file is a miss.
* The parent process looks entries up and stores them: only misses go to the workers.
  It holds each entry as its JSON text (one entry a line in the file, parsed when looked
  up), about 75 bytes for the usual entry and 400 for others, not parsed lists (1.2 kB):
  50,000 entries are 10-20 MB, not 60.
"""

from __future__ import annotations

import gc
import json
import os
import stat
import sys
import time
from array import array
from binascii import crc32
from collections.abc import Iterable, Sequence
from json.decoder import scanstring

try:  # hashlib's blake2b, without the OpenSSL bindings hashlib imports besides: 2-3 ms of start-up
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python without the module
    from hashlib import blake2b

from devicelint import __version__
from devicelint.dataclass import dataclass
from devicelint.findings import Edit, Finding, Location
from devicelint.project import (
    MAX_MODULE_BYTES,
    RACY_NS,
    content_digest,
    dependency_holds,
    import_roots,
    listing_digest,
    py_files,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING (type checkers take it as true) without importing typing: 2-4 ms of start-up
if TYPE_CHECKING:
    from typing import BinaryIO

CACHE_ENV = "DEVICELINT_CACHE_DIR"
# 2: findings carry their fix's applicability; 3: one entry a line, parsed when looked up;
# 4: module dependencies carry their file's size and time, listings are walked once (see _Disk);
# the paths, then the entries, a line each; 5: the usual entry compact (ResultCache._compact)
FORMAT = 5
SUBDIR = f"v{FORMAT}"  # everything devicelint writes lives under here (what `clean` removes)
MAX_ENTRIES = 50_000  # per index (about 100 bytes each for a file without findings)
MAX_INDEXES = 16  # fingerprints kept (versions, settings); the least recently written go
_MAGIC = b"devicelint-cache"
_TOUCH_SECONDS = 24 * 3600


def default_directory() -> str:
    """The platform's cache folder for devicelint."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
        return os.path.join(base, "devicelint", "Cache")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/devicelint")
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "devicelint")


def directory_for(configured: str | None, config_root: str) -> str:
    """``DEVICELINT_CACHE_DIR``, else ``cache-dir`` (relative to its configuration file), else the default."""
    from_env = os.environ.get(CACHE_ENV)
    if from_env:
        return os.path.abspath(os.path.expanduser(from_env))
    if configured:
        return os.path.abspath(os.path.join(config_root, os.path.expanduser(configured)))
    return default_directory()


def clean(directory: str) -> bool:
    """Remove what devicelint wrote under ``directory`` (this format's folder and those of
    earlier ones, ``v1``...); whether there was anything."""
    import shutil

    try:
        targets = [entry.path for entry in os.scandir(directory) if 0 < _format_of(entry.name) <= FORMAT and entry.is_dir(follow_symlinks=False)]
    except OSError:
        return False
    if not targets:
        return False
    for target in targets:
        shutil.rmtree(target, ignore_errors=True)
    try:
        if not any(_format_of(name) for name in os.listdir(directory)):  # a later devicelint's keeps it
            _remove(os.path.join(directory, "CACHEDIR.TAG"))
        os.rmdir(directory)  # only if now empty: never someone else's files
    except OSError:
        pass
    return True


def _format_of(name: str) -> int:
    """The cache format whose folder ``name`` is (``v5``: 5); 0 for any other name."""
    return int(name[1:]) if name[:1] == "v" and name[1:].isdigit() else 0


def _code_signature() -> str:
    """devicelint's own source files by name, size and time: an edited checkout (no version
    bump) never reuses results of the code before the edit."""
    package = os.path.dirname(os.path.abspath(__file__))
    parts = []
    for directory, subdirs, files in os.walk(package):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(directory, name))
                parts.append(f"{os.path.relpath(os.path.join(directory, name), package)}:{info.st_size}:{info.st_mtime_ns}")
    return ";".join(parts)


def settings_key(extra_device_types: Iterable[str], extra_sinks: Iterable[str]) -> str:
    """The analysis settings as text: the user's device types and sinks as configured (the
    Settings are made from these alone; a warm run need not make them, nor import the engine)."""
    return repr((tuple(extra_device_types), tuple(extra_sinks)))


def fingerprint(settings_key: str) -> str:
    """What every entry of one index shares: the code that computed it and the settings."""
    material = "\n".join((str(FORMAT), __version__, sys.version, _code_signature(), settings_key))
    return blake2b(material.encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()


@dataclass(frozen=True)
class Record:
    """What a worker hands back for one checked file, to be stored."""

    path: str  # absolute
    mtime_ns: int
    size: int
    digest: str  # of the bytes analysed
    recorded_at: int  # time.time_ns() before the file was read
    dependencies: tuple[tuple, ...]
    findings: tuple[Finding, ...]  # all of them, before the file's code selection


class ResultCache:
    """One run's view of the index for its fingerprint."""

    def __init__(self, directory: str, key: str) -> None:
        self.directory = os.path.join(directory, SUBDIR)
        self.key = key
        self.file = os.path.join(self.directory, f"{key}.cache")
        self._read_as = _identity(self.file)  # the index file as read: another run may replace it
        self.entries: dict[str, str] = _read_index(self.file, key)  # path -> the entry as JSON text
        # What this run stores: (last used, the entry as JSON text). Text, not lists: a tenth of
        # the memory, which matters to the parent of a run over tens of thousands of files.
        self.updated: dict[str, tuple[int, str]] = {}
        self.now = time.time_ns()
        self._today = self.now // 10**9  # "last used", one int object for every entry
        self._holds: dict[tuple, bool] = {}
        self._packages: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._names: dict[str, list] = {}  # folder -> [import root, name], as entries store it
        self._cwd = os.getcwd()
        self._disk = _Disk(self.directory)

    # -- lookup ------------------------------------------------------------------------

    def lookup(self, path: str) -> Sequence[Finding] | None:
        """The findings stored for ``path`` if everything they depend on still holds (``()``
        when there are none: no list made and left to the garbage collector for each)."""
        return self.lookup_all([path])[0]

    def lookup_all(self, paths: list[str], stats: dict[str, os.stat_result] | None = None) -> list[Sequence[Finding] | None]:
        """``lookup`` of each path, in order (``stats``: what discovery stated of some of them).
        Each file's own entry is checked first, then what the entries that still hold depend
        on: the files of a listing they depend on are then mostly stated already. The cyclic
        garbage collector is paused meanwhile: the parsed entries hold no cycles, and its
        passes over them cost a warm run a few percent."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._lookup_all(paths, stats)
        finally:
            if collecting:
                gc.enable()

    def _lookup_all(self, paths: list[str], stats: dict[str, os.stat_result] | None) -> list[Sequence[Finding] | None]:
        found: list[Sequence[Finding] | None] = [None] * len(paths)
        pending = []  # (index, absolute path, entry) whose dependencies are still to check
        entries, own_entry, result, stat_of = self.entries, self._own_entry, self._result, self._disk.stat
        absolutes, known = self._absolutes(paths, stats), self._disk.known
        depths: dict[str, str] = {}  # folder (with its separator) -> _depth
        # Used lately: "last used" as text, compared as text (ten digits from 2001 to 2286;
        # a text of another length at worst refreshes an entry, or not: only pruning reads it).
        fresh, sep = str(self._today - _TOUCH_SECONDS), os.sep
        for index, absolute in enumerate(absolutes):
            text = entries.get(absolute)
            if text is None:
                continue
            info = known.get(absolute) or stat_of(absolute)  # discovery's, for a file given by name
            if info is None:
                continue  # gone: a miss
            # The usual entry (see _compact), checked on its text: its size and time, its
            # folder's package depth, then its last use (after '"' DIGEST '",': 35 characters).
            folder = absolute[: absolute.rfind(sep) + 1]
            depth = depths.get(folder)
            if depth is None:
                depth = depths[folder] = self._depth(_parent(absolute))
            head = f"[{info.st_mtime_ns},{info.st_size},{depth},"
            if text.startswith(head) and text[len(head) + 35 : -1] >= fresh:
                found[index] = ()
                continue
            entry = own_entry(absolute, text, info)
            if entry is None:
                continue
            if len(entry) == 5:  # compact: holds
                found[index] = ()
            elif entry[5]:
                pending.append((index, absolute, entry))
            else:
                found[index] = result(absolute, entry)
        holds, holds_now = self._holds, self._holds_now
        for index, absolute, entry in pending:
            try:
                for dependency in entry[5]:
                    key = tuple(dependency)
                    if not (holds.get(key) or holds_now(key)):  # (the memo without a call: most are shared)
                        break
                else:
                    found[index] = result(absolute, entry)
            except TypeError:
                pass  # a damaged entry: a miss
        return found

    def _absolutes(self, paths: list[str], stats: dict[str, os.stat_result] | None) -> list[str]:
        """os.path.abspath of each path, with one getcwd() a run; what discovery stated of them
        goes to _Disk (stated once, not twice: the __init__.py of a folder too). The usual
        names (relative, normal already: thousands from pre-commit) are told apart in two
        searches of them all, not five tests each: joined by "/" (and between two), a name
        that starts with "." or "/", holds "/." or "//", ends with "/" or is empty shows
        "/." or "//" (so does a hidden name such as .x: then abspath for all, only slower)."""
        cwd = self._cwd
        prefix = cwd.rstrip(os.sep) + os.sep
        joined = "/%s/" % "/".join(paths)
        if os.sep == "/" and "//" not in joined and "/." not in joined:
            absolutes = [prefix + path for path in paths]  # what normpath would give
        else:
            absolutes = [os.path.normpath(os.path.join(cwd, path)) for path in paths]
        infos = [stats.get(path) for path in paths] if stats else []
        if infos and None not in infos:
            self._disk.known.update(zip(absolutes, infos))
        elif stats:
            self._disk.known.update((absolute, info) for absolute, info in zip(absolutes, infos) if info is not None)
        return absolutes

    def _own_entry(self, absolute: str, text: str, info: os.stat_result | None) -> list | None:
        """The entry of a file (parsed) if the file and its import name are unchanged (a
        compact one, see _compact, is then marked as used, as _result marks the others)."""
        try:
            entry, end = _decode(text)
            if type(entry) is not list or end != len(text):
                return None
            compact = len(entry) == 5
            if compact:
                mtime, size, depth, digest, used = entry
                trusted = True  # decided when it was stored
            else:
                mtime, size, digest, name, recorded_at = entry[:5]
                trusted = mtime < recorded_at - RACY_NS
            if info is None:
                info = self._disk.stat(absolute)
                if info is None:
                    return None
            if (info.st_mtime_ns, info.st_size) != (mtime, size) or not trusted:
                # changed, or written moments before it was read: the content decides
                with open(absolute, "rb") as handle:
                    if content_digest(handle.read(size + 1)) != digest:
                        return None
            folder = _parent(absolute)
            if compact:
                if type(depth) is not int or str(depth) != self._depth(folder):
                    return None
                if type(used) is not int or used < self._today - _TOUCH_SECONDS:
                    self.updated[absolute] = (self._today, self._compact(absolute, mtime, size, digest))
            elif (self._names.get(folder) or self._stored_name(absolute)) != name or type(entry[5]) is not list:
                return None
        except (OSError, ValueError, TypeError, IndexError, KeyError):
            return None  # unreadable now, or a damaged entry: a miss
        return entry

    def _result(self, absolute: str, entry: list) -> Sequence[Finding] | None:
        """The findings of an entry that holds (None if damaged); the entry marked as used."""
        try:
            result = [_finding(f) for f in entry[6]] if entry[6] else ()
        except (ValueError, TypeError, IndexError, KeyError):
            return None
        used = entry[7] if len(entry) == 8 else None
        if type(used) is not int or used < self._today - _TOUCH_SECONDS:
            entry[7:] = [self._today]  # recently used (pruning keeps these); at most daily,
            self.updated[absolute] = (self._today, _json(entry))  # so that an unchanged tree writes nothing
        return result

    def _stored_name(self, path: str) -> list:
        folder = _parent(path)
        found = self._names.get(folder)
        if found is None:
            found = self._names[folder] = list(self._import_name(path))
        return found

    def _depth(self, folder: str) -> str:
        """How many packages deep ``folder`` is (as text): its import root and name (_import_name)
        follow from it, so that a compact entry holds this number instead of the name."""
        return str(len(self._package(folder)[1]))

    def _import_name(self, path: str) -> tuple[str, str | None]:
        """``project.import_root(FOLDER/_.py)[:2]`` for the folder of ``path``: where imports of
        a module there resolve from, and its package. Each folder's ``__init__.py`` is looked
        at once a run, not once per file below it."""
        root, packages = self._package(_parent(path))
        parts = (*packages, "_")
        return root, ".".join(parts) if all(map(str.isidentifier, parts)) else None

    def _package(self, directory: str) -> tuple[str, tuple[str, ...]]:
        """(import root, the package names from it down to ``directory``), as import_root walks
        up through the folders that hold an ``__init__.py``."""
        found = self._packages.get(directory)
        if found is None:
            # (os.path.join and os.path.split, without their calls and checks: once a folder, a
            # thousand folders a run; ``directory`` is absolute and normal)
            parent = _parent(directory)
            if self._disk.is_file(f"{directory}{os.sep}__init__.py" if parent != directory else os.path.join(directory, "__init__.py")):
                package = directory[len(parent) :].lstrip(os.sep)
                if package:
                    root, packages = self._package(parent)
                    found = (root, (*packages, package))
                else:  # an __init__.py in the file system's root
                    found = (parent, (package,))
            else:
                found = (directory, ())
            self._packages[directory] = found
        return found

    def _holds_now(self, dependency: tuple) -> bool:
        found = self._holds.get(dependency)
        if found is None:
            try:
                found = self._dependency_holds(dependency)
            except (OSError, ValueError, TypeError):
                found = False
            self._holds[dependency] = found
        return found

    def _dependency_holds(self, dependency: tuple) -> bool:
        """project.dependency_holds, with what this run stats or lists shared by every entry."""
        kind, disk = dependency[0], self._disk
        if kind == "absent":
            return disk.is_absent(dependency[1])
        if kind == "no-folder":
            return disk.is_missing(dependency[1])
        if kind == "module":
            _, path, digest, mtime, size = dependency
            if mtime >= 0 and disk.is_small_file(path) and disk.signature(path) == (mtime, size):
                return True  # written well before it was read: its size and time stand for its bytes
        elif kind == "listing":
            return disk.listing_holds(dependency[1], dependency[2])
        elif kind == "roots":  # (what each folder holds, stated once a run)
            return list(dependency[2:]) == import_roots(dependency[1], disk.is_file, lambda path: not disk.is_missing(path))
        return dependency_holds(dependency)

    # -- store -------------------------------------------------------------------------

    def store(self, record: Record) -> None:
        if not record.findings and not record.dependencies and record.mtime_ns < record.recorded_at - RACY_NS:
            self.updated[record.path] = (self._today, self._compact(record.path, record.mtime_ns, record.size, record.digest))
            return
        name = self._stored_name(record.path)
        self.updated[record.path] = (self._today, _json([
            record.mtime_ns, record.size, record.digest, name, record.recorded_at,
            [list(d) for d in record.dependencies], [_plain(f) for f in record.findings], self._today,
        ]))  # fmt: skip

    def _compact(self, path: str, mtime: int, size: int, digest: str) -> str:
        """The usual entry (a file without findings that depends on nothing else, written well
        before it was read, so that its size and time stand for its bytes) in its compact form,
        ``[MTIME,SIZE,DEPTH,"DIGEST",LAST_USED]``: its import name as _depth, no recorded time
        (trusted once and for all), checked on its text by _lookup_all. Any other entry is
        ``[MTIME,SIZE,"DIGEST",NAME,RECORDED_AT,DEPENDENCIES,FINDINGS,LAST_USED]``."""
        return f"[{mtime},{size},{self._depth(_parent(path))},{_json(digest)},{self._today}]"

    def save(self) -> None:
        """Write the index (merged with what another run wrote meanwhile); never raises."""
        if not self.updated:
            return
        import tempfile  # only a run that stores something needs it

        try:
            os.makedirs(self.directory, exist_ok=True)
            _tag(os.path.dirname(self.directory))
            # Another run's entries stay; ours replace theirs.
            unchanged = self._read_as is not None and _identity(self.file) == self._read_as
            on_disk = self.entries if unchanged else _read_index(self.file, self.key)  # not read twice when no run wrote
            entries = {path: (_last_used(text), text) for path, text in on_disk.items()}
            entries.update(self.updated)
            if len(entries) > MAX_ENTRIES:
                entries = dict(sorted(entries.items(), key=lambda item: item[1][0], reverse=True)[:MAX_ENTRIES])
            handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=self.directory)
            try:
                with os.fdopen(handle, "wb") as out:
                    _write_index(out, self.key, entries)
                os.replace(temporary, self.file)
            except BaseException:
                _remove(temporary)
                raise
            _prune(self.directory, self.file)
        except (OSError, ValueError, TypeError):
            pass  # a read-only or full disk: the run's result stands, only the next run is slower


class _Disk:
    """What one run learns of the file system while it checks entries, each path stated once
    (a file's entry, the modules and listings that entries depend on share them); and the
    shape of the listings it walks, kept in the cache folder so that the next run can tell
    an unchanged listing from its folders alone.

    A listing (project.py_files) depends on which files its folders hold, and on each file's
    size and time. A folder's time changes whenever a name is added to it, removed or
    renamed (and its ctime with its permissions too), so while every folder walked has its
    device, inode, time and ctime (taken before it was listed, and well after it was last
    written: RACY_NS), the walk would find the same files: only their signatures need a look. A folder with a symbolic link in it is always walked
    (a link's target can change without its folder's time), as is any listing whose shape
    is missing, damaged or stale.
    """

    def __init__(self, directory: str) -> None:
        self.listings = os.path.join(directory, "listings")
        self._stats: dict[str, os.stat_result | None] = {}
        self.known = self._stats  # path -> what a stat gave (None: it failed); fed by discovery too
        self._missing_folders: dict[str, bool] = {}

    def stat(self, path: str) -> os.stat_result | None:
        info = self._stats.get(path, _UNSEEN)  # (not a KeyError caught: most paths are stated once)
        if info is _UNSEEN:
            try:
                info = os.stat(path)
            except (OSError, ValueError):
                info = None
            self._stats[path] = info
        return info

    def signature(self, path: str) -> tuple[int, int] | None:
        info = self.stat(path)
        return None if info is None else (info.st_mtime_ns, info.st_size)

    def is_file(self, path: str) -> bool:
        info = self.stat(path)
        return info is not None and stat.S_ISREG(info.st_mode)

    def is_small_file(self, path: str) -> bool:
        """project._is_small_regular_file"""
        info = self.stat(path)
        return info is not None and stat.S_ISREG(info.st_mode) and info.st_size <= MAX_MODULE_BYTES

    def is_absent(self, path: str) -> bool:
        """``not is_small_file(path)``; true without a look at the file when its folder is
        missing (most modules an import was looked for as: a folder missing is one stat)."""
        return self.is_missing(_parent(path)) or self._surely_missing(path) or not self.is_small_file(path)

    def is_missing(self, folder: str) -> bool:
        """Whether ``folder`` is no folder (nothing can be found below it), its parents first."""
        found = self._missing_folders.get(folder)
        if found is None:
            parent = _parent(folder)
            if (parent != folder and self.is_missing(parent)) or self._surely_missing(folder):
                found = True
            else:
                info = self.stat(folder)
                found = info is None or not stat.S_ISDIR(info.st_mode)
            self._missing_folders[folder] = found
        return found

    def _surely_missing(self, path: str) -> bool:
        """Whether ``path`` is missing, told (when not stated yet) by an access(), which fails
        without an exception made and caught: half the time of a stat() that fails, and what
        an entry recorded as missing mostly still is. False: perhaps there (then stat())."""
        info = self._stats.get(path, _UNSEEN)
        if info is not _UNSEEN:
            return info is None
        try:
            if os.access(path, os.F_OK):
                return False
        except ValueError:  # a NUL in the path: stat() fails too
            pass
        self._stats[path] = None
        return True

    def listing_holds(self, base: str, digest: str) -> bool:
        files = self._unchanged_listing(base, digest)
        if files is not None:  # the same files: the listing holds while each keeps its signature
            known, stat_of = self._stats, self.stat  # (signature() of each, in one loop: thousands of files)
            for path, mtime, size in files:
                info = known.get(path, _UNSEEN)
                if info is _UNSEEN:
                    info = stat_of(path)
                if info is None or info.st_mtime_ns != mtime or info.st_size != size:
                    return False
            return True
        folders: list[tuple[str, int, int, int, int]] = []
        paths = py_files(base, folders)
        holds = listing_digest(paths, self.signature) == digest
        if holds:  # (and so no file was written moments ago: listing_digest never matches then)
            self._keep_shape(base, digest, folders, paths)
        return holds

    def _shape_file(self, base: str, digest: str) -> str:
        key = blake2b(f"{base}\0{digest}".encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()
        return os.path.join(self.listings, key)

    def _unchanged_listing(self, base: str, digest: str) -> Iterable[tuple[str, int, int]] | None:
        """The files (path, time, size) of the listing ``digest`` of ``base`` as its shape
        recorded them, if none of its folders changed since; else None (walk it)."""
        try:
            with open(self._shape_file(base, digest), "rb") as handle:
                data = handle.read()
            checksum, _, body = data.partition(b"\n")
            if _checksum(body) != checksum:
                return None
            head, _, body = body.partition(b"\n")
            stored_base, stored_digest, folder_count, names_size = _decode(head.decode("ascii"))[0]
            names = body[:names_size].decode("utf-8", "surrogateescape").split("\0")
            numbers = array("q", body[names_size:])
            if sys.byteorder != "little":  # pragma: no cover - written little-endian everywhere
                numbers.byteswap()
            files = len(names) - folder_count
            if (stored_base, stored_digest) != (base, digest) or files < 0 or len(numbers) != 4 * folder_count + 2 * files:
                return None
            prefix = base + os.sep
            for relative, device, inode, mtime, ctime in zip(names, *(numbers[k : 4 * folder_count : 4] for k in range(4))):
                info = self.stat(prefix + relative if relative else base)
                if info is None or (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns) != (device, inode, mtime, ctime):
                    return None
            rest = 4 * folder_count
            return zip([prefix + relative for relative in names[folder_count:]], numbers[rest::2], numbers[rest + 1 :: 2])
        except (OSError, ValueError, TypeError, UnicodeDecodeError):
            return None

    def _keep_shape(self, base: str, digest: str, folders: list[tuple[str, int, int, int, int]], files: list[str]) -> None:
        """Store the shape of a listing just walked, if it can be trusted; never raises. The
        shape: a checksum line; a JSON line ``[BASE, DIGEST, FOLDERS, NAMES_SIZE]``; the
        folders' then the files' names below BASE, NUL-separated (NAMES_SIZE bytes); then
        each folder's device, inode, time and ctime and each file's time and size, as 64-bit
        integers (little-endian): read in a split and an array, not parsed number by number."""
        prefix = base + os.sep
        if any(f[1] < 0 for f in folders) or not all(f[0] == base or f[0].startswith(prefix) for f in folders):
            return
        signatures = [self.signature(path) for path in files]
        if not all(path.startswith(prefix) for path in files) or None in signatures:
            return
        names = [f[0][len(prefix) :] if f[0] != base else "" for f in folders] + [path[len(prefix) :] for path in files]
        try:
            numbers = array("q", [n for f in folders for n in f[1:]] + [n for signature in signatures for n in signature])
        except OverflowError:  # a number beyond 64 bits: walked again next time
            return
        if sys.byteorder != "little":  # pragma: no cover
            numbers.byteswap()
        blob = "\0".join(names).encode("utf-8", "surrogateescape")
        body = b"%s\n%s%s" % (_json([base, digest, len(folders), len(blob)]).encode("ascii"), blob, numbers.tobytes())
        data = _checksum(body) + b"\n" + body
        import tempfile

        try:
            os.makedirs(self.listings, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=self.listings)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, self._shape_file(base, digest))
            except BaseException:
                _remove(temporary)
                raise
            _prune_listings(self.listings)
        except (OSError, ValueError):
            pass


_UNSEEN = object()  # a path _Disk has not stated yet

MAX_LISTINGS = 64  # listing shapes kept (the least recently written go; ~180 kB for 2,000 files)


def _prune_listings(directory: str) -> None:
    """At most MAX_LISTINGS shapes; temporary files of killed runs (older than a minute) go."""
    shapes = []
    for entry in os.scandir(directory):
        if entry.name.startswith(".tmp-"):
            if entry.stat().st_mtime_ns < time.time_ns() - 60 * 10**9:
                _remove(entry.path)
        else:
            shapes.append((entry.stat().st_mtime_ns, entry.path))
    for _, path in sorted(shapes, reverse=True)[MAX_LISTINGS:]:
        _remove(path)


def _parent(path: str) -> str:
    """os.path.dirname of a normalised absolute path (no trailing or doubled separator), faster."""
    if os.sep != "/":  # pragma: no cover - Windows
        return os.path.dirname(path)
    cut = path.rfind("/")
    return path[:cut] if cut > 0 else "/"


_decode = json.JSONDecoder().raw_decode  # (value, end): json.loads without its checks, twice as fast


# json.dumps(value, separators=(",", ":")), without making an encoder at every call (a third
# of its time: a warm run encodes each folder's import name). ASCII: ensure_ascii escapes the
# rest, lone surrogates too.
_json = json.JSONEncoder(separators=(",", ":")).encode


def _identity(path: str) -> tuple[int, int, int] | None:
    """(inode, size, time) of a file, None if missing: an index is only ever replaced whole (a new
    inode), so an equal identity means the content read is still there."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def _last_used(text: str) -> int:
    """An entry's "last used" day, its last item (0 when it has none, or a damaged one: the first to go)."""
    try:
        return int(text[text.rindex(",") + 1 : -1])
    except ValueError:
        return 0


def _write_index(out: BinaryIO, key: str, entries: dict[str, tuple[int, str]]) -> None:
    """The index file: a header with the body's checksum, then the body: the key, the
    number of entries and the folder all their paths start in (a line each), then each
    entry's path below that folder (a JSON string) a line, then each entry (JSON text) a
    line, in the same order. JSON text has no raw newline, so a reader splits the body into
    lines and pairs the two halves up without parsing the entries (or, mostly, the paths).
    (The common folder: a fifth of the bytes of the bench corpus's index, its site-packages,
    not read and checked 5,000 times.) Written in pieces; the checksum goes into the header
    once the body is written."""
    header = b"%s %d " % (_MAGIC, FORMAT)
    out.write(header + _checksum(b"") + b"\n")
    crc = 0

    def emit(lines: list[str]) -> None:
        nonlocal crc
        data = "".join(lines).encode("ascii")
        crc = crc32(data, crc)
        out.write(data)

    common = os.path.commonprefix(list(entries))
    common = common[: common.rfind(os.sep) + 1]
    emit([f"{_json(key)}\n{len(entries)}\n{_json(common)}\n"])
    for part in (0, 1):
        batch = []
        for path, (_, text) in entries.items():
            batch.append(f"{_json(path[len(common) :]) if part == 0 else text}\n")
            if len(batch) == 4096:
                emit(batch)
                batch = []
        emit(batch)
    out.flush()
    out.seek(len(header))
    out.write(_checksum(b"", crc))


def _read_index(path: str, key: str) -> dict[str, str]:
    """The entries of an index file, each as its JSON text (parsed only when looked up: a
    third of the memory of parsed entries); empty when the file is missing, damaged or not ours."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        header, _, body = data.partition(b"\n")
        magic, version, checksum = header.split(b" ")
        if magic != _MAGIC or int(version) != FORMAT or _checksum(body) != checksum:
            return {}
        del data
        lines = body.decode("ascii").split("\n")
        del body
        count, common = int(lines[1]), _unquoted(lines[2])
        if lines[0] != _json(key) or len(lines) != 2 * count + 4 or lines[-1] != "":
            return {}
        paths = [common + p[1:-1] if "\\" not in p else common + _unquoted(p) for p in lines[3 : 3 + count]]
        if paths and (lines[3][0] != '"' or lines[2 + count][-1] != '"'):
            return {}
        entries = dict(zip(paths, lines[3 + count : 3 + 2 * count]))
        return entries if len(entries) == count else {}
    except (OSError, ValueError, TypeError, IndexError, UnicodeDecodeError):
        return {}


def _checksum(data: bytes, crc: int = 0) -> bytes:
    """The checksum of an index or a listing shape, against a damaged file (a disk's or a
    killed writer's, not an adversary's): CRC-32, a fifth of blake2b's time over an index
    of thousands of entries. (``crc``: of what came before ``data``.)"""
    return b"%08x" % crc32(data, crc)


def _unquoted(line: str) -> str:
    """A JSON string (a whole line) decoded."""
    text, end = scanstring(line, 1)
    if line[0] != '"' or end != len(line):
        raise ValueError("not a JSON string")
    return text


def _prune(directory: str, keep: str) -> None:
    """At most MAX_INDEXES index files (the least recently written go), and no temporary
    file left by a run that was killed mid-write (older than a minute)."""
    indexes = []
    for entry in os.scandir(directory):
        if entry.name.endswith(".cache"):
            indexes.append((entry.stat().st_mtime_ns, entry.path))
        elif entry.name.startswith(".tmp-") and entry.stat().st_mtime_ns < time.time_ns() - 60 * 10**9:
            _remove(entry.path)
    for _, path in sorted(indexes, reverse=True)[MAX_INDEXES:]:
        if path != keep:
            _remove(path)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _tag(directory: str) -> None:
    """A CACHEDIR.TAG, so that backup tools skip the folder."""
    tag = os.path.join(directory, "CACHEDIR.TAG")
    if not os.path.exists(tag):
        with open(tag, "w", encoding="ascii") as handle:
            handle.write("Signature: 8a477f597d28d172789f06886806bc55\n# devicelint's cache (devicelint clean removes it)\n")


# -- findings as JSON --------------------------------------------------------------------


def _plain(finding: Finding) -> list:
    return [
        finding.code, finding.message, finding.line, finding.column, finding.end_line, finding.end_column,
        [[e.line, e.column, e.end_line, e.end_column, e.replacement] for e in finding.edits],
        finding.fix_note,
        [_plain_location(x) for x in finding.related],
        [_plain_location(x) for x in finding.steps],
        finding.applicability,
    ]  # fmt: skip


def _plain_location(location: Location) -> list:
    return [location.line, location.column, location.end_line, location.end_column, location.label, location.path]


def _finding(data: list) -> Finding:
    code, message, line, column, end_line, end_column, edits, fix_note, related, steps, applicability = data
    return Finding(
        _str(code), _str(message), *map(_int, (line, column, end_line, end_column)),
        edits=tuple(Edit(*map(_int, e[:4]), _str(e[4])) for e in edits),
        fix_note=None if fix_note is None else _str(fix_note),
        related=tuple(_location(x) for x in related),
        steps=tuple(_location(x) for x in steps),
        applicability=_str(applicability),
    )  # fmt: skip


def _location(data: list) -> Location:
    line, column, end_line, end_column, label, path = data
    return Location(*map(_int, (line, column, end_line, end_column)), _str(label), None if path is None else _str(path))


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError("not an int")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not a str")
    return value
