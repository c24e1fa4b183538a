"""``[tool.devicelint]`` in pyproject.toml: finding it, reading it, checking every key.

The configuration of a run is the nearest pyproject.toml, searching upward from
the current directory, that has a ``[tool.devicelint]`` table (as ruff skips a
pyproject.toml without ``[tool.ruff]``). Relative patterns in it are relative to
its directory, the project root. Command-line flags override it (cli.py).

Bad configuration is the user's to fix, so every problem is a ``ConfigError``
with one line that names the file and the key.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from functools import cached_property, lru_cache

from devicelint.dataclass import dataclass, field
from devicelint.findings import RULES, CodeFilter
from devicelint.globs import PatternSet, absolute

TYPE_CHECKING = False  # typing.TYPE_CHECKING (type checkers take it as true) without importing typing: 2-4 ms of start-up
if TYPE_CHECKING:
    from typing import Any

    from devicelint.analysis import Settings

PYPROJECT = "pyproject.toml"
# Compiled on first use (re caches them): most runs check no code or device type.
_CODE = r"DEV[0-9]{0,3}"
_DEVICE_TYPE = r"[A-Za-z_][A-Za-z0-9_]*"


class ConfigError(Exception):
    """Invalid configuration: one line for the user, exit 2."""


def parse_code(value: str) -> str:
    """A code or prefix (``DEV``, ``DEV00``, ``DEV001``), upper-cased; ValueError if it is not one."""
    code = value.strip().upper()
    if not re.fullmatch(_CODE, code):
        raise ValueError(f"{value.strip()!r} is not a devicelint code or prefix (expected e.g. DEV001 or DEV)")
    return code


@dataclass(frozen=True)
class RuleSelection:
    """One layer of rule selection: the configuration file's, then the command line's."""

    select: tuple[str, ...] | None = None  # None: keep what the previous layer selected
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


def enabled_codes(*layers: RuleSelection) -> tuple[str, ...]:
    """The codes a run reports, ruff-style: each layer's ``select`` starts over, and within a
    layer the more specific entry wins (``select DEV001`` + ``ignore DEV`` keeps DEV001), a tie
    going to ``ignore``. Codes carried over from an earlier layer lose to any ignore."""
    enabled = {code for code in RULES if CodeFilter(("DEV",)).allows(code)}
    for layer in layers:
        now = set()
        for code in RULES:
            chosen = [len(s) for s in (*(layer.select or ()), *layer.extend_select) if code.startswith(s)]
            if layer.select is None and code in enabled:
                chosen.append(0)
            ignored = [len(i) for i in layer.ignore if code.startswith(i)]
            if chosen and max(chosen) > max(ignored, default=-1):
                now.add(code)
        enabled = now
    return tuple(sorted(enabled))


@dataclass(frozen=True)
class Config:
    """What a ``[tool.devicelint]`` table says; the defaults where it says nothing."""

    source: str | None = None  # the file, as shown in messages; None: no configuration file
    root: str = field(default_factory=lambda: absolute("."))  # what relative patterns are relative to
    rules: RuleSelection = RuleSelection()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] | None = None  # None: discover.DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    extra_sinks: tuple[str, ...] = ()
    extra_device_types: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False
    cache_dir: str | None = None  # None: DEVICELINT_CACHE_DIR or the platform's cache folder (cache.py)


# --- reading ---------------------------------------------------------------------


def _strings(key: str, value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}'{key}' must be a list of strings")
    return tuple(value)


def _codes(key: str, value: Any, where: str) -> tuple[str, ...]:
    codes = []
    for item in _strings(key, value, where):
        try:
            codes.append(parse_code(item))
        except ValueError as error:
            raise ConfigError(f"{where}'{key}': {error}") from None
    return tuple(codes)


def _string(key: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}'{key}' must be a non-empty string")
    return value


def _bool(key: str, value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}'{key}' must be true or false")
    return value


def check_sinks(entries: Iterable[str], what: str) -> tuple[str, ...]:
    entries = tuple(entries)
    for entry in entries:
        try:
            from devicelint.sinks import SinkSpec  # here: reading a configuration needs no engine

            SinkSpec.parse(entry)
        except ValueError as error:
            raise ConfigError(f"{what} entry {entry!r}: {error}") from None
    return entries


def check_device_types(entries: Iterable[str], what: str) -> tuple[str, ...]:
    entries = tuple(entries)
    for entry in entries:
        if not re.fullmatch(_DEVICE_TYPE, entry):
            raise ConfigError(f"{what} entry {entry!r} is not a device type name (expected e.g. npu)")
    return entries


def _per_file_ignores(key: str, value: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}'{key}' must be a table of \"glob\" = [codes]")
    return tuple((glob, _codes(f"{key}.{glob}", codes, where)) for glob, codes in value.items())


_KEYS = {
    "select", "extend-select", "ignore", "exclude", "extend-exclude", "per-file-ignores",
    "extra-sinks", "extra-device-types", "respect-gitignore", "force-exclude", "cache-dir",
}  # fmt: skip


def config_from_table(table: dict[str, Any], source: str, root: str, where: str) -> Config:
    """A Config from a parsed table; ``where`` prefixes messages (``pyproject.toml: [tool.devicelint] ``)."""
    for key in table:
        if key not in _KEYS:
            raise ConfigError(f"{where}unknown key {key!r}")
    get = table.get
    return Config(
        source=source,
        root=root,
        rules=RuleSelection(
            select=_codes("select", get("select"), where) if "select" in table else None,
            extend_select=_codes("extend-select", get("extend-select", []), where),
            ignore=_codes("ignore", get("ignore", []), where),
        ),
        per_file_ignores=_per_file_ignores("per-file-ignores", get("per-file-ignores", {}), where),
        exclude=_strings("exclude", get("exclude"), where) if "exclude" in table else None,
        extend_exclude=_strings("extend-exclude", get("extend-exclude", []), where),
        extra_sinks=check_sinks(_strings("extra-sinks", get("extra-sinks", []), where), f"{where}'extra-sinks'"),
        extra_device_types=check_device_types(
            _strings("extra-device-types", get("extra-device-types", []), where), f"{where}'extra-device-types'"
        ),
        respect_gitignore=_bool("respect-gitignore", get("respect-gitignore", True), where),
        force_exclude=_bool("force-exclude", get("force-exclude", False), where),
        cache_dir=_string("cache-dir", get("cache-dir"), where) if "cache-dir" in table else None,
    )


def _display(path: str) -> str:
    """A path for messages: relative to the current directory when it is below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return relative if not relative.startswith("..") else path


