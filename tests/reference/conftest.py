"""Shared fixtures for the reference Qwen2-Audio loader tests.

Everything runs offline: the environment forbids the Hugging Face hub before
transformers is imported anywhere, and the tiny checkpoint is built once per
session in a temporary directory (about 1 MB, a couple of seconds).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

from ._support import BUGGY_LOADER, TONE_PROMPT, run_python, tone  # noqa: E402

if TYPE_CHECKING:
    from devicelint.reference.qwen2_audio import Qwen2AudioChat


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random Qwen2-Audio checkpoint, built once per session."""
    from devicelint.reference.tiny import make_tiny_checkpoint

    return make_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "qwen2-audio-tiny")


@pytest.fixture(scope="session")
def tiny_chat(tiny_checkpoint: Path) -> Qwen2AudioChat:
    """The tiny checkpoint loaded on CPU through the reference loader."""
    from devicelint.reference.qwen2_audio import Qwen2AudioChat

    return Qwen2AudioChat.from_pretrained(tiny_checkpoint, device="cpu")


@pytest.fixture(scope="session")
def tone_reply(tiny_chat: Qwen2AudioChat) -> str:
    """The CPU reference answer for the standard 440 Hz tone (8 new tokens)."""
    return tiny_chat.chat(tone(), TONE_PROMPT, 16_000, max_new_tokens=8)


@pytest.fixture(scope="session")
def fixed_loader_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the buggy fixture repaired by the real ``devicelint fix`` CLI."""
    copy = tmp_path_factory.mktemp("fixed") / "fixed_loader.py"
    copy.write_bytes(BUGGY_LOADER.read_bytes())
    result = run_python("-m", "devicelint", "fix", str(copy))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), f"devicelint fix exited {result.returncode}: {result.stderr}"
    return copy


@pytest.fixture
def no_tf32() -> Iterator[None]:
    """Full fp32 on CUDA for exact CPU/GPU comparisons (cuDNN convs use TF32 by default)."""
    import torch

    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
