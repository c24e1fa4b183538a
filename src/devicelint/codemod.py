"""libcst front end: a codemod command that libcst's own CLI runs.

    python -P -m libcst.tool codemod -x devicelint.codemod.FixInvertedDeviceConditional --no-format PATH
    ... FixInvertedDeviceConditional --no-format --unsafe-fixes PATH   (also the unsafe fixes)

(``-P``, Python 3.11+: without it, ``python -m`` imports the checked repository's own
top-level modules before the standard library's.)

It asks the engine (rewrite.fix_source) what to rewrite, with the same choice of
applicability as ``devicelint fix``; libcst then writes the module back. Nothing is
re-detected here. A file that does not parse is left to libcst (it skips it).

Configuration: each file gets the ``[tool.devicelint]`` of the pyproject.toml nearest
to it (extra-sinks, extra-device-types, select/ignore, per-file-ignores), unless
``settings`` was set on the class, which then wins for every file.
"""

from __future__ import annotations

import sys

import libcst as cst
from libcst.codemod import CodemodCommand, SkipFile

import argparse

from libcst.codemod import CodemodContext

from devicelint.analysis import DEFAULT_SETTINGS, Settings, TooComplex, guarded
from devicelint.config import ConfigError, config_near
from devicelint.findings import CodeFilter
from devicelint.rewrite import UnsafeFixError, fix_source
from devicelint.source import decode


class FixInvertedDeviceConditional(CodemodCommand):
    DESCRIPTION: str = (
        'Swap inverted device conditionals (DEV001): "auto" if device == "cuda" else device '
        '-> "cuda" if device == "auto" else device, where the strategy reaches a torch device API.'
    )

    settings: Settings = DEFAULT_SETTINGS

    def __init__(self, context: CodemodContext, unsafe_fixes: bool = False) -> None:
        super().__init__(context)
        self.unsafe_fixes = unsafe_fixes

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--unsafe-fixes",
            dest="unsafe_fixes",
            action="store_true",
            help="also apply unsafe fixes (as `devicelint fix --unsafe-fixes`)",
        )

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
        except (SyntaxError, ValueError) as error:  # libcst reads more than Python parses
            raise SkipFile(f"DEV900 syntax error: {error}") from None
        if result is None:
            raise SkipFile("nothing to fix")
        # Same encoding, newline and indentation as the original module.
        module = cst.parse_module(result, config=tree.config_for_parsing)
        if module.code != result or not self._read_back_exactly(text):
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

    def _fixed(self, text: str, settings: Settings, codes: CodeFilter) -> str | None:
        result = fix_source(text, self.context.filename or "<unknown>", settings, codes, unsafe_fixes=self.unsafe_fixes)
        if result.skipped:
            n = len(result.skipped)
            print(f"devicelint: {self.context.filename or '-'}: {n} {'fix' if n == 1 else 'fixes'} available with --unsafe-fixes", file=sys.stderr)
        return result.text
