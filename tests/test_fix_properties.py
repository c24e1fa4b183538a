"""Properties of the fixes over generated and mutated programs, with and without unsafe fixes.

For every source: the fixed text parses; where the fixes are string fixes (DEV001's swap,
DEV002's corrected literal) it differs from the original only in those literals (the AST,
with the edited constants masked, is identical, and every changed string pair is the
(C, P) / (P, C) of a DEV001 or the (invalid, corrected) of a DEV002); where a fix moves a
conditional to device_map= (or renames pipeline's device=), the AST differs only there
(rewrite.prove, and one new device_map= expression per moved use); no applicable fix is
left afterwards; and fixing again changes nothing.

Sources: the device-handling programs of ``strategies.module()``; hypothesmith's generic
programs (alone, and with a known DEV001 appended or prepended); and the rule fixtures,
fixed as they are and after semantics-preserving mutations (line endings, quote styles,
tab indentation, leading comment lines), where the fix must commute with the mutation.
"""

from __future__ import annotations

import ast
import functools
import io
import tokenize
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import hypothesmith
import pytest
from helpers import ROOT, RULE_FIXTURES
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from speed import examples
from strategies import module

from devicelint.analysis import DEFAULT_SETTINGS, analyze_text
from devicelint.findings import Edit, Finding
from devicelint.fixes import corrected_device
from devicelint.rewrite import changed_strings, fix_source, fix_text, prove
from devicelint.source import split_lines

VOCABULARY = DEFAULT_SETTINGS.vocabulary
FIXTURES = sorted(RULE_FIXTURES.glob("*.py")) + [ROOT / "fixtures" / "qwen2_audio" / "buggy_loader.py"]


def quick(full: int) -> settings:
    """``full`` examples in the full run (``pytest --slow``), a twentieth in the quick run."""
    return settings(
        max_examples=examples(full), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
    )


