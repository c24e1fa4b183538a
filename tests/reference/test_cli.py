"""``python -m devicelint.reference.qwen2_audio``: replies on stdout, one-line errors with exit 2.

Errors that come before torch is imported run as real subprocesses (``_cli``); runs that load
the model call the module's ``main`` in this process (``_main``), where torch is already
imported, and one real subprocess run (marked slow) shows the process prints nothing else.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from devicelint.reference.qwen2_audio import DEFAULT_PROMPT, Qwen2AudioChat, main, read_wav

from ._support import run_main, run_python, tone, torch, write_wav  # noqa: F401 (torch: the skipif string below)

MODULE = ("-m", "devicelint.reference.qwen2_audio")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_python(*MODULE, *args)


def _main(*args: str) -> subprocess.CompletedProcess[str]:
    return run_main(main, *args)


@pytest.fixture(scope="module")
def stereo_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 44.1 kHz 16-bit stereo file: exercises WAV reading, down-mix and resampling end to end."""
    left, right = tone(440, 1.0, 44_100), tone(660, 1.0, 44_100, amplitude=0.3)
    return write_wav(tmp_path_factory.mktemp("wav") / "stereo.wav", np.stack([left, right], axis=1), 44_100)


@pytest.mark.parametrize("run", [pytest.param(_main, id="main"), pytest.param(_cli, id="process", marks=pytest.mark.slow)])
def test_prints_the_same_reply_as_the_api(
    tiny_checkpoint: Path, tiny_chat: Qwen2AudioChat, stereo_wav: Path, run
) -> None:
    result = run("--model", str(tiny_checkpoint), "--audio", str(stereo_wav), "--max-new-tokens", "6")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no transformers warnings or progress bars
    samples, rate = read_wav(stereo_wav)
    expected = tiny_chat.chat(samples, DEFAULT_PROMPT, rate, max_new_tokens=6)
    assert expected.strip()
    assert result.stdout == expected + "\n"


def test_json_output(tiny_checkpoint: Path, tiny_chat: Qwen2AudioChat, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "tone.wav", tone(), 16_000)
    result = _main(
        "--model", str(tiny_checkpoint), "--audio", str(wav), "--prompt", "What is it?",
        "--device", "cpu", "--max-new-tokens", "5", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    samples, rate = read_wav(wav)
    assert payload["reply"] == tiny_chat.chat(samples, "What is it?", rate, max_new_tokens=5)
    assert payload["device"] == "cpu"
    assert payload["sampling_rate"] == 16_000
    assert payload["prompt"] == "What is it?"


def _assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0]


def test_bad_device(tiny_checkpoint: Path, stereo_wav: Path) -> None:
    result = _cli("--model", str(tiny_checkpoint), "--audio", str(stereo_wav), "--device", "gpu")
    _assert_one_line_error(result, 'invalid device "gpu"', 'did you mean "cuda"?')


def test_placement_strategy_as_device(tiny_checkpoint: Path, stereo_wav: Path) -> None:
    result = _cli("--model", str(tiny_checkpoint), "--audio", str(stereo_wav), "--device", "balanced")
    _assert_one_line_error(result, "placement strategy")


@pytest.mark.skipif("torch.cuda.is_available()", reason="CUDA is available here, so 'cuda' is not an unavailable device")
def test_unavailable_device(tiny_checkpoint: Path, stereo_wav: Path) -> None:
    result = _main("--model", str(tiny_checkpoint), "--audio", str(stereo_wav), "--device", "cuda")
    _assert_one_line_error(result, 'device "cuda" is not available')


def test_missing_model_directory(tmp_path: Path, stereo_wav: Path) -> None:
    result = _cli("--model", str(tmp_path / "no-such-model"), "--audio", str(stereo_wav))
    _assert_one_line_error(result, "model directory not found", "no-such-model")


def test_directory_that_is_not_a_checkpoint(tmp_path: Path, stereo_wav: Path) -> None:
    result = _cli("--model", str(tmp_path), "--audio", str(stereo_wav))
    _assert_one_line_error(result, "no config.json")


@pytest.mark.parametrize(
    ("content", "needle"),
    [(None, "no such file"), (b"this is not audio", "RIFF"), (b"", "cannot read WAV file")],
)
def test_unreadable_audio_file(tiny_checkpoint: Path, tmp_path: Path, content: bytes | None, needle: str) -> None:
    wav = tmp_path / "input.wav"
    if content is not None:
        wav.write_bytes(content)
    result = _cli("--model", str(tiny_checkpoint), "--audio", str(wav))
    _assert_one_line_error(result, "input.wav", needle)


def test_valid_wav_with_unusable_audio(tiny_checkpoint: Path, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "blip.wav", tone(seconds=0.02), 16_000)  # 20 ms: too short for the encoder
    result = _main("--model", str(tiny_checkpoint), "--audio", str(wav), "--device", "cpu")
    _assert_one_line_error(result, "too short")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--max-new-tokens", "0"], "--max-new-tokens: expected a positive integer, got 0"),
        (["--dtype", "float8"], "--dtype: invalid choice"),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
        ([], "required"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(stereo_wav: Path, args: list[str], needle: str) -> None:
    base = ["--model", "m", "--audio", str(stereo_wav)] if args else []
    result = _cli(*base, *args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("python -m devicelint.reference.qwen2_audio: error: ")
    assert needle in result.stderr
