"""Rule documentation: the Markdown files under docs/, one per code.

The same text is printed by ``devicelint rule CODE``, linked from README's rule
table (src/devicelint/docs/CODE.md) and embedded in SARIF output.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import metadata, resources

# Where users read about devicelint when the installed metadata names no repository.
PYPI_URL = "https://pypi.org/project/devicelint/"


@cache
def rule_doc(code: str) -> str:
    return resources.files("devicelint").joinpath("docs", f"{code}.md").read_text(encoding="utf-8")


def doc_path(code: str) -> str:
    """The rule's documentation inside the repository (README links here)."""
    return f"src/devicelint/docs/{code}.md"


@cache
def repository_url() -> str | None:
    """``[project.urls]`` Repository/Source/Homepage of the installed distribution, if any."""
    try:
        entries = metadata.metadata("devicelint").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    urls = {}
    for entry in entries:
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip()
    for label in ("repository", "source", "source code", "homepage"):
        url = urls.get(label, "")
        if url.startswith(("https://github.com/", "https://gitlab.com/")):
            return url.rstrip("/")
    return None


def information_url() -> str:
    return repository_url() or PYPI_URL


def doc_url(code: str) -> str:
    """An absolute URL of the rule's documentation (SARIF's helpUri, JSON's url)."""
    repository = repository_url()
    if repository is None:
        return PYPI_URL
    return f"{repository}/blob/main/{doc_path(code)}"


def what_it_does(code: str) -> str:
    """The first paragraph of the doc's "What it does" section, as one line of text."""
    lines = rule_doc(code).splitlines()
    try:
        start = lines.index("## What it does") + 1
    except ValueError:
        return ""
    paragraph: list[str] = []
    for line in lines[start:]:
        if not line.strip() or line.startswith("#"):
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    return " ".join(paragraph).rstrip(":") + ("." if paragraph and not paragraph[-1].endswith(".") else "")


# Every rule doc has ruff's sections, in this order (tests/test_ruledocs.py checks it).
SECTIONS = ("What it does", "Why is this bad?", "Example", "Known problems", "Fix safety", "Options", "References")

_CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def section(code: str, title: str) -> str:
    """The text of one ``## title`` section of the rule's doc ("" when it has none)."""
    text = rule_doc(code)
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    return match.group(1) if match else ""


def examples(code: str) -> list[tuple[str, str | None]]:
    """The ``## Example`` section's code as (bad, good) pairs: each ```python block, and the
    block after it that follows "Use instead" (None when there is none)."""
    text = section(code, "Example")
    blocks = [(match.start(), match.group(1)) for match in _CODE_BLOCK.finditer(text)]
    pairs: list[tuple[str, str | None]] = []
    index = 0
    while index < len(blocks):
        start, bad = blocks[index]
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if following is not None and "Use instead" in text[start + len(bad) : following[0]]:
            pairs.append((bad, following[1]))
            index += 2
        else:
            pairs.append((bad, None))
            index += 1
    return pairs
