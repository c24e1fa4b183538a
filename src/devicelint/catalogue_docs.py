"""The sink list in README.md and the rule docs, rendered from the catalogue.

Each document holds the rendering between ``<!-- begin generated: sinks -->`` and
``<!-- end generated: sinks -->``; ``python -m devicelint.catalogue_docs --write``
rewrites those blocks, ``--check`` exits 1 when one differs (tests run the check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devicelint.catalogue import (
    DEVICE_KEYWORD,
    DEVICE_KEYWORD_PACKAGES,
    FOREIGN_TO_LIBRARIES,
    METHOD_SINKS,
    QUALIFIED_SINKS,
    SinkSpec,
)

BEGIN = "<!-- begin generated: sinks -->"
END = "<!-- end generated: sinks -->"
PACKAGE = Path(__file__).resolve().parent
# The documents that carry the block, relative to the repository root (README only in a checkout).
DOCUMENTS = ("README.md", "src/devicelint/docs/DEV001.md", "src/devicelint/docs/DEV002.md")


def _argument(spec: SinkSpec) -> str:
    ordinal = {0: "1st", 1: "2nd", 2: "3rd"}.get(spec.position or 0, f"{(spec.position or 0) + 1}th")
    parts = ([f"{ordinal} positional"] if spec.position is not None else []) + (
        [f"`{spec.keyword}=`"] if spec.keyword is not None else []
    )
    return " or ".join(parts)


def _merged(specs: tuple[SinkSpec, ...]) -> list[tuple[str, str, bool]]:
    """(name, argument, strict) per sink; import paths of one callable (same final name and
    argument) are shown once, under the shortest path."""
    groups: dict[tuple, list[SinkSpec]] = {}
    for spec in specs:
        key = (spec.name.rsplit(".", 1)[-1], spec.name.split(".", 1)[0], spec.position, spec.keyword, spec.strict)
        groups.setdefault(key, []).append(spec)
    rows = []
    for members in groups.values():
        names = sorted({m.name for m in members}, key=lambda n: (n.count("."), len(n), n))
        rows.append((names[0], _argument(members[0]), members[0].strict))
    return rows


def render() -> str:
    """The markdown list of sinks (without the markers)."""
    lines = ["| sink | device argument |", "| --- | --- |"]
    for name, argument, _ in _merged(QUALIFIED_SINKS):
        lines.append(f"| `{name}()` | {argument} |")
    methods: dict[str, list[str]] = {}
    for name, argument, strict in _merged(METHOD_SINKS):
        note = "" if strict else " (tracked mistakes only: other libraries' `.to(unit)`)"
        methods.setdefault(name, []).append(argument + note)
    for name, arguments in methods.items():
        lines.append(f"| `x{name}()` | {'; '.join(arguments)} |")
    for package in DEVICE_KEYWORD_PACKAGES:
        lines.append(f"| any other `{package}.*()` call | `{DEVICE_KEYWORD}=` |")
    lines.append("| your `extra-sinks` | as configured |")
    foreign = ", ".join(f"`{name}`" for name in FOREIGN_TO_LIBRARIES)
    lines += [
        "",
        "Calls are matched through the imports (`import torch as T`, `from torch import device`),",
        "also under the other module paths the catalogue lists for the same callable. Methods are",
        "matched by name on any receiver, except one known to be another library's",
        f"({foreign}) or an instance of a project class with its own plain `to`, and except in a",
        "module that imports such a library and nothing from torch's ecosystem (judged per function:",
        "the module's imports outside functions with those of the function holding the call).",
    ]
    return "\n".join(lines) + "\n"


def block() -> str:
    return f"{BEGIN}\n{render()}{END}"


def current_block(text: str) -> str | None:
    """The generated block a document holds now (markers included); None if it has none."""
    start = text.find(BEGIN)
    end = text.find(END, start)
    if start < 0 or end < 0:
        return None
    return text[start : end + len(END)]


def rewritten(text: str) -> str:
    found = current_block(text)
    if found is None:
        raise ValueError(f"no {BEGIN} ... {END} block")
    return text.replace(found, block(), 1)


def documents(root: Path) -> list[Path]:
    return [root / name for name in DOCUMENTS if (root / name).is_file()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devicelint.catalogue_docs", description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="rewrite the generated blocks")
    action.add_argument("--check", action="store_true", help="exit 1 if a block differs from the catalogue")
    parser.add_argument("--root", type=Path, default=PACKAGE.parent.parent, help="repository root (default: this checkout)")
    args = parser.parse_args(argv)
    stale = []
    for path in documents(args.root):
        text = path.read_text(encoding="utf-8")
        try:
            new = rewritten(text)
        except ValueError as error:
            print(f"{path}: {error}", file=sys.stderr)
            return 2
        if new != text:
            stale.append(path)
            if args.write:
                path.write_text(new, encoding="utf-8")
    for path in stale:
        print(f"{'rewrote' if args.write else 'stale'}: {path}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
