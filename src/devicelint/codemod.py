"""libcst front end: a codemod command that libcst's own CLI runs.

    python -m libcst.tool codemod -x devicelint.codemod.FixInvertedDeviceConditional --no-format PATH

It asks the shared analysis what to rewrite and applies the same text edits as
``devicelint fix``; libcst then writes the module back. Nothing is re-detected here.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodCommand, SkipFile

from devicelint.analysis import DEFAULT_SETTINGS, Settings, analyze_text
from devicelint.rewrite import fix_text


class FixInvertedDeviceConditional(CodemodCommand):
    DESCRIPTION: str = (
        'Swap inverted device conditionals (DEV001): "auto" if device == "cuda" else device '
        '-> "cuda" if device == "auto" else device, where the strategy reaches a torch device API.'
    )

    settings: Settings = DEFAULT_SETTINGS

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        text = tree.code
        result = fix_text(text, analyze_text(text, self.context.filename or "<unknown>", self.settings))
        if result is None:
            raise SkipFile("no inverted device conditional to fix")
        # Same encoding, newline and indentation as the original module.
        return cst.parse_module(result.text, config=tree.config_for_parsing)
