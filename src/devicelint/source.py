"""Bytes -> text -> tree, and the byte pre-scan that lets most files skip the parse.

Most Python files contain no device mistake at all. ``PreScan`` decides that from
the raw bytes with one regular-expression pass: it looks for a tracked mistake in
quotes ("auto", "gpu", ...) or a non-device string written right after a sink
(``device="``, ``torch.device("``). Only files it matches are decoded and parsed.
The scan may say yes when there is nothing to report (the parse then decides); it
must never say no to a file the analysis would report on.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from dataclasses import dataclass

from devicelint.sinks import SinkCatalog
from devicelint.vocabulary import Vocabulary

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines as Python's tokenizer numbers them (``str.splitlines`` also splits on \\f)."""
    return _LINE.findall(text)


@dataclass(frozen=True)
class DecodedSource:
    text: str
    encoding: str  # as tokenize detects it: "utf-8", "utf-8-sig" (BOM), "latin-1", ...


def decode(data: bytes) -> DecodedSource:
    """Decode Python source bytes by their BOM or PEP 263 coding cookie.

    Newlines are kept as they are (no universal-newline translation), so text
    offsets map back to the file's own bytes.
    """
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return DecodedSource(data.decode(encoding), encoding)


def parse(text: str, filename: str = "<unknown>") -> ast.Module:
    """ast.parse, with the SyntaxWarnings of odd escapes silenced (not ours to report)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, filename=filename)


# Right after these, a string literal is a sink's device argument (after ' -> ").
_DIRECT_SINK_PREFIXES = (
    "device=", "device = ", "map_location=", "map_location = ", "device_type=",
    "device_type = ", "device(", ".cuda(", "autocast(", "Generator(",
)


class PreScan:
    """The byte scan that decides whether a file needs parsing at all."""

    def __init__(self, vocabulary: Vocabulary, catalog: SinkCatalog) -> None:
        prefixes = set(_DIRECT_SINK_PREFIXES)
        for spec in catalog.extra:
            if spec.position is not None:
                prefixes.add(spec.name.rsplit(".", 1)[-1] + "(")
            if spec.keyword is not None:
                prefixes.update((f"{spec.keyword}=", f"{spec.keyword} = "))
        lookbehinds = "|".join(f'(?<={re.escape(p)}")' for p in sorted(prefixes))
        pattern = (
            rf'"(?:(?:{vocabulary.tracked_pattern})"'
            rf'|(?:{lookbehinds})(?!(?:{vocabulary.types_pattern})(?::[0-9]+)?"))'
        )
        # The pattern starts with a literal '"', which lets the regex engine skip
        # ahead with a fast search; single quotes are folded into double ones first.
        self._bytes = re.compile(pattern.encode())
        self._text = re.compile(pattern)

    def matches_bytes(self, data: bytes) -> bool:
        return self._bytes.search(data.replace(b"'", b'"')) is not None

    def matches_text(self, text: str) -> bool:
        return self._text.search(text.replace("'", '"')) is not None

    def candidates(self, text: str) -> list[int]:
        """Offsets in ``text`` of every candidate literal (empty: nothing to analyse)."""
        return [m.start() for m in self._text.finditer(text.replace("'", '"'))]
