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
import sys
from collections.abc import Iterator
from typing import Any

from devicelint import __version__
from devicelint.analysis import DEFAULT_SETTINGS, Settings, analyze_text


class DeviceLintChecker:
    name = "devicelint"
    version = __version__
    settings: Settings = DEFAULT_SETTINGS

    def __init__(self, tree: ast.Module, lines: list[str], filename: str = "<unknown>") -> None:
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
            # flake8 would print a traceback for an exception here: one line and exit 2 instead.
            print(f"flake8: devicelint: error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        cls.settings = Settings.create(device_types, sinks) if sinks or device_types else DEFAULT_SETTINGS

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        text = "".join(self.lines)
        for finding in analyze_text(text, self.filename, self.settings, tree=self.tree, honour_noqa=False):
            yield finding.line, finding.column, f"{finding.code} {finding.message}", type(self)