def _parse(text: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # odd escapes in generated programs
        return ast.parse(text)


def _char_column(line: str, byte_column: int) -> int:
    return len(line.encode("utf-8")[:byte_column].decode("utf-8"))


def _literal_value(text: str, edit_line: int, column: int, end_line: int, end_column: int) -> str:
    lines = split_lines(text)
    if edit_line == end_line:
        token = lines[edit_line - 1][column:end_column]
    else:
        token = lines[edit_line - 1][column:] + "".join(lines[edit_line:end_line - 1]) + lines[end_line - 1][:end_column]
    value = ast.literal_eval(token)
    assert isinstance(value, str)
    return value


def _masked_dump(tree: ast.Module, positions: set[tuple[int, int]], lines: list[str]) -> str:
    """The tree without positions, with the string constants starting at ``positions`` masked."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and (node.lineno, _char_column(lines[node.lineno - 1], node.col_offset)) in positions
        ):
            node.value = "<swapped>"
    return ast.dump(tree, include_attributes=False)


def _starts_after(edits: list[Edit]) -> set[tuple[int, int]]:
    """Where the edited literals start in the fixed text (a longer literal shifts the next)."""
    starts, shift, line = set(), 0, 0
    for edit in sorted(edits, key=lambda e: (e.line, e.column)):
        assert edit.line == edit.end_line, "a device literal spans one line"
        if edit.line != line:
            shift, line = 0, edit.line
        starts.add((edit.line, edit.column + shift))
        shift += len(edit.replacement) - (edit.end_column - edit.column)
    return starts


def _line_numbers(tree: ast.Module) -> list[tuple[int, int]]:
    return [(n.lineno, n.end_lineno or 0) for n in ast.walk(tree) if hasattr(n, "lineno")]


@dataclass
class Checked:
    findings: list[Finding]
    fixed_text: str  # == the source when nothing was fixable
    fixed_count: int


def _kind(finding: Finding) -> str:
    """swap (DEV001's two literals), move (the sharding-preserving DEV001 fix), retype (a DEV002
    literal corrected), rename (pipeline's device= -> device_map=)."""
    if finding.code == "DEV002":
        return "rename" if finding.edits[0].replacement == "device_map" else "retype"
    if finding.fix_note and finding.fix_note.startswith("the fix moves the conditional"):
        return "move"
    return "swap"


def check_fix_properties(source: str, unsafe_fixes: bool = False) -> Checked:
    findings = analyze_text(source)
    fixable = [f for f in findings if f.applies(unsafe_fixes)]
    assert all(f.code in ("DEV001", "DEV002") for f in fixable), "only DEV001 and DEV002 carry a fix"
    assert all(f.applicability in ("safe", "unsafe") for f in findings)
    # An unsafe DEV001 fix is the swap that also changes device_map=; an unsafe DEV002 one is torch.load's.
    for f in findings:
        if f.unsafe_fix:
            assert (f.code == "DEV001" and "device_map=" in (f.fix_note or "")) or "map_location" in (f.fix_note or ""), f
    result = fix_text(source, findings, unsafe_fixes)
    if not fixable:
        assert result is None
        return Checked(findings, source, 0)
    assert result is not None
    assert set(result.fixed) == set(fixable)
    new = result.text
    kinds = {id(f): _kind(f) for f in fixable}
    strings_only = all(kind in ("swap", "retype") for kind in kinds.values())

    old_tree, new_tree = _parse(source), _parse(new)
    if strings_only:
        # Only the edited string constants differ.
        edits = list(dict.fromkeys(e for f in fixable for e in f.edits))  # a literal reported at two sinks: one edit
        starts = {(e.line, e.column) for e in edits}
        assert len(starts) == len(edits)
        masked_old = _masked_dump(_parse(source), starts, split_lines(source))
        assert masked_old == _masked_dump(_parse(new), _starts_after(edits), split_lines(new))
        assert _line_numbers(old_tree) == _line_numbers(new_tree)

        # Every changed string is a literal of a finding: C <-> P for a swap, the corrected device for a retype.
        expected: Counter[tuple[str, str]] = Counter()
        seen: set[Edit] = set()
        for finding in fixable:
            if kinds[id(finding)] == "swap":
                first, second = finding.edits
                a = _literal_value(source, first.line, first.column, first.end_line, first.end_column)
                b = _literal_value(source, second.line, second.column, second.end_line, second.end_column)
                assert ast.literal_eval(first.replacement) == b and ast.literal_eval(second.replacement) == a
                assert sorted([VOCABULARY.is_concrete(a), VOCABULARY.is_concrete(b)]) == [False, True]
                assert VOCABULARY.is_tracked(a) or VOCABULARY.is_tracked(b)
                expected.update([(a, b), (b, a)])
            elif finding.edits[0] not in seen:
                seen.add(finding.edits[0])
                (edit,) = finding.edits
                old = _literal_value(source, edit.line, edit.column, edit.end_line, edit.end_column)
                value = ast.literal_eval(edit.replacement)
                assert VOCABULARY.is_concrete(value) and not VOCABULARY.is_concrete(old)
                assert value == corrected_device(old) or (value == "cuda" and finding.unsafe_fix)
                expected.update([(old, value)])
        assert Counter(changed_strings(source, new)) == expected
    else:
        # The AST differs only where the fixes say: the moved conditionals (dropped statements,
        # conditionals at device_map=) and renamed keywords; everything else is identical.
        prove(source, new)
        moved = [f for f in fixable if kinds[id(f)] == "move"]
        old_maps = Counter(ast.unparse(k.value) for k in ast.walk(old_tree) if isinstance(k, ast.keyword) and k.arg == "device_map")
        new_maps = Counter(ast.unparse(k.value) for k in ast.walk(new_tree) if isinstance(k, ast.keyword) and k.arg == "device_map")
        assert sum(new_maps.values()) == sum(old_maps.values()) + sum(kinds[id(f)] == "rename" for f in fixable)
        renamed = sum(kinds[id(f)] == "rename" for f in fixable)
        assert sum(len(f.edits) - 1 for f in moved) + renamed == sum((new_maps - old_maps).values())

    # After one round, nothing new is reported, and a fix can only have become applicable for a
    # DEV001 that was there before: swapping one conditional can turn another's unsafe swap into a
    # safe move (its value no longer meets the first one's at device_map=).
    after = analyze_text(new)
    unfixable_before = [f for f in findings if f.code == "DEV001" and not f.applies(unsafe_fixes)]
    exposed = [f for f in after if f.applies(unsafe_fixes)]
    assert all(f.code == "DEV001" for f in exposed), exposed
    assert len([f for f in after if f.code == "DEV001"]) <= len(unfixable_before)
    if strings_only and not exposed:
        # the DEV001s left are those that were there; a fix may also have ended another's path
        # (SETTLED_BY_A_FIX: the fixed conditional now turns the other's strategy into "cuda")
        remaining = [(f.line, f.message) for f in after if f.code == "DEV001"]
        assert set(remaining) <= {(f.line, f.message) for f in unfixable_before}, remaining
    # fix_source's rounds leave nothing fixable, and a second fix changes nothing.
    full = fix_source(source, unsafe_fixes=unsafe_fixes)
    assert [f for f in full.remaining if f.applies(unsafe_fixes)] == []
    assert (full.text == new) == (not exposed)
    assert fix_source(full.text, unsafe_fixes=unsafe_fixes).text is None
    return Checked(findings, full.text, len(fixable))


# --- generated device-handling programs ----------------------------------------------


# Found by this test: swapping the "gpu" conditional makes the "auto" one's fix a safe move,
# which fix_source's second round applies.
EXPOSED_BY_A_FIX = """\
import torch
from transformers import AutoModel, pipeline

class Loader0:
    def method0(self, x, path, cfg, device):
        device = "cuda"
        device = "cuda"
        x = x.to(self.device)
        model = AutoModel.from_pretrained(path, device_map=self.device)
        if device == "cuda":
            device = "cuda"
            self.device = "gpu" if self.device == "cuda" else self.device
        else:
            device = "cuda"
            device = "cuda"
            for device_item in ("cuda", "cuda"):
                device = "cuda"
                self.device = "auto" if self.device == "cuda" else self.device
"""


# Found by hypothesis: the safe fix of line 22 turns the "sequential" of line 12's (unsafe)
# DEV001 into "cuda" before it reaches .to(), so that finding is gone after one round.
SETTLED_BY_A_FIX = """\
import torch
from transformers import AutoModel, pipeline

def func0(x, path, cfg, device):
    device = "cuda"
    for device_item in ("cuda", "cuda"):
        if device == "cuda":
            device = "cuda"
            device = "cuda"
            model = AutoModel.from_pretrained(path, device_map=cfg["device"])
        else:
            cfg["device"] = "sequential" if cfg["device"] == "cuda" else cfg["device"]
    if device == "cuda":
        device = "cuda"
    else:
        device = "cuda"
        device = "cuda"
        if device == "cuda":
            device = "cuda"
        else:
            device = "cuda"
            cfg["device"] = "sequential" if cfg["device"] == "cuda" else cfg["device"]
            x = x.to(cfg["device"])
"""


@quick(250)
@given(module())
@example(EXPOSED_BY_A_FIX)
@example(SETTLED_BY_A_FIX)
def test_fix_properties_on_generated_modules(source: str) -> None:
    check_fix_properties(source)
    checked = check_fix_properties(source, unsafe_fixes=True)
    # The generator writes no literal the fixer has to refuse: with the unsafe fixes, every DEV001 is gone.
    assert [f for f in analyze_text(checked.fixed_text) if f.code == "DEV001"] == []


# --- hypothesmith: generic programs, alone and around a known DEV001 -------------------

SNIPPET = '''

def _devicelint_case(batch, device):
    device = "auto" if device == "cuda" else device
    return batch.to(device)
'''

SNIPPET_FIXED = '''

def _devicelint_case(batch, device):
    device = "cuda" if device == "auto" else device
    return batch.to(device)
'''

generic_programs = st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node())


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles its odd programs
@quick(60)
@given(generic_programs)
def test_fix_properties_on_generic_programs(source: str) -> None:
    check_fix_properties(source)


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@quick(60)
@given(generic_programs, st.booleans())
def test_dev001_next_to_generic_code_is_fixed_and_the_rest_kept(source: str, append: bool) -> None:
    program = source + SNIPPET if append else SNIPPET.lstrip("\n") + "\n" + source
    try:
        _parse(program)
    except SyntaxError:
        assume(False)  # e.g. a `from __future__` import that is no longer first
    checked = check_fix_properties(program)
    assert checked.fixed_count == 1
    assert checked.fixed_text == (source + SNIPPET_FIXED if append else SNIPPET_FIXED.lstrip("\n") + "\n" + source)


# --- the rule fixtures, as they are and mutated ---------------------------------------


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fix_properties_on_rule_fixtures(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    checked = check_fix_properties(source)
    reported = [f for f in checked.findings if f.code == "DEV001"]
    if path.name.startswith("dev001_") or path.parent.name == "qwen2_audio":
        assert checked.fixed_count > 0
        assert checked.fixed_count == len([f for f in reported if f.fixable])
    elif path.name.startswith("clean_"):
        assert checked.fixed_count == 0 and checked.fixed_text == source
    else:  # DEV002 fixtures: the literals whose intent is unambiguous are fixed
        assert checked.fixed_count == len([f for f in checked.findings if f.applies(False)])
    check_fix_properties(source, unsafe_fixes=True)


@dataclass(frozen=True)
class Mutation:
    """A change that keeps a module's meaning (and its tokens' order): the fix must commute with it."""

    newline: str
    requote: frozenset[int]  # indices of simple string tokens whose quote character flips
    tabs: bool  # leading groups of four spaces become tabs
    preamble: tuple[str, ...]  # lines put before the module (comments or blank)

    def apply(self, text: str) -> str:
        text = _requote(text, self.requote)
        if self.tabs:
            text = "".join(_tabify(line) for line in split_lines(text))
        text = "".join(line + "\n" for line in self.preamble) + text
        return text.replace("\n", self.newline) if self.newline != "\n" else text


def _simple_strings(text: str) -> list[tokenize.TokenInfo]:
    return [
        tok
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type == tokenize.STRING
        and tok.start[0] == tok.end[0]
        and tok.string[0] in "'\""
        and len(tok.string) >= 2
        and tok.string[0] == tok.string[-1]
        and not tok.string.startswith(('"""', "'''"))
        and not any(c in tok.string[1:-1] for c in "'\"\\")
    ]


def _requote(text: str, indices: frozenset[int]) -> str:
    lines = split_lines(text)
    for index, tok in enumerate(_simple_strings(text)):
        if index in indices:
            row, start = tok.start
            _, end = tok.end
            quote = "'" if tok.string[0] == '"' else '"'
            line = lines[row - 1]
            lines[row - 1] = line[:start] + quote + tok.string[1:-1] + quote + line[end:]
    return "".join(lines)


def _tabify(line: str) -> str:
    stripped = line.lstrip(" ")
    spaces = len(line) - len(stripped)
    return "\t" * (spaces // 4) + " " * (spaces % 4) + stripped


@st.composite
def mutations(draw: st.DrawFn, text: str) -> Mutation:
    count = len(_simple_strings(text))
    return Mutation(
        newline=draw(st.sampled_from(["\n", "\r\n"])),
        requote=draw(st.frozensets(st.integers(0, max(count - 1, 0)), max_size=count)) if count else frozenset(),
        tabs=draw(st.booleans()),
        preamble=tuple(draw(st.lists(st.sampled_from(["", "# a comment", "#!/usr/bin/env python"]), max_size=3))),
    )


FIXTURE_TEXTS = {path.name: path.read_text(encoding="utf-8") for path in FIXTURES}
FIXABLE_FIXTURES = sorted(name for name in FIXTURE_TEXTS if name.startswith("dev001_") or name == "buggy_loader.py")


@functools.cache
def fixed_count(name: str) -> int:
    return check_fix_properties(FIXTURE_TEXTS[name]).fixed_count


@quick(40)
@given(st.data())
def test_fix_commutes_with_mutations_of_the_rule_fixtures(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(FIXABLE_FIXTURES))
    original = FIXTURE_TEXTS[name]
    mutation = data.draw(mutations(original))
    if any(_kind(f) == "move" for f in analyze_text(original) if f.fixable):
        # A moved conditional removes and adds string tokens: requoting by token index cannot commute.
        mutation = Mutation(mutation.newline, frozenset(), mutation.tabs, mutation.preamble)
    mutated = mutation.apply(original)
    try:
        _parse(mutated)
    except SyntaxError:
        assume(False)  # tabs that Python finds ambiguous
    checked = check_fix_properties(mutated)
    assert checked.fixed_count == fixed_count(name) > 0
    fixed_original = fix_text(original, analyze_text(original))
    assert fixed_original is not None
    assert checked.fixed_text == mutation.apply(fixed_original.text)
