"""libcst front end: a codemod command that libcst's own CLI runs.

    python -m libcst.tool codemod -x devicelint.codemod.FixInvertedDeviceConditional --no-format PATH

It asks the shared analysis what to rewrite and applies the same text edits as
``devicelint fix``; libcst then writes the module back. Nothing is re-detected here.

Configuration: each file gets the ``[tool.devicelint]`` of the pyproject.toml nearest
to it (extra-sinks, extra-device-types, select/ignore, per-file-ignores), unless
``settings`` was set on the class, which then wins for every file.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodCommand, SkipFile

from devicelint.analysis import DEFAULT_SETTINGS, Settings, analyze_text
from devicelint.config import config_near
from devicelint.findings import CodeFilter
from devicelint.rewrite import fix_text


class FixInvertedDeviceConditional(CodemodCommand):
    DESCRIPTION: str = (
        'Swap inverted device conditionals (DEV001): "auto" if device == "cuda" else device '
        '-> "cuda" if device == "auto" else device, where the strategy reaches a torch device API.'
    )

    settings: Settings = DEFAULT_SETTINGS

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        text = tree.code
        settings, codes = self.settings, CodeFilter()
        if self.context.filename:
            file_settings, rules = config_near(self.context.filename)
            settings = file_settings if settings is DEFAULT_SETTINGS else settings
            codes = rules.codes_for(self.context.filename)
        findings = analyze_text(text, self.context.filename or "<unknown>", settings)
        result = fix_text(text, [f for f in findings if codes.allows(f.code)])
        if result is None:
            raise SkipFile("no inverted device conditional to fix")
        # Same encoding, newline and indentation as the original module.
        return cst.parse_module(result.text, config=tree.config_for_parsing)
