"""GPU checks of the reference loader (run with ``pytest -m gpu``; skipped without CUDA).

The tiny checkpoint must give the CPU's greedy answer on cuda, the sharded
``device="auto"`` path must send inputs to the embeddings' GPU, and, when
``QWEN2_AUDIO_PATH`` names a real checkpoint, the real model must answer.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devicelint.reference.qwen2_audio import Qwen2AudioChat

from ._support import TONE_PROMPT, tone, torch

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif("not torch.cuda.is_available()", reason="needs a CUDA GPU (torch.cuda.is_available() is False)"),
]


@pytest.mark.usefixtures("no_tf32")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "auto"])
def test_tiny_model_on_cuda_matches_cpu(tiny_checkpoint: Path, tone_reply: str, device: str) -> None:
    if device == "auto" and torch.cuda.device_count() > 1:
        pytest.skip("with several GPUs 'auto' shards: see the multi-GPU test")
    chat = Qwen2AudioChat.from_pretrained(tiny_checkpoint, device=device, dtype="float32")
    assert not chat.sharded
    assert chat.input_device == torch.device("cuda", 0)
    assert {p.device for p in chat.model.parameters()} == {torch.device("cuda", 0)}
    assert chat.chat(tone(), TONE_PROMPT, 16_000, max_new_tokens=8) == tone_reply


@pytest.mark.usefixtures("no_tf32")
def test_cpu_tensors_are_moved_to_the_gpu(tiny_checkpoint: Path, tone_reply: str) -> None:
    chat = Qwen2AudioChat.from_pretrained(tiny_checkpoint, device="cuda", dtype="float32")
    # A CPU torch tensor as input: every processor output must follow the model.
    assert chat.chat(torch.from_numpy(tone()), TONE_PROMPT, 16_000, max_new_tokens=8) == tone_reply


@pytest.mark.usefixtures("no_tf32")
@pytest.mark.skipif("torch.cuda.device_count() < 2", reason="needs at least 2 CUDA GPUs for device_map='auto' sharding")
def test_auto_shards_over_several_gpus_and_feeds_the_embedding_device(tiny_checkpoint: Path, tone_reply: str) -> None:
    chat = Qwen2AudioChat.from_pretrained(tiny_checkpoint, device="auto", dtype="float32")
    assert chat.sharded, "device='auto' with several GPUs must load with device_map='auto'"
    embedding_device = chat.model.get_input_embeddings().weight.device
    assert chat.input_device == embedding_device
    assert chat.input_device.type == "cuda"
    print("device map:", chat.device_map)
    assert chat.chat(tone(), TONE_PROMPT, 16_000, max_new_tokens=8) == tone_reply


_REAL = os.environ.get("QWEN2_AUDIO_PATH", "")


@pytest.mark.skipif(
    not _REAL or not Path(_REAL).is_dir(),
    reason="set QWEN2_AUDIO_PATH to a local Qwen2-Audio(-7B-Instruct) checkpoint directory",
)
def test_real_checkpoint_answers_about_a_tone() -> None:
    chat = Qwen2AudioChat.from_pretrained(_REAL, device="auto")
    reply = chat.chat(
        tone(440, seconds=3.0), "Is this speech, music or a single steady tone? Answer briefly.", 16_000, 32
    )
    print("real model reply:", reply)
    assert reply.strip()
    assert "<|" not in reply
