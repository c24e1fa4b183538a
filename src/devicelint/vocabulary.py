"""Which strings torch accepts as devices, and which strings are device mistakes.

Two kinds of invalid strings matter:

* *tracked* mistakes are followed through variables, attributes and dicts: the
  placement strategies of ``device_map=`` ("auto", "balanced", ...) and the common
  slips ("gpu", "cuda0", "auto:1"). They are rare in code that is not about
  devices, so a byte pre-scan can look for them cheaply.
* any other non-device string ("CUDA", "cuda:x", "") is reported only where it is
  written directly as a sink's argument (``torch.device("cuda:x")``): following
  every string literal through every variable would cost a parse of every file.
  A positional ``.to(x)`` may be a unit conversion (``quantity.to("km")``), so
  there only tracked mistakes and wrong-case device names ("CUDA") count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from devicelint.dataclass import dataclass, field

# torch.device's device types (c10/core/DeviceType.cpp), the names torch parses.
TORCH_DEVICE_TYPES: frozenset[str] = frozenset(
    {
        "cpu", "cuda", "mps", "xpu", "xla", "meta", "hpu", "mtia", "ipu", "mkldnn",
        "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "lazy", "vulkan",
        "privateuseone",
    }
)

# Out-of-tree backends that register their name with torch (rename_privateuse1_backend):
# real code guards them with is_torch_npu_available() and the like, so they count as
# devices. Other names go in the `extra-device-types` setting.
OUT_OF_TREE_DEVICE_TYPES: frozenset[str] = frozenset({"npu", "mlu", "musa", "neuron", "tpu", "gcu", "sdaa"})

# Valid for from_pretrained(device_map=...), never for torch.
PLACEMENT_STRATEGIES: tuple[str, ...] = ("auto", "balanced", "balanced_low_0", "sequential")

_GPU = r"(?:gpu|GPU|Gpu)"
_STRATEGY = r"(?:auto|balanced_low_0|balanced|sequential)"
# Upper-case and capitalised spellings of the common device types (torch rejects "CUDA").
# Not followed through variables: in real code these are mostly dispatch keys and
# labels ("CUDA" backend), so only a literal written at a sink is reported.
WRONG_CASE_PATTERN = r"(?:CUDA|Cuda|CPU|Cpu|MPS|Mps|XPU|Xpu)(?::[0-9]+)?"


@dataclass(frozen=True)
class Vocabulary:
    """The device vocabulary of one run: torch's types plus the user's extra backends."""

    extra_device_types: frozenset[str] = field(default_factory=frozenset)

    @property
    def device_types(self) -> frozenset[str]:
        return TORCH_DEVICE_TYPES | OUT_OF_TREE_DEVICE_TYPES | self.extra_device_types

    def __post_init__(self) -> None:
        types = "|".join(sorted(map(re.escape, self.device_types), key=len, reverse=True))
        concrete = re.compile(rf"(?:{types})(?::[0-9]+)?")
        tracked = re.compile(
            rf"{_STRATEGY}(?::[0-9]+)?|{_GPU}(?::?[0-9]+)?|(?:{types})[0-9]+"
        )
        object.__setattr__(self, "_wrong_case", re.compile(WRONG_CASE_PATTERN))
        object.__setattr__(self, "_concrete", concrete)
        object.__setattr__(self, "_tracked", tracked)
        object.__setattr__(self, "types_pattern", types)
        object.__setattr__(self, "tracked_pattern", tracked.pattern)
        # The characters a tracked mistake can start with (the pre-scan's quick test).
        starts = {s[0] for s in (*PLACEMENT_STRATEGIES, "gpu", "GPU", "Gpu", *self.device_types)}
        object.__setattr__(self, "tracked_first_chars", frozenset(starts))

    def is_concrete(self, value: str) -> bool:
        """True when ``torch.device(value)`` accepts the string: ``type`` or ``type:N``."""
        return self._concrete.fullmatch(value) is not None  # type: ignore[attr-defined]

    def is_tracked(self, value: str) -> bool:
        """True for the mistakes that are followed through variables ("auto", "gpu", ...)."""
        return self._tracked.fullmatch(value) is not None  # type: ignore[attr-defined]

    def is_device_like(self, value: str) -> bool:
        """A tracked mistake or a wrong-case device type: reported even at positional .to()."""
        return self.is_tracked(value) or self._wrong_case.fullmatch(value) is not None  # type: ignore[attr-defined]

    def is_strategy(self, value: str) -> bool:
        return value.split(":", 1)[0] in PLACEMENT_STRATEGIES


DEFAULT_VOCABULARY = Vocabulary()


def vocabulary_for(extra_device_types: Iterable[str] = ()) -> Vocabulary:
    extra = frozenset(extra_device_types)
    return DEFAULT_VOCABULARY if not extra else Vocabulary(extra)
