"""The regression devicelint exists for, run for real against the tiny Qwen2-Audio checkpoint.

fixtures/qwen2_audio/buggy_loader.py is shaped like the original loader:
``device = "auto" if device == "cuda" else device``, kept on ``self`` and
later used for ``inputs.to(self._device)``. These tests show that it really
crashes with PyTorch's ``device string: auto`` error, that ``devicelint check``
points at the conditional (DEV001), and that the copy repaired by
``devicelint fix`` (the sharding-preserving fix: ``device_map="auto" if
self._device == "cuda" else self._device`` at the load, the device itself for
``inputs.to``) answers, and on a GPU machine loads with ``device_map="auto"``.

The ``devicelint`` CLI contract used here: ``devicelint check PATH`` prints
``path:line:col: DEV001 message`` lines and exits 1 on findings;
``devicelint fix PATH`` rewrites the file in place.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ._support import (
    BUGGY_EXPR,
    BUGGY_LOADER,
    TONE_PROMPT,
    conditional_line,
    load_module,
    run_python,
    tone,
    torch,
)

CUDA = "torch.cuda.is_available()"  # a skipif condition, evaluated when the test runs
NO_CUDA_REASON = "needs a CUDA GPU (torch.cuda.is_available() is False)"
AUTO_DEVICE_ERROR = re.compile(r"device type at start of device string: auto")


# ---------------------------------------------------------------- (a) the bug is real


def test_buggy_loader_loads_then_crashes_on_inputs_to_auto(tiny_checkpoint: Path) -> None:
    # "cuda" is turned into "auto": from_pretrained(device_map="auto") is fine
    # (CPU here, GPU on a GPU box), inputs.to("auto") is not. Torch rejects the
    # string while parsing it, before any CUDA call.
    buggy = load_module(BUGGY_LOADER, "buggy_loader")
    loader = buggy.Qwen2AudioLoader(str(tiny_checkpoint), device="cuda")
    assert loader._device == "auto"
    if not torch.cuda.is_available():
        assert loader.model.device == torch.device("cpu")
    with pytest.raises(RuntimeError, match=AUTO_DEVICE_ERROR):
        loader.chat(tone(), TONE_PROMPT, sampling_rate=16_000)


# ---------------------------------------------------------------- (c) devicelint finds it


def test_devicelint_check_reports_dev001_on_the_conditional() -> None:
    result = run_python("-m", "devicelint", "check", str(BUGGY_LOADER))
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    line = conditional_line(BUGGY_LOADER)
    findings = [f for f in result.stdout.splitlines() if " DEV001 " in f]
    assert findings, result.stdout
    assert any(re.search(rf"buggy_loader\.py:{line}:\d+: DEV001 ", f) for f in findings), (line, result.stdout)


# ---------------------------------------------------------------- (b) devicelint fix repairs it


def test_devicelint_fix_moves_the_conditional_to_device_map(fixed_loader_path: Path) -> None:
    """The sharding-preserving fix: the conditional's line goes, and device_map= gets the
    conditional inline with the expression it received; every other line stays."""
    before = BUGGY_LOADER.read_text(encoding="utf-8").splitlines()
    after = fixed_loader_path.read_text(encoding="utf-8").splitlines()
    line = conditional_line(BUGGY_LOADER)
    assert BUGGY_EXPR in before[line - 1]
    expected = before[: line - 1] + before[line:]
    (use,) = [i for i, text in enumerate(expected) if "device_map=self._device" in text]
    expected[use] = expected[use].replace(
        "device_map=self._device", 'device_map="auto" if self._device == "cuda" else self._device'
    )
    assert after == expected


def test_devicelint_fix_with_unsafe_fixes_is_the_same_fix(tmp_path: Path, fixed_loader_path: Path) -> None:
    """The move is safe: --unsafe-fixes changes nothing more (no swap of device_map=)."""
    copy = tmp_path / "loader.py"
    copy.write_bytes(BUGGY_LOADER.read_bytes())
    result = run_python("-m", "devicelint", "fix", "--unsafe-fixes", str(copy))
    assert result.returncode == 0, result.stdout + result.stderr
    assert copy.read_bytes() == fixed_loader_path.read_bytes()


def test_fixed_copy_passes_devicelint_check(fixed_loader_path: Path) -> None:
    result = run_python("-m", "devicelint", "check", str(fixed_loader_path))
    assert "DEV001" not in result.stdout, result.stdout
    assert "Traceback" not in result.stderr, result.stderr


def test_fixed_loader_answers_with_auto_on_cpu(tiny_checkpoint: Path, fixed_loader_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("with CUDA, device='auto' picks cuda: covered by the gpu test")
    from devicelint.reference.qwen2_audio import Qwen2AudioChat

    fixed = load_module(fixed_loader_path, "fixed_loader_cpu")
    loader = fixed.Qwen2AudioLoader(str(tiny_checkpoint), device="auto")
    assert loader._device == "cpu"
    reply = loader.chat(tone(), TONE_PROMPT, sampling_rate=16_000, max_new_tokens=8)
    # Same template, same greedy decoding: the reference loader gives the same answer.
    reference = Qwen2AudioChat.from_pretrained(tiny_checkpoint, device="cpu")
    assert reply == reference.chat(tone(), TONE_PROMPT, 16_000, max_new_tokens=8)
    assert reply.strip()


@pytest.mark.skipif(CUDA, reason="CUDA is available here; the gpu test covers device='cuda'")
def test_fixed_loader_with_cuda_on_a_cpu_machine_fails_in_torch_not_on_auto(
    tiny_checkpoint: Path, fixed_loader_path: Path
) -> None:
    # device_map= still receives "auto" (it places the model on the CPU here); the inputs go
    # to "cuda", which this machine does not have: torch's own error, not the "auto" one.
    fixed = load_module(fixed_loader_path, "fixed_loader_nocuda")
    with pytest.raises((AssertionError, RuntimeError)) as caught:
        loader = fixed.Qwen2AudioLoader(str(tiny_checkpoint), device="cuda")
        assert loader._device == "cuda"
        loader.chat(tone(), TONE_PROMPT, sampling_rate=16_000)
    message = str(caught.value)
    assert not AUTO_DEVICE_ERROR.search(message)
    assert re.search(r"cuda|nvidia", message, re.IGNORECASE), message


# ---------------------------------------------------------------- the same on a GPU machine


@pytest.mark.gpu
@pytest.mark.skipif(f"not {CUDA}", reason=NO_CUDA_REASON)
def test_gpu_buggy_loader_crashes_with_auto(tiny_checkpoint: Path) -> None:
    buggy = load_module(BUGGY_LOADER, "buggy_loader_gpu")
    loader = buggy.Qwen2AudioLoader(str(tiny_checkpoint), device="auto")  # auto -> cuda -> "auto"
    assert loader._device == "auto"
    assert loader.model.device.type == "cuda"
    with pytest.raises(RuntimeError, match=AUTO_DEVICE_ERROR):
        loader.chat(tone(), TONE_PROMPT, sampling_rate=16_000)


@pytest.mark.gpu
@pytest.mark.skipif(f"not {CUDA}", reason=NO_CUDA_REASON)
@pytest.mark.parametrize("device", ["auto", "cuda"])
def test_gpu_fixed_loader_answers_on_cuda(tiny_checkpoint: Path, fixed_loader_path: Path, device: str) -> None:
    fixed = load_module(fixed_loader_path, f"fixed_loader_gpu_{device}")
    loader = fixed.Qwen2AudioLoader(str(tiny_checkpoint), device=device)
    assert loader._device == "cuda"
    assert loader.model.device.type == "cuda"
    # Loaded with device_map="auto" (the fix kept the strategy): accelerate's placement map,
    # over every GPU of the machine.
    placed = set(loader.model.hf_device_map.values())
    assert placed <= set(range(torch.cuda.device_count())) and placed
    if torch.cuda.device_count() > 1:
        assert len({p.device for p in loader.model.parameters()}) > 1, "device_map='auto' must shard"
    assert loader.chat(tone(), TONE_PROMPT, sampling_rate=16_000, max_new_tokens=8).strip()
