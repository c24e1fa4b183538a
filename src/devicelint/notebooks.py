"""Jupyter notebooks: checked and fixed through the same engine as .py files.

A notebook's code cells run in one namespace, so, as ruff does, they are analysed
as one module: the cells' sources one after the other (a device chosen in cell 2
and used in cell 5 is followed). Findings are mapped back to the cell and the line
inside it; cells are numbered from 1 counting every cell, as Jupyter shows them.
If that module does not parse, each cell is analysed on its own instead, so one
broken cell costs the cross-cell view, not the notebook.

IPython syntax is not Python: a cell starting with a cell magic (``%%bash``) is
skipped whole; a line magic (``%matplotlib inline``), shell escape (``!pip ...``),
help (``obj?``) or assigned magic (``files = !ls``) at the start of a statement
becomes ``pass`` (``files = ...``), with its continuation lines blank, so line
numbers stay right. That happens only in cells that do not parse as Python as they
are (``% value`` continuing an expression is Python).

Which fixes apply, and "fix, then analyse again", are rewrite.fix_source's, on the same
joined text the check reads; this module only translates: cells in, findings and the
changed cells' code out. Fixing rewrites only the ``source`` of the cells that change (a list of lines stays a
list, a string stays a string) and keeps everything else byte for byte: the JSON is
re-serialised with the layout the file already has (indent, key order, separators,
``ensure_ascii``, trailing newline), found by re-serialising the unchanged notebook
until it reproduces the file exactly. A notebook whose layout cannot be reproduced
is not written.
"""

from __future__ import annotations

import bisect
import difflib
import io
import json
import re
import tokenize
from typing import Any

import ast

from devicelint.analysis import MAX_SOURCE_BYTES, Settings, TooComplex, dev900, guarded, syntax_error_finding
from devicelint.dataclass import dataclass, replace
from devicelint.findings import CodeFilter, Finding
from devicelint.report import Reported
from devicelint.rewrite import UnsafeFixError, analysed_text, fix_source
from devicelint.source import parse, split_lines

EVERY_CODE = CodeFilter()