_MAX_CONFIG_BYTES = 4 * 2**20


def _read(path: str, display: str) -> bytes:
    from devicelint.reading import Refused, read_regular_file  # here: most runs read no configuration

    try:
        return read_regular_file(path, _MAX_CONFIG_BYTES)
    except Refused as refused:
        raise ConfigError(f"{display}: cannot read: {refused}") from None
    except OSError as error:
        raise ConfigError(f"{display}: cannot read: {error.strerror or error}") from None


def _parse_toml(data: bytes, display: str) -> dict[str, Any]:
    # Imported here: most runs find no configuration file, or one that is not ours.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{display}: invalid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{display}: invalid TOML: not UTF-8 ({error.reason})") from None


def _read_toml(path: str, display: str) -> dict[str, Any]:
    return _parse_toml(_read(path, display), display)


def _may_configure_devicelint(data: bytes) -> bool:
    """False when the file cannot hold a ``[tool.devicelint]`` table, without parsing it.

    In TOML that table comes from a table header naming it (``[tool.devicelint]``,
    ``[ "tool" . devicelint.per-file-ignores ]``), a top-level key naming both
    (``tool.devicelint.select = ...``, ``tool = { devicelint = ... }``) or a key under a
    ``[tool]`` header (``devicelint = { ... }``); a header and a key are each on one line, and
    only \\u escapes in a quoted key can spell a letter. So the file may hold it only if it has
    such escapes, or a line with both "tool" and "devicelint", or "devicelint" and a
    ``[tool]`` header. (A pyproject.toml that merely names the package devicelint, as its
    own project's does, is not parsed.)
    """
    if b"\\u" in data or b"\\U" in data:
        return True
    if b"devicelint" not in data:
        return False
    if re.search(rb"(?m)^[ \t]*\[\[?[ \t]*(?:tool|\"tool\"|'tool')[ \t]*\]", data):
        return True
    start = data.find(b"devicelint")
    while start >= 0:
        line_start = data.rfind(b"\n", 0, start) + 1
        line_end = data.find(b"\n", start)
        line_end = len(data) if line_end < 0 else line_end
        if b"tool" in data[line_start:line_end]:
            return True
        start = data.find(b"devicelint", line_end)
    return False


