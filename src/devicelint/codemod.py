"""libcst front end: a codemod command that libcst's own CLI runs.

    python -P -m libcst.tool codemod -x devicelint.codemod.FixInvertedDeviceConditional --no-format PATH

(``-P``, Python 3.11+: without it, ``python -m`` imports the checked repository's own
top-level modules before the standard library's.)

It asks the shared analysis what to rewrite and applies the same text edits as
``devicelint fix``; libcst then writes the module back. Nothing is re-detected here.

Configuration: each file gets the ``[tool.devicelint]`` of the pyproject.toml nearest
to it (extra-sinks, extra-device-types, select/ignore, per-file-ignores), unless
``settings`` was set on the class, which then wins for every file.
"""

from __future__ import annotations

import sys

import libcst as cst
from libcst.codemod import CodemodCommand, SkipFile

from devicelint.analysis import DEFAULT_SETTINGS, Settings, TooComplex, analyze_text, guarded
from devicelint.config import ConfigError, config_near
from devicelint.findings import CodeFilter
from devicelint.rewrite import FixResult, UnsafeFixError, fix_text
from devicelint.source import decode


class FixInvertedDeviceConditional(CodemodCommand):
    DESCRIPTION: str = (
        'Swap inverted device conditionals (DEV001): "auto" if device == "cuda" else device '
        '-> "cuda" if device == "auto" else device, where the strategy reaches a torch device API.'
    )

    settings: Settings = DEFAULT_SETTINGS

    def transform_module(self, tree: cst.Module) -> cst.Module:
        # libcst copies the tree recursively before the transform: deep input (a sum of 1,000
        # terms) gets a deep stack, and past that the file is skipped with one line (DEV900).
        try:
            return guarded(super().transform_module, tree)
        except TooComplex as error:
            raise SkipFile(f"DEV900 {error}") from None

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        text = tree.code
        settings, codes = self.settings, CodeFilter()
        if self.context.filename:
            try:
                file_settings, rules = config_near(self.context.filename)
            except ConfigError as error:
                # One line and exit 2 (libcst would print a traceback per file and exit 1).
                # SystemExit passes libcst's per-file `except Exception`, also from its workers.
                print(f"devicelint: error: {error}", file=sys.stderr)
                raise SystemExit(2) from None
            settings = file_settings if settings is DEFAULT_SETTINGS else settings
            codes = rules.codes_for(self.context.filename)
        try:
            result = guarded(self._fixed, text, settings, codes)
        except TooComplex as error:
            raise SkipFile(f"DEV900 {error}") from None
        except UnsafeFixError as error:
            raise SkipFile(f"not fixed: {error}") from None
        if result is None:
            raise SkipFile("no inverted device conditional to fix")
        # Same encoding, newline and indentation as the original module.
        module = cst.parse_module(result.text, config=tree.config_for_parsing)
        if module.code != result.text or not self._read_back_exactly(text):
            # libcst cannot write some files back exactly (it drops the last "\r" of a file
            # with CR-only line endings): leave those to `devicelint fix`.
            raise SkipFile("not fixed: libcst cannot write this file back byte for byte (use `devicelint fix`)")
        return module

    def _read_back_exactly(self, text: str) -> bool:
        """Whether libcst's module is the file as it is on disk (true for standard input)."""
        if not self.context.filename:
            return True
        try:
            with open(self.context.filename, "rb") as handle:
                return decode(handle.read()).text == text
        except (OSError, SyntaxError, UnicodeError, LookupError):
            return False

    def _fixed(self, text: str, settings: Settings, codes: CodeFilter) -> FixResult | None:
        findings = analyze_text(text, self.context.filename or "<unknown>", settings)
        if any(f.code == "DEV900" for f in findings):
            return None
        return fix_text(text, [f for f in findings if codes.allows(f.code)])
