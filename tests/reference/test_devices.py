"""resolve_device: "auto" picks an available device; anything else is validated, with one-line hints."""

from __future__ import annotations

import pytest

from devicelint.reference.qwen2_audio import (
    DeviceError,
    DeviceUnavailableError,
    InvalidDeviceError,
    parse_device,
    resolve_device,
)

from ._support import lazy, materialize, run_python, torch

CUDA = "torch.cuda.is_available()"  # a skipif condition, evaluated when the test runs


def _expected_auto() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", 0)
    if torch.backends.mps.is_available():
        return torch.device("mps", 0)
    if hasattr(torch, "xpu") and torch.xpu.is_available():
        return torch.device("xpu", 0)
    return torch.device("cpu")


@pytest.mark.parametrize("requested", ["auto", None])
def test_auto_picks_the_first_available_accelerator_else_cpu(requested: object) -> None:
    device = resolve_device(materialize(requested))
    assert isinstance(device, torch.device)
    assert device == _expected_auto()


def test_default_is_auto() -> None:
    assert resolve_device() == _expected_auto()


@pytest.mark.skipif(CUDA, reason="checks the CPU-only answer; this machine has CUDA")
def test_auto_is_cpu_on_a_cpu_only_machine() -> None:
    if torch.backends.mps.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available()):
        pytest.skip("an MPS/XPU device is available")
    assert resolve_device("auto") == torch.device("cpu")


@pytest.mark.parametrize("requested", ["cpu", "cpu:0", lazy(lambda: torch.device("cpu"))])
def test_cpu_is_always_available(requested: object) -> None:
    assert resolve_device(materialize(requested)) == torch.device("cpu")


@pytest.mark.parametrize(
    ("requested", "suggestion"),
    [
        ("gpu", 'did you mean "cuda"?'),
        ("gpu:1", 'did you mean "cuda:1"?'),
        ("cuda0", 'did you mean "cuda:0"?'),
        ("cuda 1", 'did you mean "cuda:1"?'),
        ("CUDA", 'did you mean "cuda"?'),
        ("Cuda:1", 'did you mean "cuda:1"?'),
        (" cuda", 'did you mean "cuda"?'),
        ("AUTO", 'did you mean "auto"?'),
        ("cdua", 'did you mean "cuda"?'),
        ("auto:1", 'did you mean "cuda:1" (that GPU) or "auto"'),
        ("", 'pass "auto"'),
        ("balanced", 'device_map placement strategy of from_pretrained(device_map="balanced")'),
        ("balanced_low_0", "device_map placement strategy"),
        ("sequential", 'pass device="auto" to shard'),
    ],
)
def test_invalid_strings_raise_with_a_suggestion(requested: str, suggestion: str) -> None:
    with pytest.raises(InvalidDeviceError) as caught:
        resolve_device(materialize(requested))
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert "\n" not in message
    assert suggestion in message
    assert '"auto", "cpu", "cuda", "cuda:N"' in message  # what is accepted


@pytest.mark.parametrize("requested", ["cuda:-1", "foo", "cuda\n", "meta", True, 1.5, -1, lazy(lambda: torch.device("meta"))])
def test_other_invalid_requests_raise_one_line(requested: object) -> None:
    with pytest.raises(InvalidDeviceError) as caught:
        resolve_device(materialize(requested))
    assert "\n" not in str(caught.value)
    assert "accepted" in str(caught.value).lower()


def test_invalid_spelling_is_rejected_without_torch_availability_checks() -> None:
    # parse_device is the torch-free half; a strategy never parses as a device.
    assert parse_device("cuda:2") == ("cuda", 2)
    assert parse_device("auto") == ("auto", None)
    assert parse_device(0) == ("cuda", 0)
    with pytest.raises(InvalidDeviceError):
        parse_device("balanced")


@pytest.mark.skipif(CUDA, reason="CUDA is available here, so 'cuda' is not an unavailable device")
@pytest.mark.parametrize("requested", ["cuda", "cuda:0", 0, lazy(lambda: torch.device("cuda"))])
def test_cuda_on_a_machine_without_cuda_is_unavailable(requested: object) -> None:
    with pytest.raises(DeviceUnavailableError) as caught:
        resolve_device(materialize(requested))
    message = str(caught.value)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, DeviceError)
    assert "not available" in message
    assert "\n" not in message


def test_a_cuda_index_past_the_last_gpu_is_unavailable() -> None:
    # "cuda:3" with one GPU; on a CPU-only machine any index.
    index = torch.cuda.device_count() if torch.cuda.is_available() else 3
    with pytest.raises(DeviceUnavailableError, match=rf'device "cuda:{index}" is not available'):
        resolve_device(f"cuda:{index}")


@pytest.mark.gpu
@pytest.mark.skipif(f"not {CUDA}", reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
def test_cuda_resolves_with_an_explicit_index() -> None:
    assert resolve_device("cuda") == torch.device("cuda", 0)


@pytest.mark.skipif("torch.backends.mps.is_available()", reason="MPS is available here")
def test_mps_unavailable() -> None:
    with pytest.raises(DeviceUnavailableError, match='"mps" is not available'):
        resolve_device("mps")


def test_resolving_does_not_initialise_cuda() -> None:
    # A fresh interpreter, so no other test has touched CUDA first.
    code = (
        "import torch\n"
        "from devicelint.reference.qwen2_audio import resolve_device, DeviceError\n"
        "resolve_device('auto')\n"
        "for spec in ('cuda', 'cuda:7', 'gpu'):\n"
        "    try:\n"
        "        resolve_device(spec)\n"
        "    except DeviceError:\n"
        "        pass\n"
        "print(torch.cuda.is_initialized())\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
