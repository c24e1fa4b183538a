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
import functools
import re
from collections.abc import Iterable, Iterator

from devicelint.catalogue import (
    DEVICE_KEYWORD,
    DEVICE_KEYWORD_PACKAGES,
    FOREIGN_TO_LIBRARIES,
    METHOD_SINKS,
    QUALIFIED_SINKS,
    TORCH_LIBRARIES,
    SinkSpec,
)
from devicelint.dataclass import dataclass

__all__ = ["SinkSpec", "SinkUse", "SinkCatalog", "DEFAULT_CATALOG", "qualified_name"]


@dataclass(frozen=True)
class SinkUse:
    """One argument of one call that torch will parse as a device."""

    call: ast.Call
    argument: ast.expr
    label: str  # how messages name the sink: "torch.device()", ".to()", "torch.zeros(device=)"
    strict: bool


class SinkCatalog:
    """Matches calls against the catalogue's sinks plus the user's ``extra-sinks``."""

    def __init__(self, extra: Iterable[SinkSpec] = ()) -> None:
        self.extra: tuple[SinkSpec, ...] = tuple(extra)
        self.qualified: dict[str, list[SinkSpec]] = {}
        self.methods: dict[str, list[SinkSpec]] = {}
        for spec in (*QUALIFIED_SINKS, *METHOD_SINKS, *self.extra):
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
            if qualified_name.split(".", 1)[0] in DEVICE_KEYWORD_PACKAGES:
                value = SinkSpec(qualified_name, keyword=DEVICE_KEYWORD).argument(call)
                if value is not None:
                    yield SinkUse(call, value, f"{qualified_name}({DEVICE_KEYWORD}=)", True)
                return
        func = call.func
        if isinstance(func, ast.Attribute):
            specs = self.methods.get(func.attr)
            if specs:
                yield from _uses(call, specs, "." + func.attr)


    def spread_uses(self, call: ast.Call, qualified_name: str | None, keyword: str, argument: ast.expr) -> Iterator[SinkUse]:
        """The sink a ``**mapping`` entry named ``keyword`` lands in, reported at ``argument``."""
        if qualified_name is not None:
            specs = self.qualified.get(qualified_name)
            if specs is None and qualified_name.split(".", 1)[0] in DEVICE_KEYWORD_PACKAGES:
                specs = [SinkSpec(qualified_name, keyword=DEVICE_KEYWORD)]
            name = qualified_name
        else:
            specs = None
        if not specs and isinstance(call.func, ast.Attribute):
            specs, name = self.methods.get(call.func.attr), "." + call.func.attr
        for spec in specs or ():
            if spec.keyword == keyword:
                yield SinkUse(call, argument, f"{name}({keyword}=)", spec.strict)
                return


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
    return any(
        kw.value is value or (kw.arg is None and isinstance(kw.value, ast.Dict) and value in kw.value.values)
        for kw in call.keywords
    )


DEFAULT_CATALOG = SinkCatalog()


# --- name resolution -------------------------------------------------------------


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


# --- which .to() is torch's ---------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def library_kind(qualified: str) -> str | None:
    """"torch" or "foreign" (has its own ``.to``) for a qualified name; None if unknown."""
    best, kind = -1, None
    for prefixes, label in ((TORCH_LIBRARIES, "torch"), (FOREIGN_TO_LIBRARIES, "foreign")):
        for prefix in prefixes:
            if (qualified == prefix or qualified.startswith(prefix + ".")) and len(prefix) > best:
                best, kind = len(prefix), label
    return kind


def may_import_foreign(text: str) -> bool:
    """Whether an import in ``text`` can name a library with its own ``.to``: false when no
    such library's top-level name is a word of the text (only ASCII text is trusted to
    spell its identifiers as the parser reads them)."""
    if not text.isascii():
        return True
    # str.find first: a regex that starts with \b has no literal to skip ahead to
    return any(name in text for name in _FOREIGN_ROOTS) and _FOREIGN_WORD.search(text) is not None


_FOREIGN_ROOTS = sorted({name.split(".")[0] for name in FOREIGN_TO_LIBRARIES})
_FOREIGN_WORD = re.compile(r"\b(?:%s)\b" % "|".join(_FOREIGN_ROOTS))


def foreign_module(imports: dict[str, str]) -> bool:
    """A module that imports a library with its own ``.to`` and nothing from torch's ecosystem.

    A module importing nothing at all is not foreign: helpers that receive a model from
    another project module (``def move(m, d): return m.to(d)``) import nothing either.
    """
    kinds = {library_kind(name) for name in imports.values()}
    return "foreign" in kinds and "torch" not in kinds
