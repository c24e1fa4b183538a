"""flake8 front end: ``flake8 --select DEV``.

flake8 runs every installed plugin on every file whatever ``--select`` says, so
the cost on a file without a device mistake must stay a string scan: the plugin
asks for ``lines`` and the ``tree`` flake8 already parsed, and only files that
pass the pre-scan go through the analysis. flake8 applies ``# noqa`` itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from devicelint import __version__
from devicelint.analysis import DEFAULT_SETTINGS, Settings, analyze_text


class DeviceLintChecker:
    name = "devicelint"
    version = __version__
    settings: Settings = DEFAULT_SETTINGS

    def __init__(self, tree: ast.Module, lines: list[str]) -> None:
        self.tree = tree
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        text = "".join(self.lines)
        for finding in analyze_text(text, settings=self.settings, tree=self.tree, honour_noqa=False):
            yield finding.line, finding.column, f"{finding.code} {finding.message}", type(self)
