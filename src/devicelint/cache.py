"""The persistent cache of ``devicelint check``: a file's findings, reused while nothing
they depend on has changed (as ruff's cache).

One index file per *fingerprint* (devicelint's version and code, Python's version, the
analysis settings) holds an entry per checked file (by absolute path): its size, time
and content hash, its import name, the findings, and what the engine read besides the file
(project.py records it: the project modules its summaries used by content hash, the module
paths it looked for and did not find, and the file listings of the importer index, since
a new or edited importer can change a result). An entry is used only when all of that
still holds; anything else is a miss, and a miss is only slower.

* Where: ``DEVICELINT_CACHE_DIR``, else ``cache-dir`` in the configuration, else the
  platform cache folder (``$XDG_CACHE_HOME/devicelint`` or ``~/.cache/devicelint``).
  Never the tree being checked (unless configured so), never for standard input, never
  from the flake8 plugin; ``--no-cache`` reads and writes nothing; ``devicelint clean``
  removes it.
* Safe: each index is written whole to a temporary file and renamed (concurrent runs
  never see half a file; the last writer wins, merged with what is on disk); a checksum
  guards against a damaged file, which is then ignored; a size and time are trusted to
  mean "unchanged" only when taken well after the last write (else the content hash
  decides). Bounded: MAX_ENTRIES per index, MAX_INDEXES indexes.
* The parent process looks entries up and stores them: only misses go to the workers.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass

from devicelint import __version__
from devicelint.findings import Edit, Finding, Location
from devicelint.project import RACY_NS, content_digest, dependency_holds

CACHE_ENV = "DEVICELINT_CACHE_DIR"
FORMAT = 2  # 2: findings carry their fix's applicability
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
    """Remove what devicelint wrote under ``directory``; whether there was anything."""
    import shutil

    target = os.path.join(directory, SUBDIR)
    if not os.path.isdir(target):
        return False
    shutil.rmtree(target, ignore_errors=True)
    _remove(os.path.join(directory, "CACHEDIR.TAG"))
    try:
        os.rmdir(directory)  # only if now empty: never someone else's files
    except OSError:
        pass
    return True


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


def settings_key(settings: object) -> str:
    """The analysis settings (an analysis.Settings) as text: the user's device types and sinks."""
    vocabulary, catalog = getattr(settings, "vocabulary"), getattr(settings, "catalog")
    return repr((sorted(vocabulary.extra_device_types), [repr(spec) for spec in catalog.extra]))


def fingerprint(settings_key: str) -> str:
    """What every entry of one index shares: the code that computed it and the settings."""
    material = "\n".join((str(FORMAT), __version__, sys.version, _code_signature(), settings_key))
    return hashlib.blake2b(material.encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()


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
        self.entries: dict[str, list] = _read_index(self.file, key)
        self.updated: dict[str, list] = {}
        self.now = time.time_ns()
        self._holds: dict[tuple, bool] = {}
        self._packages: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._names: dict[str, list] = {}  # folder -> [import root, name], as entries store it
        self._cwd = os.getcwd()

    # -- lookup ------------------------------------------------------------------------

    def lookup(self, path: str) -> list[Finding] | None:
        """The findings stored for ``path`` if everything they depend on still holds."""
        absolute = os.path.normpath(os.path.join(self._cwd, path))  # os.path.abspath, one getcwd() a run
        entry = self.entries.get(absolute)
        if entry is None:
            return None
        try:
            mtime, size, digest, name, recorded_at, dependencies, findings = entry[:7]
            info = os.stat(absolute)
            if (info.st_mtime_ns, info.st_size) != (mtime, size) or mtime >= recorded_at - RACY_NS:
                # changed, or written moments before it was read: the content decides
                with open(absolute, "rb") as handle:
                    if content_digest(handle.read(size + 1)) != digest:
                        return None
            if self._stored_name(absolute) != name:
                return None
            if dependencies and not all(self._holds_now(tuple(d)) for d in dependencies):
                return None
            result = [_finding(f) for f in findings]
        except (OSError, ValueError, TypeError, IndexError, KeyError):
            return None  # unreadable now, or a damaged entry: a miss
        if len(entry) < 8 or entry[7] < self.now // 10**9 - _TOUCH_SECONDS:
            entry[7:] = [self.now // 10**9]  # recently used (pruning keeps these); at most daily,
            self.updated[absolute] = entry  # so that a run over an unchanged tree writes nothing
        return result

    def _stored_name(self, path: str) -> list:
        folder = os.path.dirname(path)
        found = self._names.get(folder)
        if found is None:
            found = self._names[folder] = list(self._import_name(path))
        return found

    def _import_name(self, path: str) -> tuple[str, str | None]:
        """``project.import_root(FOLDER/_.py)[:2]`` for the folder of ``path``: where imports of
        a module there resolve from, and its package. Each folder's ``__init__.py`` is looked
        at once a run, not once per file below it."""
        root, packages = self._package(os.path.dirname(path))
        parts = (*packages, "_")
        return root, ".".join(parts) if all(p.isidentifier() for p in parts) else None

    def _package(self, directory: str) -> tuple[str, tuple[str, ...]]:
        """(import root, the package names from it down to ``directory``), as import_root walks
        up through the folders that hold an ``__init__.py``."""
        found = self._packages.get(directory)
        if found is None:
            if os.path.isfile(os.path.join(directory, "__init__.py")):
                parent, package = os.path.split(directory)
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
                found = dependency_holds(dependency)
            except (OSError, ValueError, TypeError):
                found = False
            self._holds[dependency] = found
        return found

    # -- store -------------------------------------------------------------------------

    def store(self, record: Record) -> None:
        name = self._stored_name(record.path)
        self.updated[record.path] = [
            record.mtime_ns, record.size, record.digest, name, record.recorded_at,
            [list(d) for d in record.dependencies], [_plain(f) for f in record.findings], self.now // 10**9,
        ]  # fmt: skip

    def save(self) -> None:
        """Write the index (merged with what another run wrote meanwhile); never raises."""
        if not self.updated:
            return
        import tempfile  # only a run that stores something needs it

        try:
            os.makedirs(self.directory, exist_ok=True)
            _tag(os.path.dirname(self.directory))
            entries = _read_index(self.file, self.key)  # another run's entries stay
            entries.update(self.updated)
            if len(entries) > MAX_ENTRIES:
                newest = sorted(entries.items(), key=lambda item: item[1][7] if len(item[1]) > 7 else 0, reverse=True)
                entries = dict(newest[:MAX_ENTRIES])
            body = json.dumps({"key": self.key, "entries": entries}, separators=(",", ":")).encode("utf-8", "surrogateescape")
            data = b"%s %d %s\n%s" % (_MAGIC, FORMAT, hashlib.blake2b(body, digest_size=16).hexdigest().encode(), body)
            handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=self.directory)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, self.file)
            except BaseException:
                _remove(temporary)
                raise
            _prune(self.directory, self.file)
        except (OSError, ValueError, TypeError):
            pass  # a read-only or full disk: the run's result stands, only the next run is slower


def _read_index(path: str, key: str) -> dict[str, list]:
    """The entries of an index file; empty when it is missing, damaged or not ours."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        header, _, body = data.partition(b"\n")
        magic, version, checksum = header.split(b" ")
        if magic != _MAGIC or int(version) != FORMAT or hashlib.blake2b(body, digest_size=16).hexdigest().encode() != checksum:
            return {}
        document = json.loads(body)
        entries = document["entries"] if document.get("key") == key else {}
        return entries if isinstance(entries, dict) else {}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


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
