"""The shortcuts of a fix, each checked against the long way round on real inputs.

- The tree of a fixed text is the old tree with only the edited top-level statements parsed
  anew (rewrite._proved_tree): it must equal ``ast.parse`` of the whole new text, positions
  included, and refuse exactly what the whole-tree proof (rewrite.prove) refuses.
- The byte splice and the unified diff are built from the edits' spans: the diff must be what
  difflib writes over the whole files, and apply with patch's rules.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import warnings

import pytest
from helpers import RULE_FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from speed import examples
from strategies import module
from test_fix_pairs import MUST_CHANGE
from test_robustness import apply_hunks, parse_unified_diff

from devicelint.analysis import analyze_text
from devicelint.findings import Edit
from devicelint.source import split_lines
from devicelint.rewrite import UnsafeFixError, _Edited, _proved_tree, chosen, fix_source, prove, text_diff


def _parse(text: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text)


def _dump(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=True)


def edit_of(source: str, old: str, new: str, occurrence: int = 0) -> Edit:
    """The edit that replaces the ``occurrence``-th ``old`` of ``source`` by ``new`` (positions
    in the tokenizer's lines, as the engine gives them)."""
    offset = -1
    for _ in range(occurrence + 1):
        offset = source.index(old, offset + 1)
    starts = list(itertools.accumulate(map(len, split_lines(source)), initial=0))

    def position(at: int) -> tuple[int, int]:
        line = bisect.bisect_right(starts, at) - 1
        return line + 1, at - starts[line]

    return Edit(*position(offset), *position(offset + len(old)), new)


def assert_same_as_whole_parse(source: str, edits: list[Edit]) -> None:
    """_proved_tree gives the tree ast.parse gives for the new text, or refuses as prove does."""
    edited = _Edited(source, edits)
    try:
        tree = _proved_tree(edited, _parse(source))
    except UnsafeFixError:
        with pytest.raises(UnsafeFixError):
            prove(source, edited.new_text)
        return
    prove(source, edited.new_text)  # the whole-tree proof agrees
    assert _dump(tree) == _dump(_parse(edited.new_text))


LOADER = '''\
import torch


def load(batch, device):
    device = "auto" if device == "cuda" else device
    return batch.to(device)


class Loader:
    @staticmethod
    def place(x):
        return x.to("gpu")


X = 1; device = "auto" if device == "cuda" else device  # noqa: E702
'''

# (case, source, [(old, new, occurrence)], accepted): accepted False means UnsafeFixError.
CASES = [
    ("swap-in-function", LOADER, [('"auto"', '"cuda"', 0), ('"cuda"', '"auto"', 0)], True),
    ("retype-in-method", LOADER, [('"gpu"', '"cuda"', 0)], True),
    ("statements-sharing-a-line", LOADER, [('"auto"', '"cuda"', 1), ('"cuda"', '"auto"', 1)], True),
    ("two-runs", LOADER, [('"auto"', '"cuda"', 0), ('"gpu"', '"cuda"', 0)], True),
    ("a-name-changes", LOADER, [("batch.to(device)", "batch.to(devise)", 0)], False),
    ("a-string-becomes-a-name", LOADER, [('"gpu"', "gpu", 0)], False),
    ("the-fragment-no-longer-parses", LOADER, [('"gpu"', '"gpu', 0)], False),
    ("a-statement-is-added-on-the-line", LOADER, [("import torch", "import torch; import os", 0)], False),
    ("a-comment-becomes-code", "x = 1\n# note\ny = x.to('auto')\n", [("# note", "import os", 0)], False),
    ("an-edit-after-the-last-statement", "y = x.to('auto')\n# end\n", [("# end", "# END", 0)], True),
    ("an-edit-in-a-trailing-comment-becomes-code", "y = x.to('auto')\n# end\n", [("# end", "z = 1", 0)], False),
    ("a-line-is-added", LOADER, [('"gpu"', '(\n"cuda")', 0)], True),
    ("a-line-is-added-and-a-name-changes", LOADER, [('"gpu"', '(\ngpu)', 0)], False),
    ("decorator-continued-with-a-backslash", "@\\\ndeco\ndef f(x):\n    return x.to('auto')\n", [("'auto'", "'cuda'", 0)], True),
    ("decorator-removed", "@deco\ndef f(x):\n    return x.to('auto')\n", [("@deco", "deco", 0)], False),
    ("crlf", "a = 1\r\ndef f(x):\r\n    return x.to('auto')\r\nb = 2\r\n", [("'auto'", "'cuda'", 0)], True),
    ("lone-cr", "a = 1\rdef f(x):\r    return x.to('auto')\rb = 2\r", [("'auto'", "'cuda'", 0)], True),
    ("docstring", '"""Doc "auto"."""\nx = 1\n', [('"auto"', '"cuda"', 0)], True),
    ("last-line-without-newline", "a = 1\nb = x.to('auto')", [("'auto'", "'cuda'", 0)], True),
    ("form-feed", "a = 1\n\x0cdef f(x):\n    return x.to('auto')\n", [("'auto'", "'cuda'", 0)], True),
    ("an-edit-joins-two-statements", "a = 'x'\nb = 'auto'\n", [("'x'\n", "'x' + ", 0)], False),
    ("backslash-at-the-end-of-a-run", "a = 'auto' \\\n\nb = 2\n", [("'auto'", "'cuda'", 0)], True),
]


@pytest.mark.parametrize(("source", "replacements", "accepted"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_proved_tree_cases(source: str, replacements: list[tuple[str, str, int]], accepted: bool) -> None:
    try:
        _parse(source)
    except SyntaxError:
        pytest.skip("not Python on this version")
    edits = [edit_of(source, old, new, n) for old, new, n in replacements]
    edited = _Edited(source, edits)
    if accepted:
        tree = _proved_tree(edited, _parse(source))
        assert _dump(tree) == _dump(_parse(edited.new_text))
    else:
        with pytest.raises(UnsafeFixError):
            _proved_tree(edited, _parse(source))
        with pytest.raises(UnsafeFixError):
            prove(source, edited.new_text)


def test_an_edit_off_its_line_is_proved_on_the_whole_text() -> None:
    """Positions that do not match the text (a column past the end of its line) are not trusted:
    the whole new text is parsed."""
    source = "a = 1\ndef f(x):\n    return x.to('auto')\n"
    offset = source.index("'auto'")
    edited = _Edited(source, [Edit(1, offset, 1, offset + 6, "'cuda'")])
    assert edited.new_text == source.replace("'auto'", "'cuda'") and not edited.within_lines()
    assert _dump(_proved_tree(edited, _parse(source))) == _dump(_parse(edited.new_text))


def _fixable_edits(source: str) -> list[Edit]:
    applied, _ = chosen(analyze_text(source), unsafe_fixes=True)
    return [e for f in applied for e in f.edits]


def _sources() -> list:
    """The rule fixtures and fix pairs that have something to fix."""
    params = [pytest.param(path.read_text(encoding="utf-8"), id=path.name) for path in sorted(RULE_FIXTURES.glob("*.py"))]
    params += [pytest.param(p.values[0], id=f"pair-{p.id}") for p in MUST_CHANGE]
    return [p for p in params if _fixable_edits(p.values[0])]


@pytest.mark.parametrize("source", _sources())
def test_fixes_of_real_inputs_give_the_whole_parse(source: str) -> None:
    edits = _fixable_edits(source)
    assert_same_as_whole_parse(source, edits)
    edited = _Edited(source, edits)
    # The diff from the edits is difflib's over the whole files, and patch applies it.
    changes = edited.changes()
    diff = text_diff("f.py", source, edited.new_text, changes)
    assert diff == text_diff("f.py", source, edited.new_text)
    (hunks,) = parse_unified_diff(diff).values()
    assert apply_hunks(source, hunks) == edited.new_text


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module())
def test_fixes_of_generated_modules_give_the_whole_parse(source: str) -> None:
    edits = _fixable_edits(source)
    if edits:
        assert_same_as_whole_parse(source, edits)


# --- the diff from the changes -----------------------------------------------------------------

_LINES = st.lists(st.sampled_from(["a = 1\n", "b = 'auto'\n", "\n", "    return x\n", "c = 'cuda'  # c\n", "x\r\n"]), min_size=1, max_size=40)


@settings(max_examples=examples(300), deadline=None)
@given(_LINES, st.data())
def test_diff_from_changes_applies(lines: list[str], data: st.DataObject) -> None:
    """Any changes (a character span and its replacement, in order, not touching): the diff
    applies to the old text and gives the new one, as patch reads it."""
    text = "".join(lines)
    if data.draw(st.booleans()):
        text = text.rstrip("\n")  # a last line without a newline
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8, unique=True)))
    changes, pieces, cursor = [], [], 0
    for begin, end in zip(cuts[::2], cuts[1::2]):
        replacement = data.draw(st.sampled_from(["", "X", "cuda", "\n", "y\nz", "'auto'"]))
        if text[begin:end] == replacement:
            continue
        changes.append((begin, end, replacement))
        pieces += [text[cursor:begin], replacement]
        cursor = end
    new = "".join(pieces) + text[cursor:]
    diff = text_diff("f.py", text, new, changes)
    if new == text:
        assert diff == ""
        return
    (hunks,) = parse_unified_diff(diff).values()
    assert apply_hunks(text, hunks) == new


def test_fix_source_reports_the_changes_it_made() -> None:
    source = LOADER
    result = fix_source(source, unsafe_fixes=True)
    assert result.text is not None and result.changes
    rebuilt, cursor = [], 0
    for begin, end, replacement in result.changes:
        rebuilt += [source[cursor:begin], replacement]
        cursor = end
    assert "".join(rebuilt) + source[cursor:] == result.text
    # Only the letters that differ: the quotes of the swapped literals stay.
    assert all('"' not in source[begin:end] for begin, end, _ in result.changes)
