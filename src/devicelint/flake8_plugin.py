"""flake8 front end: ``flake8 --select DEV``.

flake8 runs every installed plugin on every file whatever ``--select`` says, so
the cost on a file without a device mistake must stay a string scan: the plugin
asks for ``lines`` and the ``tree`` flake8 already parsed, and only files that
pass the pre-scan go through the analysis. flake8 applies ``# noqa`` itself.

Options: ``--extra-sinks`` and ``--extra-device-types`` (comma separated, also in
flake8's own config files as ``extra-sinks = ...``). An option that is not given
comes from the nearest pyproject.toml's ``[tool.devicelint]`` (searched upward from
the current directory, where flake8 also looks for its configuration; not with
``flake8 --isolated``), so flake8 and ``devicelint check`` agree without
configuring both.
"""

from __future__ import annotations

import argparse
import ast
import codecs
import re
import sys
from collections.abc import Iterator
from typing import Any

from devicelint import __version__
from devicelint.analysis import (
    DEFAULT_SETTINGS,
    MAX_SOURCE_BYTES,
    Settings,
    TooComplex,
    analyze_bytes,
    analyze_text,
    guarded,
    refused_finding,
)
from devicelint.findings import Finding
from devicelint.reading import Refused, read_regular_file


class DeviceLintChecker:
    name = "devicelint"
    version = __version__
    settings: Settings = DEFAULT_SETTINGS

    def __init__(self, tree: ast.Module, lines: list[str], filename: str = "") -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename  # places the module in its project (values cross modules)

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        option_manager.add_option(
            "--extra-sinks",
            default=None,
            parse_from_config=True,
            comma_separated_list=True,
            help="devicelint: your own functions that parse devices, name[:ARG] (e.g. mylib.place:device); "
            "default: [tool.devicelint] extra-sinks of the nearest pyproject.toml",
        )
        option_manager.add_option(
            "--extra-device-types",
            default=None,
            parse_from_config=True,
            comma_separated_list=True,
            help="devicelint: device types your torch build accepts besides torch's own (e.g. npu,musa); "
            "default: [tool.devicelint] extra-device-types of the nearest pyproject.toml",
        )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        from devicelint.config import (
            ConfigError,
            check_device_types,
            check_sinks,
            discover_config,
        )

        sinks = getattr(options, "extra_sinks", None)
        device_types = getattr(options, "extra_device_types", None)
        try:
            # flake8 --isolated ignores every configuration file, pyproject.toml included.
            if (sinks is None or device_types is None) and not getattr(options, "isolated", False):
                config = discover_config(".")
                sinks = config.extra_sinks if sinks is None else sinks
                device_types = config.extra_device_types if device_types is None else device_types
            sinks = check_sinks([s for s in sinks or () if s], "--extra-sinks")
            device_types = check_device_types([d for d in device_types or () if d], "--extra-device-types")
        except ConfigError as error:
            selected = [*(getattr(options, "select", None) or ()), *(getattr(options, "extend_select", None) or ())]
            if any(code.startswith("DEV") for code in selected):
                # DEV asked for by name: the configuration is wrong for the run the user wants.
                # One line and exit 2 (flake8 would print a traceback for an exception here).
                print(f"flake8: devicelint: error: {error}", file=sys.stderr)
                raise SystemExit(2) from None
            # Not devicelint's business to stop flake8 for other checks (`flake8 --select E501`
            # with a broken pyproject.toml somewhere above): say so once, go on with defaults.
            print(f"flake8: devicelint: warning: {error}; using the default devicelint settings", file=sys.stderr)
            sinks, device_types = (), ()
        cls.settings = Settings.create(device_types, sinks) if sinks or device_types else DEFAULT_SETTINGS

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        """Never raises: whatever goes wrong with this file is its DEV900, and flake8 goes on."""
        try:
            findings = self._findings()
        except Exception as error:  # a devicelint bug must not cost flake8's other plugins their results
            findings = [refused_finding(f"devicelint internal error: {type(error).__name__}: {error}")]
        for finding in findings:
            yield finding.line, finding.column, f"{finding.code} {finding.message}", type(self)

    def _findings(self) -> list[Finding]:
        text = "".join(self.lines)
        if not self.settings.prescan.matches_text(text) and not _maybe_undecodable(text, self.lines):
            return []  # the common case: a string scan, nothing more
        # flake8 decodes what it cannot decode as latin-1: read the file's own bytes, so that a
        # bad coding cookie or bytes that are not UTF-8 are DEV900 here as in `devicelint check`.
        if self.filename and self.filename not in ("stdin", "-"):
            try:
                data = read_regular_file(self.filename, MAX_SOURCE_BYTES)
            except Refused as refused:
                return [refused_finding(str(refused))]
            except OSError:
                pass  # gone meanwhile: what flake8 read is all there is
            else:
                return analyze_bytes(data, self.filename, self.settings, honour_noqa=False)
        try:
            return guarded(
                lambda: analyze_text(text, self.filename or "<unknown>", self.settings, tree=self.tree, honour_noqa=False)
            )
        except TooComplex as error:
            return [refused_finding(str(error))]


_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def _maybe_undecodable(text: str, lines: list[str]) -> bool:
    """Whether flake8 may have fallen back to latin-1 for this file (a coding cookie, or text
    whose latin-1 bytes are not UTF-8: a UTF-16 file, a stray byte). In memory, no file read:
    text with characters beyond latin-1 was decoded for real."""
    for line in lines[:2]:
        cookie = _COOKIE.match(line)
        if cookie is not None:
            try:
                if codecs.lookup(cookie[1]).name != "utf-8":
                    return True
            except LookupError:
                return True
    if text.isascii():
        return False
    try:
        text.encode("latin-1").decode("utf-8")
    except UnicodeEncodeError:
        return False
    except UnicodeDecodeError:
        return True
    return False
