"""README's Python example of the reference loader runs as written, on the tiny checkpoint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devicelint.reference.qwen2_audio import Qwen2AudioChat, read_wav

from ._support import REPO, tone, write_wav

CHECKPOINT = "path/to/Qwen2-Audio-7B-Instruct"
CLIP = "clip.wav"


def readme_snippet() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The reference Qwen2-Audio loader") :]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_readme_snippet_answers(tiny_checkpoint: Path, tiny_chat: Qwen2AudioChat, tmp_path: Path, capsys, monkeypatch) -> None:
    snippet = readme_snippet()
    assert CHECKPOINT in snippet and CLIP in snippet
    wav = write_wav(tmp_path / CLIP, tone(), 16_000)
    monkeypatch.chdir(tmp_path)  # the snippet reads "clip.wav" from the current directory
    code = snippet.replace(CHECKPOINT, str(tiny_checkpoint))
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})  # every name it uses, it defines
    printed = capsys.readouterr().out
    samples, rate = read_wav(wav)
    expected = tiny_chat.chat(samples, "What is this sound?", rate)
    assert expected.strip()
    assert printed == expected + "\n"


def test_readme_snippet_names_are_defined() -> None:
    """No name is used before the snippet defines or imports it (``audio`` once was not)."""
    import ast
    import builtins

    tree = ast.parse(readme_snippet())
    defined = set(dir(builtins))
    for statement in tree.body:
        used = {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        assert used <= defined, f"line {statement.lineno} uses {sorted(used - defined)} before defining it"
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
            elif isinstance(node, ast.alias):
                defined.add(node.asname or node.name.split(".")[0])
    if not tree.body:
        pytest.fail("empty snippet")
