"""Reference code that devicelint's rules are about; not part of the linter.

``devicelint.reference.qwen2_audio``
    A correct Qwen2-Audio chat loader (device resolution, multi-GPU
    ``device_map="auto"`` sharding, audio checks, greedy chat) and its CLI.
``devicelint.reference.tiny``
    Builds a tiny random-weight Qwen2-Audio checkpoint offline, for tests.

Needs the ``reference`` extra (torch, transformers, accelerate, numpy). The
linter itself must never import torch, so nothing is imported here eagerly:
the names below load their module on first access (PEP 562).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "DeviceUnavailableError",
    "InvalidAudioError",
    "InvalidDeviceError",
    "Qwen2AudioChat",
    "make_tiny_checkpoint",
    "resolve_device",
]

_LAZY = {
    "InvalidAudioError": "._errors",
    "InvalidDeviceError": "._errors",
    "DeviceUnavailableError": "._errors",
    "Qwen2AudioChat": ".qwen2_audio",
    "resolve_device": "._devices",
    "make_tiny_checkpoint": ".tiny",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module, __name__), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
