"""Device requests -> ``torch.device``: the half of the problem devicelint is about.

``"auto"``, ``"balanced"`` and ``"sequential"`` are *placement strategies*:
they mean something only to ``from_pretrained(device_map=...)``. A torch
device is ``"cpu"``, ``"cuda:1"``, ... The Qwen2-Audio bug this project
exists for turned ``"cuda"`` into ``"auto"`` and then called
``inputs.to("auto")``. Here a request is parsed strictly (no strategy can
come out as a device) and every mistake is reported in one line that names
the likely intent.

Parsing is pure Python so a typo fails before torch is imported; only the
availability check imports torch, and it asks ``torch.cuda.is_available()`` /
``device_count()`` without creating a CUDA context.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import TYPE_CHECKING, NamedTuple

from ._errors import DeviceUnavailableError, InvalidDeviceError

if TYPE_CHECKING:
    import torch

__all__ = ["ACCEPTED", "STRATEGIES", "DeviceRequest", "is_auto", "parse_device", "resolve_device"]

#: What ``parse_device`` accepts, as written in error messages.
ACCEPTED = '"auto", "cpu", "cuda", "cuda:N", "mps", "xpu", "xpu:N" or a torch.device'
#: ``device_map`` strategies of ``from_pretrained`` that are not devices.
STRATEGIES: tuple[str, ...] = ("balanced", "balanced_low_0", "sequential")

_TYPES = ("cpu", "cuda", "mps", "xpu")
_DEVICE_RE = re.compile(r"(cpu|cuda|mps|xpu)(?::(0|[1-9][0-9]*))?")
# Loose reading of a near miss: a word, an optional separator, an optional index.
_NEAR_RE = re.compile(r"([a-z]+)\s*[:_\-. ]?\s*([0-9]+)?\s*:?")
_ALIASES = {"gpu": "cuda", "nvidia": "cuda", "cu": "cuda", "metal": "mps", "apple": "mps", "intel": "xpu"}


class DeviceRequest(NamedTuple):
    """A parsed request: ``type`` is ``"auto"`` or a torch device type; ``index`` may be None."""

    type: str
    index: int | None


def _q(value: object) -> str:
    """Quote for a message; json escapes newlines so the message stays one line."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _suggest(spec: str) -> str | None:
    """The likely intent behind an invalid device string, as a hint sentence."""
    text = spec.strip().lower()
    if not text:
        return 'the device is empty; pass "auto" to pick one, or a device such as "cuda:0"'
    if text != spec and (text == "auto" or _DEVICE_RE.fullmatch(text)):
        return f"did you mean {_q(text)}?"  # "CUDA", " cuda", "Cuda:0", "AUTO"
    if text in STRATEGIES:
        return (
            f"{_q(spec)} is a device_map placement strategy of from_pretrained(device_map={_q(text)}), "
            'not a torch device; pass device="auto" to shard the model over all GPUs, '
            'or a single device such as "cuda:0"'
        )
    if text == "meta":
        return '"meta" tensors have no data, so the model cannot run there'
    near = _NEAR_RE.fullmatch(text)
    if near is None:
        return None
    word, index = near.groups()
    if word == "auto":
        if index is None:
            return 'did you mean "auto"?'
        return f'did you mean "cuda:{index}" (that GPU) or "auto" (the best available device)?'
    name = _ALIASES.get(word) or word
    if name not in _TYPES:
        close = difflib.get_close_matches(word, [*_TYPES, *_ALIASES], n=1, cutoff=0.6)
        if not close:
            return None
        name = _ALIASES.get(close[0], close[0])
    guess = name if index is None else f"{name}:{int(index)}"
    return f"did you mean {_q(guess)}?"


def _invalid(spec: object, hint: str | None) -> InvalidDeviceError:
    if hint is None:
        return InvalidDeviceError(f"invalid device {_q(spec)}; accepted: {ACCEPTED}")
    if not hint.endswith(("?", ".")):
        hint += "."
    return InvalidDeviceError(f"invalid device {_q(spec)}: {hint} Accepted: {ACCEPTED}")