def _devicelint_table(document: dict[str, Any], display: str) -> dict[str, Any] | None:
    tool = document.get("tool")
    if not isinstance(tool, dict) or "devicelint" not in tool:
        return None
    table = tool["devicelint"]
    if not isinstance(table, dict):
        raise ConfigError(f"{display}: [tool.devicelint] must be a table")
    return table


def load_file(path: str | os.PathLike[str], display: str | None = None) -> Config:
    """The configuration in ``path``: ``[tool.devicelint]`` of a pyproject.toml, or the top-level
    table of any other TOML file (``--config devicelint.toml``)."""
    path = os.fspath(path)
    display = display if display is not None else _display(path)
    document = _read_toml(path, display)
    root = absolute(os.path.dirname(absolute(path)))
    if os.path.basename(path) == PYPROJECT:
        table = _devicelint_table(document, display)
        return config_from_table(table or {}, display, root, f"{display}: [tool.devicelint] ")
    return config_from_table(document, display, root, f"{display}: ")


def find_config_file(start: str | os.PathLike[str]) -> str | None:
    """The nearest pyproject.toml with a ``[tool.devicelint]`` table, from ``start`` upward.
    A pyproject.toml that cannot hold the table is not parsed (nor judged)."""
    directory = absolute(start)
    while True:
        candidate = os.path.join(directory, PYPROJECT)
        if os.path.isfile(candidate):
            display = _display(candidate)
            data = _read(candidate, display)
            if _may_configure_devicelint(data) and _devicelint_table(_parse_toml(data, display), display) is not None:
                return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def discover_config(start: str | os.PathLike[str] = ".") -> Config:
    """The configuration that applies at ``start``: the nearest one, or the defaults rooted there."""
    found = find_config_file(start)
    return load_file(found) if found is not None else Config(root=absolute(start))


def settings_of(config: Config) -> Settings:
    from devicelint.analysis import Settings

    return Settings.create(config.extra_device_types, config.extra_sinks)


@lru_cache(maxsize=64)
def _settings_in(directory: str) -> tuple[Settings, FileRules]:
    config = discover_config(directory)
    return settings_of(config), FileRules.from_config(config)


def config_near(path: str | os.PathLike[str]) -> tuple[Settings, FileRules]:
    """Settings and code selection for one file, from the pyproject nearest to it (for the
    front ends that see one file at a time: the libcst codemod)."""
    return _settings_in(os.path.dirname(absolute(path)))


# --- which codes a file reports ----------------------------------------------------


@dataclass(frozen=True)
class FileRules:
    """The run's enabled codes minus each file's ``per-file-ignores``. Picklable (sent to workers)."""

    enabled: tuple[str, ...] = tuple(RULES)
    per_file_ignores: tuple[tuple[PatternSet, tuple[str, ...]], ...] = ()

    @classmethod
    def create(
        cls, enabled: tuple[str, ...], per_file_ignores: Iterable[tuple[str, tuple[str, ...]]], root: str
    ) -> FileRules:
        compiled = tuple((PatternSet.of([glob], root), codes) for glob, codes in per_file_ignores)
        return cls(enabled, compiled)

    @classmethod
    def from_config(cls, config: Config) -> FileRules:
        return cls.create(enabled_codes(config.rules), config.per_file_ignores, config.root)

    def ignored_for(self, path: str | os.PathLike[str]) -> tuple[str, ...]:
        if not self.per_file_ignores:
            return ()
        target = absolute(path)
        ignored: list[str] = []
        for patterns, codes in self.per_file_ignores:
            pattern = patterns.patterns[0]
            if pattern.matches(target) != pattern.negated:
                ignored.extend(codes)
        return tuple(ignored)

    def codes_for(self, path: str | os.PathLike[str]) -> CodeFilter:
        ignored = self.ignored_for(path)
        return CodeFilter(tuple(c for c in self.enabled if not c.startswith(ignored))) if ignored else self._all

    @cached_property
    def _all(self) -> CodeFilter:
        """The filter of a file no per-file-ignores touch (made once: most files are such)."""
        return CodeFilter(self.enabled)
