"""Rule documentation: the Markdown files under docs/, one per code.

The same text is printed by ``devicelint rule CODE``, linked from README's rule
table and embedded in SARIF output.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def rule_doc(code: str) -> str:
    return resources.files("devicelint").joinpath("docs", f"{code}.md").read_text(encoding="utf-8")


def doc_url(code: str) -> str:
    """Where the rule's documentation lives in the repository (README links here too)."""
    return f"src/devicelint/docs/{code}.md"
