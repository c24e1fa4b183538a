"""Helpers shared by the reference tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
import wave
from pathlib import Path
from types import ModuleType

import numpy as np

REPO = Path(__file__).resolve().parents[2]
BUGGY_LOADER = REPO / "fixtures" / "qwen2_audio" / "buggy_loader.py"
BUGGY_EXPR = '"auto" if device == "cuda" else device'
FIXED_EXPR = '"cuda" if device == "auto" else device'
TONE_PROMPT = "What does this audio contain?"


def conditional_line(path: Path) -> int:
    """Line of the inverted conditional in ``path`` (found with ast, not grep: the
    docstring quotes the same expression)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.IfExp) and isinstance(node.body, ast.Constant) and node.body.value == "auto":
            return node.lineno
    raise AssertionError(f'no `"auto" if ... else ...` conditional in {path}')


def tone(freq: float = 440.0, seconds: float = 1.0, rate: int = 16_000, amplitude: float = 0.5) -> np.ndarray:
    """A float32 sine tone."""
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int, width: int = 2) -> Path:
    """Write float samples in [-1, 1] shaped (n,) or (n, channels) as PCM WAV with ``wave``."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    if width == 1:
        pcm = np.clip(np.round(frames * 127 + 128), 0, 255).astype(np.uint8).tobytes()
    elif width == 3:
        ints = np.clip(np.round(frames * (2**23 - 1)), -(2**23), 2**23 - 1).astype("<i4")
        pcm = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        full = 2 ** (8 * width - 1)
        pcm = np.clip(np.round(frames * (full - 1)), -full, full - 1).astype(f"<i{width}").tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(frames.shape[1])
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return path


def run_python(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``sys.executable -m ...`` offline, capturing text output."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, encoding="utf-8", env=env, timeout=timeout, cwd=REPO
    )


def load_module(path: Path, name: str) -> ModuleType:
    """Import a file (the fixture loaders live outside any package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
