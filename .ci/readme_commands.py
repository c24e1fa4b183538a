"""Print README's opening command N (1: install and run the linter, 2: install and run the
quick tests), exactly as written there: the first two ```sh blocks, one line each.
.ci/run and tests/test_readme.py use this, so CI runs what a newcomer pastes."""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def opening_commands(text: str) -> list[str]:
    blocks = re.findall(r"^```sh\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    commands = [block.strip() for block in blocks[:2]]
    if len(commands) != 2 or any("\n" in command for command in commands):
        raise SystemExit("README.md must open with two ```sh blocks of one command each")
    return commands


if __name__ == "__main__":
    print(opening_commands(README.read_text(encoding="utf-8"))[int(sys.argv[1]) - 1])
