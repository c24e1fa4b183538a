"""Exceptions of the reference loader.

Every message is one line: the CLI prints ``error: <message>`` and nothing
else, and a multi-line message would break that contract. The device and
audio errors subclass ``ValueError`` because a bad argument value is what
they report; a missing checkpoint directory is a ``FileNotFoundError`` so
code that already handles missing files handles it too.
"""

from __future__ import annotations

__all__ = [
    "CheckpointNotFoundError",
    "DeviceError",
    "DeviceUnavailableError",
    "InvalidAudioError",
    "InvalidCheckpointError",
    "InvalidDeviceError",
    "one_line",
]


def one_line(text: str) -> str:
    """Collapse whitespace runs (newlines included) so a message fits one line."""
    return " ".join(str(text).split())


class DeviceError(ValueError):
    """A requested device cannot be used (base class)."""


class InvalidDeviceError(DeviceError):
    """The device is not a valid torch device spelling (e.g. ``"gpu"``, ``"auto:1"``, ``"balanced"``)."""


class DeviceUnavailableError(DeviceError):
    """The device is well formed but this machine does not have it (e.g. ``"cuda"`` on a CPU-only box)."""


class InvalidAudioError(ValueError):
    """The audio cannot be fed to the model: empty, non-finite, wrong shape or dtype, unreadable file."""


class InvalidCheckpointError(ValueError):
    """The model directory exists but is not a loadable Qwen2-Audio checkpoint."""


class CheckpointNotFoundError(FileNotFoundError):
    """The model directory does not exist (nothing is ever downloaded instead)."""