class NotebookError(ValueError):
    """Not a notebook devicelint can read (reported as DEV900, at ``line``/``column`` of the file)."""

    def __init__(self, message: str, line: int = 1, column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


# --- IPython syntax -> Python ---------------------------------------------------------------

_CELL_MAGIC = re.compile(r"\s*%%")
_ESCAPE = re.compile(r"(?P<indent>[ \t]*)(?:%|!|\?)")  # %time f(), !pip install x, ?obj, ??obj
_HELP = re.compile(r"(?P<indent>[ \t]*)[A-Za-z_][\w.]*\?\??[ \t]*")  # obj?, obj.attr??
_ASSIGNED = re.compile(r"(?P<indent>[ \t]*)(?P<targets>[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*)[ \t]*=[ \t]*[%!]")


def _parses(source: str) -> bool:
    try:
        parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def _statement_starts_after(prefix: str) -> bool:
    """Whether a line following ``prefix`` starts a statement (no open bracket, string or ``\\``)."""
    if not prefix.strip():
        return True
    try:
        for _ in tokenize.generate_tokens(io.StringIO(prefix).readline):
            pass
    except tokenize.TokenError:  # EOF in a multi-line statement or string
        return False
    except (SyntaxError, ValueError):  # an unrelated problem: the line may still start a statement
        return True
    return True


def python_view(source: str) -> tuple[str, frozenset[int]] | None:
    """The cell as Python, and the 0-based lines that are placeholders; None for a cell magic."""
    if _CELL_MAGIC.match(source):
        return None
    if _parses(source):
        return source, frozenset()
    lines = split_lines(source)
    out: list[str] = []
    placeholders: set[int] = set()
    continued = False
    for number, line in enumerate(lines):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if continued:  # a magic's backslash continuation: part of the magic
            out.append(ending)
            placeholders.add(number)
            continued = body.endswith("\\")
            continue
        replacement = None
        if (match := _ASSIGNED.match(body)) is not None:
            replacement = f"{match['indent']}{match['targets']} = ..."
        elif (match := _ESCAPE.match(body) or _HELP.fullmatch(body)) is not None:
            replacement = f"{match['indent']}pass"
        if replacement is not None and _statement_starts_after("".join(out)):
            out.append(replacement + ending)
            placeholders.add(number)
            continued = body.endswith("\\")
        else:
            out.append(line)
    return "".join(out), frozenset(placeholders)


# --- the notebook as one module ------------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    number: int  # 1-based, counting every cell
    source: str  # as the notebook has it
    code: str  # what the analysis reads (with a final newline)
    placeholders: frozenset[int]  # 0-based lines of ``code`` that stand for IPython syntax

    @property
    def line_count(self) -> int:
        return len(split_lines(self.code))


def _source_text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise NotebookError(f"cell source must be a string or a list of strings, not {type(source).__name__}")


def _is_python(document: dict[str, Any]) -> bool:
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return True
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        table = metadata.get(key)
        if isinstance(table, dict) and isinstance(table.get(field), str):
            return table[field].lower() in ("python", "python3", "ipython", "ipython3")
    return True


@dataclass(frozen=True)
class _Unit:
    """Text the engine analyses in one go: the whole notebook, or one cell."""

    text: str
    cells: tuple[tuple[_Cell, int], ...]  # each cell with its first line in ``text``
    findings: tuple[Finding, ...] = ()  # of ``text``, all codes
    tree: ast.Module | None = None  # of ``text`` when parsed (kept for the fix)

    def after(self, new_text: str, changes: tuple[tuple[int, int, str], ...]) -> _Unit:
        """The unit of the fixed text: each cell's code with the changes inside it. Raises
        UnsafeFixError for a change that reaches into another cell."""
        cells, line, start, k = [], 1, 0, 0
        for cell, _ in self.cells:
            end = start + len(cell.code)
            pieces, cursor = [], start
            while k < len(changes) and (changes[k][0] < end or changes[k][0] == end == len(self.text)):
                begin, stop, replacement = changes[k]
                if stop > end:
                    raise UnsafeFixError("a fix spans two cells")
                pieces += [self.text[cursor:begin], replacement]
                cursor, k = stop, k + 1
            code = "".join(pieces) + self.text[cursor:end] if pieces else cell.code
            new_cell = cell if code == cell.code else replace(cell, code=code)
            cells.append((new_cell, line))
            line += new_cell.line_count
            start = end
        if "".join(cell.code for cell, _ in cells) != new_text:
            raise UnsafeFixError("the fixed code does not split back into its cells")
        return _Unit(new_text, tuple(cells))

    def locate(self, line: int) -> tuple[_Cell, int]:
        """The cell of a line of ``text``, and the line inside that cell."""
        starts = [first for _, first in self.cells]
        index = max(bisect.bisect_right(starts, line) - 1, 0)
        cell, first = self.cells[index]
        return cell, min(max(line - first + 1, 1), max(cell.line_count, 1))

    def reported(self, path: str, finding: Finding) -> Reported:
        """A finding of ``text`` with positions inside its cell, and line references in the
        message, the fix note and the related locations' labels (``reaches .to() on line 28``)
        rewritten the same way."""
        cell, line = self.locate(finding.line)
        shift = line - finding.line

        def move(item: Any) -> Any:
            return replace(item, line=item.line + shift, end_line=item.end_line + shift)

        def line_reference(match: re.Match[str]) -> str:
            other, other_line = self.locate(int(match[1]))
            return f"line {other_line}" + ("" if other is cell else f" of cell {other.number}")

        def lines_in_cells(text: str) -> str:
            return re.sub(r"\bline (\d+)\b", line_reference, text) if len(self.cells) > 1 else text

        related, related_cells = [], []
        for location in finding.related:
            other, other_line = self.locate(location.line)
            other_shift = other_line - location.line
            related.append(replace(location, line=other_line, end_line=location.end_line + other_shift, label=lines_in_cells(location.label)))
            related_cells.append(other.number)

        moved = replace(
            finding,
            message=lines_in_cells(finding.message),
            fix_note=lines_in_cells(finding.fix_note) if finding.fix_note else finding.fix_note,
            line=line,
            end_line=finding.end_line + shift,
            edits=tuple(move(e) for e in finding.edits),
            related=tuple(related),
        )
        return Reported(path, moved, cell.number, tuple(related_cells))


def _module_text(cells: list[_Cell]) -> tuple[str, tuple[tuple[_Cell, int], ...]]:
    pieces, placed, line = [], [], 1
    for cell in cells:
        if not cell.code:
            continue
        placed.append((cell, line))
        pieces.append(cell.code)
        line += cell.line_count
    return "".join(pieces), tuple(placed)


class Notebook:
    def __init__(self, data: bytes, path: str) -> None:
        self.path = path
        self.bom = data.startswith(b"\xef\xbb\xbf")
        try:
            self.raw = data.decode("utf-8-sig")
            self.document = json.loads(self.raw)
        except UnicodeDecodeError as error:
            raise NotebookError(f"notebook is not UTF-8: {error.reason}") from None
        except json.JSONDecodeError as error:
            raise NotebookError(f"notebook is not valid JSON: {error.msg}", error.lineno, error.colno - 1) from None
        except RecursionError:
            raise NotebookError("notebook JSON is nested too deeply to read") from None
        except ValueError as error:  # an integer over Python's digit limit, ...
            raise NotebookError(f"notebook is not valid JSON: {error}") from None
        if not isinstance(self.document, dict) or not isinstance(self.document.get("cells"), list):
            raise NotebookError("not a Jupyter notebook (nbformat 4): no list of cells")
        self.cells: list[_Cell] = []
        if not _is_python(self.document):
            return  # an R or Julia notebook: nothing for devicelint
        for number, cell in enumerate(self.document["cells"], 1):
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            source = _source_text(cell)
            view = python_view(source)
            if view is None:
                continue
            code, placeholders = view
            if code and not code.endswith(("\n", "\r")):
                code += "\n"
            self.cells.append(_Cell(number, source, code, placeholders))

    def units(self, settings: Settings) -> list[_Unit]:
        """The notebook as one module, with its findings; one unit per cell if it does not parse."""
        text, placed = _module_text(self.cells)
        if len(text) > MAX_SOURCE_BYTES:
            raise TooComplex(f"notebook code too large to check ({len(text) / 2**20:.1f} MiB; the limit is {MAX_SOURCE_BYTES / 2**20:g} MiB)")
        try:
            found, tree = analysed_text(text, self.path, settings)
            return [_Unit(text, placed, tuple(found), tree)]
        except (SyntaxError, ValueError):
            pass
        units = []
        for cell, _ in placed:
            try:
                found, tree = analysed_text(cell.code, self.path, settings)
            except (SyntaxError, ValueError) as error:
                if isinstance(error, ValueError):
                    error = SyntaxError(str(error))  # null bytes
                found, tree = [syntax_error_finding(error)], None
            units.append(_Unit(cell.code, ((cell, 1),), tuple(found), tree))
        return units

    def findings(self, units: list[_Unit], codes: CodeFilter) -> list[Reported]:
        return [unit.reported(self.path, f) for unit in units for f in codes.selected(unit.findings)]

    def fixed(self, units: list[_Unit], settings: Settings, codes: CodeFilter, unsafe_fixes: bool, want_diff: bool) -> NotebookFix:
        """What rewrite.fix_source decides for each unit, translated to cells: the new sources
        of the cells that change, and the findings at their places in the cells."""
        sources: dict[int, str] = {}
        fixed: list[Reported] = []
        remaining: list[Reported] = []
        skipped: list[Reported] = []
        for unit in units:
            result = fix_source(
                unit.text, self.path, settings, codes, unsafe_fixes=unsafe_fixes, findings=unit.findings, tree=unit.tree
            )  # fmt: skip
            fixed += [unit.reported(self.path, f) for f in result.fixed]
            after = unit if result.text is None else unit.after(result.text, result.changes or ())
            remaining += [after.reported(self.path, f) for f in result.remaining]
            skipped += [after.reported(self.path, f) for f in result.skipped]
            for (cell, _), (new_cell, _) in zip(unit.cells, after.cells):
                if new_cell.code != cell.code:
                    sources[cell.number] = _restore(cell, new_cell.code)
        if not sources:
            return NotebookFix(None, remaining=tuple(remaining), skipped=tuple(skipped))
        diff = self.diff(sources) if want_diff else ""
        return NotebookFix(self.with_sources(sources), tuple(fixed), tuple(remaining), diff, tuple(skipped))

    def with_sources(self, sources: dict[int, str]) -> bytes:
        """The notebook's bytes with those cells' sources replaced, everything else as it was."""
        layout = _layout(self.raw, self.document)
        if layout is None:
            raise UnsafeFixError("cannot reproduce the notebook's JSON layout byte for byte; save it with Jupyter first")
        cells = list(self.document["cells"])
        for number, source in sources.items():
            cell = cells[number - 1]
            new_source: str | list[str] = source if isinstance(cell.get("source"), str) else _source_lines(source)
            cells[number - 1] = {**cell, "source": new_source}  # same key order
        document = {**self.document, "cells": cells}
        indent, separators, ensure_ascii, trailing = layout
        text = json.dumps(document, indent=indent, separators=separators, ensure_ascii=ensure_ascii) + trailing
        return (b"\xef\xbb\xbf" if self.bom else b"") + text.encode("utf-8")

    def diff(self, sources: dict[int, str]) -> str:
        """A unified diff per changed cell, headed ``path:cell N`` (as ruff)."""
        by_number = {cell.number: cell for cell in self.cells}
        chunks = []
        for number, new in sorted(sources.items()):
            old = by_number[number].source
            name = f"{self.path}:cell {number}"
            chunks.extend(difflib.unified_diff(_diff_lines(old), _diff_lines(new), name, name))
        return "".join(chunks)


def _restore(cell: _Cell, new_code: str) -> str:
    """The cell's new source: the fixed code with the IPython lines put back as they were."""
    new_lines = split_lines(new_code)
    code_lines = split_lines(cell.code)
    source_lines = split_lines(cell.source)
    if cell.placeholders and len(new_lines) != len(code_lines):
        raise UnsafeFixError("the fix changed the number of lines of a cell with IPython syntax")
    for number in cell.placeholders:
        if new_lines[number] != code_lines[number]:
            raise UnsafeFixError("the fix touched an IPython line")
        new_lines[number] = source_lines[number] if number < len(source_lines) else ""
    restored = "".join(new_lines)
    if not cell.source.endswith(("\n", "\r")) and restored.endswith("\n"):
        restored = restored[:-1]  # the newline the module added after the cell's last line
    return restored


def _source_lines(source: str) -> list[str]:
    """Jupyter's list form: each line with its newline, the last without."""
    return re.findall(r"[^\n]*\n|[^\n]+$", source)


def _diff_lines(source: str) -> list[str]:
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


Layout = tuple[Any, tuple[str, str], bool, str]


def _layout(raw: str, document: Any) -> Layout | None:
    """The json.dumps arguments (and trailing whitespace) that reproduce ``raw`` exactly."""
    body = raw.rstrip()
    trailing = raw[len(body) :]
    found = re.search(r"\n([ \t]+)\S", body)
    indents: list[Any] = []
    if found is not None:
        indent = found.group(1)
        indents.append(len(indent) if set(indent) == {" "} else indent)
    indents.append(None)
    ascii_first = [False, True] if any(ord(c) > 127 for c in body) else [True, False]
    for indent in indents:
        separators = [(",", ": "), (", ", ": ")] if indent is not None else [(", ", ": "), (",", ":")]
        for ensure_ascii in ascii_first:
            for separator in separators:
                if json.dumps(document, indent=indent, separators=separator, ensure_ascii=ensure_ascii) == body:
                    return indent, separator, ensure_ascii, trailing
    return None


# --- entry points: bytes in, findings (and new bytes) out ------------------------------------------


def _may_have_findings(data: bytes, settings: Settings) -> bool:
    # JSON escapes the quotes of string literals (\"auto\"): undo that for the byte pre-scan,
    # which then skips most notebooks without parsing their JSON.
    return settings.prescan.matches_bytes(data.replace(b'\\"', b'"'))


def _unreadable(path: str, error: NotebookError, codes: CodeFilter) -> list[Reported]:
    return [Reported(path, f) for f in codes.selected([dev900(str(error), error.line, error.column)])]


def check_notebook_bytes(data: bytes, path: str, settings: Settings, codes: CodeFilter = EVERY_CODE) -> list[Reported]:
    """Raises TooComplex for code too deep or too large to analyse."""
    if not _may_have_findings(data, settings):
        return []
    try:
        notebook = Notebook(data, path)
    except NotebookError as error:
        return _unreadable(path, error, codes)
    return guarded(lambda: notebook.findings(notebook.units(settings), codes))


@dataclass(frozen=True)
class NotebookFix:
    data: bytes | None  # the new notebook; None when nothing changes
    fixed: tuple[Reported, ...] = ()
    remaining: tuple[Reported, ...] = ()
    diff: str = ""
    skipped: tuple[Reported, ...] = ()  # unsafe fixes left out


def fix_notebook_bytes(
    data: bytes, path: str, settings: Settings, codes: CodeFilter = EVERY_CODE, want_diff: bool = False, unsafe_fixes: bool = False
) -> NotebookFix:
    """Raises UnsafeFixError when the fix cannot be applied exactly (nothing is written then),
    TooComplex for code too deep or too large to analyse."""
    if not _may_have_findings(data, settings):
        return NotebookFix(None)
    try:
        notebook = Notebook(data, path)
    except NotebookError as error:
        return NotebookFix(None, remaining=tuple(_unreadable(path, error, codes)))
    return notebook.fixed(notebook.units(settings), settings, codes, unsafe_fixes, want_diff)
