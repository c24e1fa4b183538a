"""Torch device sinks: the calls that parse a device string and raise on a bad one.

A sink is matched either by the qualified name its callee resolves to through the
module's imports (``torch.device``, ``T.zeros`` after ``import torch as T``), or by
method name on any receiver (``.to()``, ``.cuda()``, ``.new_zeros()``), because the
receiver's type is unknown statically and these names are torch's.

``device_map=`` is never a sink, and neither is any call whose target is unknown:
other libraries (faster-whisper, vLLM, Lightning, ...) accept "auto".
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class SinkSpec:
    """Where a callee takes its device: a positional index and/or a keyword name.

    ``strict`` sinks report any non-device string literal written directly as the
    argument; a non-strict one (positional ``.to(x)``, which other libraries use for
    units) reports only the tracked mistakes ("auto", "gpu", ...).
    """

    name: str
    position: int | None = None
    keyword: str | None = None
    strict: bool = True

    def argument(self, call: ast.Call) -> ast.expr | None:
        if self.keyword is not None:
            for kw in call.keywords:
                if kw.arg == self.keyword:
                    return kw.value
        if self.position is not None and len(call.args) > self.position:
            preceding = call.args[: self.position + 1]
            if not any(isinstance(a, ast.Starred) for a in preceding):
                return call.args[self.position]
        return None

    @classmethod
    def parse(cls, text: str) -> SinkSpec:
        """Parse a user's ``extra-sinks`` entry: ``qualified.name[:ARG]``.

        ARG is a position (``0``) or a keyword (``device``); without it the sink
        takes the first positional argument or ``device=``. A name starting with
        ``.`` is a method on any receiver (``.place``).
        """
        name, _, arg = text.strip().partition(":")
        name = name.strip()
        ident = name[1:] if name.startswith(".") else name
        if not ident or not all(part.isidentifier() for part in ident.split(".")):
            raise ValueError(f"invalid sink name {name!r} (expected e.g. mylib.place or mylib.place:device)")
        arg = arg.strip()
        if not arg:
            return cls(name, position=0, keyword="device")
        if arg.isdigit():
            return cls(name, position=int(arg))
        if arg.isidentifier():
            return cls(name, keyword=arg)
        raise ValueError(f"invalid sink argument {arg!r} in {text!r} (expected a position or a keyword name)")


# Sinks resolved through imports.
_QUALIFIED_SINKS: tuple[SinkSpec, ...] = (
    SinkSpec("torch.device", position=0, keyword="type"),
    SinkSpec("torch.Generator", position=0, keyword="device"),
    SinkSpec("torch.load", position=1, keyword="map_location"),
    SinkSpec("torch.cuda.set_device", position=0, keyword="device"),
    SinkSpec("torch.set_default_device", position=0, keyword="device"),
    SinkSpec("torch.autocast", position=0, keyword="device_type"),
    SinkSpec("torch.amp.autocast", position=0, keyword="device_type"),
    SinkSpec("torch.amp.autocast_mode.autocast", position=0, keyword="device_type"),
    SinkSpec("transformers.pipeline", keyword="device"),
    SinkSpec("transformers.pipelines.pipeline", keyword="device"),
)

# Sinks on any receiver, by method name.
_METHOD_SINKS: tuple[SinkSpec, ...] = (
    SinkSpec(".to", position=0, strict=False),
    SinkSpec(".to", keyword="device"),
    SinkSpec(".cuda", position=0, keyword="device"),
    *(SinkSpec(f".new_{kind}", keyword="device") for kind in ("zeros", "ones", "empty", "full", "tensor")),
)

# Any other call into torch.* takes its device= keyword as a device.
_TORCH_DEVICE_KEYWORD = "device"


@dataclass(frozen=True)
class SinkUse:
    """One argument of one call that torch will parse as a device."""

    call: ast.Call
    argument: ast.expr
    label: str  # how messages name the sink: "torch.device()", ".to()", "torch.zeros(device=)"
    strict: bool


class SinkCatalog:
    """Matches calls against the built-in sinks plus the user's ``extra-sinks``."""

    def __init__(self, extra: Iterable[SinkSpec] = ()) -> None:
        self.extra: tuple[SinkSpec, ...] = tuple(extra)
        self.qualified: dict[str, list[SinkSpec]] = {}
        self.methods: dict[str, list[SinkSpec]] = {}
        for spec in (*_QUALIFIED_SINKS, *_METHOD_SINKS, *self.extra):
            table = self.methods if spec.name.startswith(".") else self.qualified
            key = spec.name.lstrip(".")
            table.setdefault(key, []).append(spec)

    def uses(self, call: ast.Call, qualified_name: str | None) -> Iterator[SinkUse]:
        """The device arguments of ``call``; ``qualified_name`` is its resolved callee."""
        if qualified_name is not None:
            specs = self.qualified.get(qualified_name)
            if specs:
                yield from _uses(call, specs, qualified_name)
                return
            if qualified_name.startswith("torch."):
                value = SinkSpec(qualified_name, keyword=_TORCH_DEVICE_KEYWORD).argument(call)
                if value is not None:
                    yield SinkUse(call, value, f"{qualified_name}(device=)", True)
                return
        func = call.func
        if isinstance(func, ast.Attribute):
            specs = self.methods.get(func.attr)
            if specs:
                yield from _uses(call, specs, "." + func.attr)


def _uses(call: ast.Call, specs: list[SinkSpec], name: str) -> Iterator[SinkUse]:
    seen: set[int] = set()
    for spec in specs:
        value = spec.argument(call)
        if value is None or id(value) in seen:
            continue
        seen.add(id(value))
        label = f"{name}({spec.keyword}=)" if _is_keyword(call, value) else f"{name}()"
        yield SinkUse(call, value, label, spec.strict)


def _is_keyword(call: ast.Call, value: ast.expr) -> bool:
    return any(kw.value is value for kw in call.keywords)


DEFAULT_CATALOG = SinkCatalog()


# --- name resolution -------------------------------------------------------------


def imports_of(statements: Iterable[ast.Import | ast.ImportFrom]) -> dict[str, str]:
    """Local name -> qualified name, from import statements.

    Function-level imports count for the whole module: devicelint does not model
    import scopes, and a name imported twice differently is rare enough not to matter.
    """
    table: dict[str, str] = {}
    for node in statements:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    table[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    table[top] = top
        elif node.module and node.level == 0:
            for alias in node.names:
                if alias.name != "*":
                    table[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return table


def qualified_name(func: ast.expr, imports: dict[str, str]) -> str | None:
    """``T.nn.Linear`` -> ``torch.nn.Linear`` when ``import torch as T``; else None."""
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    base = imports.get(func.id)
    if base is None:
        return None
    return ".".join([base, *reversed(parts)])
