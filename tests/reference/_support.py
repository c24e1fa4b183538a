"""Helpers shared by the reference tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import ast
import importlib.util
import io
import os
import subprocess
import sys
import wave
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

class _LazyModule:
    """A module imported on first attribute access. The test modules use ``torch`` from here,
    so collecting them imports no torch (it costs seconds); a test that touches ``torch.x``,
    or a ``skipif("torch...")`` string condition (evaluated when the test runs), imports it."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):  # pytest's collection probes names such as __test__ and _mock_name
            raise AttributeError(attr)
        import importlib

        return getattr(importlib.import_module(self._name), attr)


torch: Any = _LazyModule("torch")


def lazy(value: Any) -> Any:
    """A parameter that is built when the test runs: ``lazy(lambda: torch.device("cpu"))``."""
    return _Deferred(value)


class _Deferred:
    def __init__(self, make: Any) -> None:
        self.make = make


def materialize(value: Any) -> Any:
    return value.make() if isinstance(value, _Deferred) else value


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


def run_main(main: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """A reference CLI's ``main(argv)`` in this process, as ``run_python`` would report it
    (exit status, stdout, stderr): the model is already imported here, a subprocess pays
    seconds to import torch and transformers again."""
    out, err = io.BytesIO(), io.BytesIO()
    saved = sys.stdout, sys.stderr
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    try:
        try:
            code = main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        for wrapper in (sys.stdout, sys.stderr):
            wrapper.detach()
        sys.stdout, sys.stderr = saved
    return subprocess.CompletedProcess(list(args), code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))