def parse_device(requested: object = "auto") -> DeviceRequest:
    """Check the spelling of a device request without importing torch.

    ``None`` and ``"auto"`` mean "pick the best available device". Strings must
    be exactly ``cpu``, ``cuda``, ``mps`` or ``xpu`` with an optional ``:N``
    index (lower case, no spaces), which is stricter than ``torch.device`` on
    purpose: ``"auto"``, ``"balanced"`` and friends must never get through. A
    non-negative int is a CUDA ordinal, as in ``transformers`` pipelines; a
    ``torch.device`` is taken as is. Raises ``InvalidDeviceError``.
    """
    if requested is None:
        return DeviceRequest("auto", None)
    if isinstance(requested, str):
        if requested == "auto":
            return DeviceRequest("auto", None)
        match = _DEVICE_RE.fullmatch(requested)
        if match is None:
            raise _invalid(requested, _suggest(requested))
        kind, index = match.groups()
        return DeviceRequest(kind, None if index is None else int(index))
    if isinstance(requested, int) and not isinstance(requested, bool):
        if requested < 0:
            hint = 'a negative index means CPU in old pipeline code; pass "cpu"' if requested == -1 else None
            raise _invalid(requested, hint)
        return DeviceRequest("cuda", requested)
    if type(requested).__name__ == "device" and type(requested).__module__.split(".")[0] == "torch":
        kind, index = requested.type, requested.index  # type: ignore[attr-defined]
        if kind not in _TYPES:
            raise _invalid(str(requested), f"the model cannot run on {_q(kind)} devices")
        return DeviceRequest(kind, index)
    raise InvalidDeviceError(f"invalid device {_q(requested)} of type {type(requested).__name__}; accepted: {ACCEPTED}")


def is_auto(requested: object) -> bool:
    """True when ``requested`` asks for automatic placement (``"auto"`` or None)."""
    return requested is None or requested == "auto"


def _unavailable(name: str, why: str) -> DeviceUnavailableError:
    return DeviceUnavailableError(f'device {_q(name)} is not available: {why}; pass "auto" or "cpu"')


def _check_indexed(kind: str, index: int | None, available: bool, count: int, why: str) -> int:
    name = kind if index is None else f"{kind}:{index}"
    if not available:
        raise _unavailable(name, why)
    index = 0 if index is None else index
    if index >= count:
        plural = "device" if count == 1 else "devices"
        raise _unavailable(name, f"this machine has {count} {kind} {plural} ({kind}:0..{kind}:{count - 1})")
    return index


def resolve_device(requested: object = "auto") -> torch.device:
    """Turn a device request into an available ``torch.device``.

    ``"auto"`` (or None) picks cuda, then mps, then xpu, then cpu, whichever is
    available first. A concrete device (``"cpu"``, ``"cuda:1"``,
    ``torch.device("mps")``, ...) is validated. Accelerators come back with an
    explicit index (``"cuda"`` -> ``cuda:0``) so they compare equal to
    ``parameter.device``.

    Raises ``InvalidDeviceError`` for a malformed request (with a suggestion)
    and ``DeviceUnavailableError`` when this machine lacks the device; both are
    ``ValueError`` subclasses with one-line messages.
    """
    request = parse_device(requested)
    import torch

    cuda_ok = torch.cuda.is_available()  # no CUDA context is created by this
    mps_ok = torch.backends.mps.is_available()
    xpu = getattr(torch, "xpu", None)
    xpu_ok = bool(xpu is not None and xpu.is_available())

    kind, index = request
    if kind == "auto":
        if cuda_ok:
            return torch.device("cuda", 0)
        if mps_ok:
            return torch.device("mps", 0)
        if xpu_ok:
            return torch.device("xpu", 0)
        return torch.device("cpu")
    if kind == "cpu":
        return torch.device("cpu")
    if kind == "cuda":
        why = (
            f"this PyTorch {torch.__version__} was built without CUDA"
            if torch.version.cuda is None
            else "torch.cuda.is_available() is False (no NVIDIA GPU or driver visible)"
        )
        count = torch.cuda.device_count() if cuda_ok else 0
        return torch.device("cuda", _check_indexed(kind, index, cuda_ok, count, why))
    if kind == "mps":
        why = "torch.backends.mps.is_available() is False (needs Apple silicon and an MPS build)"
        return torch.device("mps", _check_indexed(kind, index, mps_ok, 1, why))
    why = "torch.xpu.is_available() is False (no Intel GPU visible)"
    count = xpu.device_count() if xpu_ok else 0  # type: ignore[union-attr]
    return torch.device("xpu", _check_indexed(kind, index, xpu_ok, count, why))
