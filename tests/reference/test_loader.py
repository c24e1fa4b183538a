"""Qwen2AudioChat on CPU with the tiny checkpoint: real processor, real model, real generate()."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from devicelint.reference.qwen2_audio import (
    CheckpointNotFoundError,
    DeviceUnavailableError,
    InvalidAudioError,
    InvalidCheckpointError,
    InvalidDeviceError,
    Qwen2AudioChat,
    resolve_device,
)

from ._support import TONE_PROMPT, tone, torch

RATE = 16_000


def test_answers_a_tone_with_new_text_only(tiny_chat: Qwen2AudioChat, tone_reply: str) -> None:
    assert isinstance(tone_reply, str) and tone_reply.strip()
    assert "<|" not in tone_reply  # special tokens skipped
    assert "assistant" not in tone_reply and TONE_PROMPT not in tone_reply  # the prompt is not echoed


def test_model_and_inputs_live_on_the_resolved_device(tiny_chat: Qwen2AudioChat) -> None:
    assert tiny_chat.input_device == torch.device("cpu")
    assert {p.device for p in tiny_chat.model.parameters()} == {torch.device("cpu")}
    assert tiny_chat.model.dtype == torch.float32
    assert not tiny_chat.sharded
    assert "input_device='cpu'" in repr(tiny_chat)


def test_greedy_reply_is_identical_across_runs_and_loads(
    tiny_checkpoint: Path, tiny_chat: Qwen2AudioChat, tone_reply: str
) -> None:
    assert tiny_chat.chat(tone(), TONE_PROMPT, RATE, max_new_tokens=8) == tone_reply
    again = Qwen2AudioChat.from_pretrained(tiny_checkpoint, device=torch.device("cpu"))
    assert again.chat(tone(), TONE_PROMPT, RATE, max_new_tokens=8) == tone_reply


def test_auto_places_the_model_on_the_resolved_device(tiny_checkpoint: Path) -> None:
    chat = Qwen2AudioChat.from_pretrained(tiny_checkpoint)  # device="auto"
    assert chat.input_device == resolve_device("auto")
    assert chat.input_device == chat.model.get_input_embeddings().weight.device
    assert chat.chat(tone(), TONE_PROMPT, RATE, max_new_tokens=4).strip()


def test_the_audio_reaches_the_model(tiny_chat: Qwen2AudioChat, tone_reply: str) -> None:
    # Same prompt, different sound: a loader that dropped input_features would answer the same.
    assert tiny_chat.chat(tone(3_000), TONE_PROMPT, RATE, max_new_tokens=8) != tone_reply


def test_max_new_tokens_bounds_a_greedy_continuation(tiny_chat: Qwen2AudioChat) -> None:
    short = tiny_chat.chat(tone(), TONE_PROMPT, RATE, max_new_tokens=3)
    long = tiny_chat.chat(tone(), TONE_PROMPT, RATE, max_new_tokens=12)
    assert len(long) > len(short)
    assert long.startswith(short.rstrip("\ufffd"))  # a cut UTF-8 sequence decodes to U+FFFD


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_stereo_is_down_mixed(tiny_chat: Qwen2AudioChat, tone_reply: str, layout: str) -> None:
    mono = tone()
    stereo = np.stack([mono, mono]) if layout == "channels_first" else np.stack([mono, mono], axis=1)
    assert tiny_chat.chat(stereo, TONE_PROMPT, RATE, max_new_tokens=8) == tone_reply


def test_tensors_lists_and_int16_pcm_give_the_same_answer(tiny_chat: Qwen2AudioChat, tone_reply: str) -> None:
    mono = tone()
    assert tiny_chat.chat(torch.from_numpy(mono), TONE_PROMPT, RATE, max_new_tokens=8) == tone_reply
    assert tiny_chat.chat(mono.tolist(), TONE_PROMPT, RATE, max_new_tokens=8) == tone_reply
    pcm = np.round(mono * 32768).astype(np.int16)  # unscaled, this would be a 16000x louder input
    assert tiny_chat.chat(pcm, TONE_PROMPT, RATE, max_new_tokens=8) == tone_reply


def test_other_sampling_rates_are_resampled(tiny_chat: Qwen2AudioChat, tone_reply: str) -> None:
    at_44k = tone(rate=44_100)
    assert tiny_chat.chat(at_44k, TONE_PROMPT, 44_100, max_new_tokens=8) == tone_reply
    # Declaring the wrong rate changes what the model hears (the tone becomes ~160 Hz).
    assert tiny_chat.chat(at_44k, TONE_PROMPT, RATE, max_new_tokens=8) != tone_reply


@pytest.mark.parametrize(
    ("audio", "needle"),
    [
        (np.zeros(0, dtype=np.float32), "empty"),
        (np.full(RATE, np.nan, dtype=np.float32), "non-finite"),
        (np.zeros((1, 2, RATE), dtype=np.float32), "3-D"),
        (np.zeros((4, RATE), dtype=np.float32), "stereo"),
        (tone(seconds=0.05), "too short"),
    ],
)
def test_bad_audio_is_a_clear_error(tiny_chat: Qwen2AudioChat, audio: np.ndarray, needle: str) -> None:
    with pytest.raises(InvalidAudioError, match=needle) as caught:
        tiny_chat.chat(audio, TONE_PROMPT, RATE)
    assert "\n" not in str(caught.value)


def test_bad_prompt_rate_and_token_budget(tiny_chat: Qwen2AudioChat) -> None:
    with pytest.raises(ValueError, match="prompt"):
        tiny_chat.chat(tone(), "   ", RATE)
    with pytest.raises(ValueError, match="max_new_tokens"):
        tiny_chat.chat(tone(), TONE_PROMPT, RATE, max_new_tokens=0)
    with pytest.raises(InvalidAudioError, match="sampling_rate"):
        tiny_chat.chat(tone(), TONE_PROMPT, 0)


def test_dtype_is_honoured(tiny_checkpoint: Path) -> None:
    chat = Qwen2AudioChat.from_pretrained(tiny_checkpoint, device="cpu", dtype="bfloat16")
    assert chat.model.dtype == torch.bfloat16
    assert chat.chat(tone(), TONE_PROMPT, RATE, max_new_tokens=2).strip()
    with pytest.raises(ValueError, match="invalid dtype"):
        Qwen2AudioChat.from_pretrained(tiny_checkpoint, device="cpu", dtype="float8")


def test_missing_and_invalid_checkpoint_directories(tmp_path: Path) -> None:
    with pytest.raises(CheckpointNotFoundError, match="model directory not found") as caught:
        Qwen2AudioChat.from_pretrained(tmp_path / "missing")
    assert isinstance(caught.value, FileNotFoundError)
    with pytest.raises(InvalidCheckpointError, match=r"no config\.json"):
        Qwen2AudioChat.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "whisper"}')
    with pytest.raises(InvalidCheckpointError, match="not Qwen2-Audio"):
        Qwen2AudioChat.from_pretrained(tmp_path)


def test_checkpoint_without_weights_or_tokenizer(tiny_checkpoint: Path, tmp_path: Path) -> None:
    for missing in ("model.safetensors", "tokenizer.json"):
        broken = tmp_path / missing
        broken.mkdir()
        for f in tiny_checkpoint.iterdir():
            if f.name != missing:
                (broken / f.name).write_bytes(f.read_bytes())
        with pytest.raises(InvalidCheckpointError) as caught:
            Qwen2AudioChat.from_pretrained(broken, device="cpu")
        assert "\n" not in str(caught.value)


def test_device_errors_come_before_loading(tiny_checkpoint: Path) -> None:
    with pytest.raises(InvalidDeviceError, match='did you mean "cuda"'):
        Qwen2AudioChat.from_pretrained(tiny_checkpoint, device="gpu")
    with pytest.raises(InvalidDeviceError, match="placement strategy"):
        Qwen2AudioChat.from_pretrained(tiny_checkpoint, device="balanced")


@pytest.mark.skipif("torch.cuda.is_available()", reason="CUDA is available here, so 'cuda' is not an unavailable device")
def test_cuda_on_a_cpu_machine_is_unavailable(tiny_checkpoint: Path) -> None:
    with pytest.raises(DeviceUnavailableError, match='"cuda" is not available'):
        Qwen2AudioChat.from_pretrained(tiny_checkpoint, device="cuda")
