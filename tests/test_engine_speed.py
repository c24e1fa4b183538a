"""The engine's faster forms of its text and tree passes give what the plain forms give.

Each speed-up replaced a simple pass (a regex over every lexeme, a split, a walk of
every node) by a cheaper one that must be equivalent; here each is checked against
the plain form it replaced, on tables of edge cases, random text and the fixture files.
"""

from __future__ import annotations

import ast
import gc
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devicelint.project import ModuleInfo, _spanning_statements, statements
from devicelint.source import _triple_quoted_spans, parse, split_lines

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures").rglob("*.py"))

# The pass _triple_quoted_spans replaced: one regex match per comment or string literal.
_LEXEMES = re.compile(
    r"#[^\r\n]*"
    r'|(?P<triple>"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*''')"
    r'|"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"'
    r"|'[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*'",
    re.S,
)


def plain_triple_quoted_spans(text: str) -> list[tuple[int, int]]:
    return [m.span("triple") for m in _LEXEMES.finditer(text) if m.group("triple")]


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")

LEXING_CASES = [
    "",
    'x = """doc"""',
    'x = """unterminated',
    '""""""',
    "'''a''' '''b'''",
    '"a" """b""" "c"',
    '# """ not a docstring\nx = """real"""',
    '"\\"""" """x"""',  # an escaped quote, then an empty string, then a triple
    '"""a\\"""b"""',
    "'\"\"\"' + \"\"\"y\"\"\"",  # triple quotes inside a one-line string
    '"unterminated\n"""x"""',
    '"""x\n"""\n# c\n\'\'\'y\'\'\'',
    "\\\n'''z'''",
    '""" auto """ "auto"',
]


@pytest.mark.parametrize("text", LEXING_CASES)
def test_triple_quoted_spans_table(text: str) -> None:
    assert _triple_quoted_spans(text) == plain_triple_quoted_spans(text)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(['"', "'", '"""', "'''", "#", "\\", "\n", "\r", "a", " "]), max_size=24).map("".join))
def test_triple_quoted_spans_random(text: str) -> None:
    assert _triple_quoted_spans(text) == plain_triple_quoted_spans(text)


def test_triple_quoted_spans_fixture_files() -> None:
    assert FIXTURES
    for path in FIXTURES:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert _triple_quoted_spans(text) == plain_triple_quoted_spans(text), path


@pytest.mark.parametrize(
    "text", ["", "a", "a\n", "a\r\nb\rc\n\nd", "x\x0cy\n", "a\u2028b\r", "\r\n\r", "é\x85\n", "a\x1cb\x0bc"]
)
def test_split_lines_as_the_tokenizer_numbers_them(text: str) -> None:
    assert split_lines(text) == _LINE.findall(text)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="ab \r\n\x0c\x0b\x85\u2028", max_size=16))
def test_split_lines_random(text: str) -> None:
    assert split_lines(text) == _LINE.findall(text)


def test_statements_yields_every_statement() -> None:
    """statements() looks into compound statements only: it still reaches every statement,
    handler and match case (compared with a full walk, on every fixture file)."""
    source = "match x:\n    case 1:\n        try:\n            pass\n        except E:\n            def f():\n                class C:\n                    y = 1\n"
    trees = [ast.parse(source)] + [ast.parse(p.read_text(encoding="utf-8")) for p in FIXTURES if _parses(p)]
    for tree in trees:
        walked = [n for n in ast.walk(tree) if isinstance(n, (ast.stmt, ast.excepthandler, ast.match_case))]
        assert sorted(map(id, statements(tree.body))) == sorted(map(id, walked))


def _parses(path: Path) -> bool:
    try:
        ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return False
    return True


@pytest.mark.parametrize("enabled", [True, False])
def test_parse_leaves_the_garbage_collector_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        parse("x = 1\n")
        assert gc.isenabled() is enabled
        with pytest.raises(SyntaxError):
            parse("x = (\n")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_holds_any_searches_the_lines_asked() -> None:
    module = ModuleInfo("m.py", "a = 1\nb = device\nc = 3\n", "m")
    assert module.holds_any({"device"}, 2, 2)
    assert module.holds_any({"nothing", "device"}, 1, 3)
    assert not module.holds_any({"device"}, 1, 1)
    assert not module.holds_any({"device"}, 3, 3)
    assert module.holds_any({"device"}, 3, 9)  # lines outside the text: cannot say no


def test_mentions_refuses_to_judge_non_ascii_text() -> None:
    """A name is NFKC-normalised in the tree, so text with other characters cannot say
    where it is stored (the walk then looks at every statement)."""
    assert ModuleInfo("m.py", "x = 1\n", "m").mentions("x") is not None
    assert ModuleInfo("m.py", "ﬁle = 1\nfile.to('auto')\n", "m").mentions("file") is None


def test_import_search_skips_only_blocks_without_imports() -> None:
    """``imports`` looks inside a compound statement only when its text holds "import":
    the same import statements, in the same order (the last of two bindings wins)."""
    source = (
        "import a\n"
        "def f():\n    import b as a\n    if x:\n        from .c import d\n"
        "class K:\n    def g(self):\n        return 1\n"
        "try:\n    import e\nexcept ImportError:\n    e = None\n"
        "for i in x:\n    while y:\n        from f import (g,\n            h)\n"
        "import p; x = 1\nx = 2; import q\nimport r as p; import s as q\n"
        "match v:\n    case 1:\n        import t\n    case _:\n        pass\n"
        "@deco('import')\ndef u():\n    \"import\"\n    return 1\n"
    )
    paths = [None, *(p for p in FIXTURES if _parses(p))]
    for path in paths:
        text = source if path is None else path.read_text(encoding="utf-8")
        module = ModuleInfo("m.py", text, "pkg.m")
        kinds = (ast.Import, ast.ImportFrom)
        everywhere = [n for n in statements(module.tree.body) if isinstance(n, kinds)]
        pruned = [n for n in statements(module.tree.body, module.mentions("import")) if isinstance(n, kinds)]
        assert pruned == everywhere, path
        spanning = _spanning_statements(module.tree.body, module.lines_holding(["import"]))
        assert [n for n in spanning if isinstance(n, kinds)] == everywhere, path
    assert ModuleInfo("m.py", source, "pkg.m").imports == {
        "a": "b", "d": "pkg.c.d", "e": "e", "g": "f.g", "h": "f.h", "p": "r", "q": "s", "t": "t",
    }


@pytest.mark.parametrize(
    ("text", "declares"),
    [("global x\n", True), ("  \tglobal x", True), ("x = 1\nglobal\ty", True), ("myglobal x\n", False),
     ("# global x\n", False), ("x\r global y", False), ("globals()\n", False), ("", False), ("  global", False)],
)
def test_global_statement_search(text: str, declares: bool) -> None:
    from devicelint.follow.engine import _global_statement_line

    assert _global_statement_line(text) is declares
    assert (re.search(r"(?m)^[ \t]*global[ \t]", text) is not None) is declares


CONDITIONAL_PLACES = [
    'x = "auto" if d == "cuda" else d\n',
    'class K:\n    @register(device="auto" if d == "cuda" else d)\n    def f(self):\n        pass\n',
    'def f(d):\n    def g():\n        return f"{(\'auto\' if d == \'cuda\' else d)}"\n    return g\n',
    'def f(d):\n    if d == "cuda":\n        d = "auto"\n    return d\n',
    'y = [\n    1,\n    ("auto"\n     if d == "cuda"\n     else d),\n]\n',
]


@pytest.mark.parametrize("source", CONDITIONAL_PLACES)
def test_conditionals_found_from_the_line_of_their_literal(source: str) -> None:
    from devicelint.rules import conditionals_of
    from devicelint.vocabulary import DEFAULT_VOCABULARY

    everywhere = conditionals_of(ast.parse(source), DEFAULT_VOCABULARY)
    assert everywhere
    tree = ast.parse(source)
    for cond in conditionals_of(tree, DEFAULT_VOCABULARY).values():
        assert id(cond.invalid) in conditionals_of(tree, DEFAULT_VOCABULARY, {cond.invalid.lineno})


def test_conditionals_of_fixture_files_from_their_lines() -> None:
    from devicelint.rules import conditionals_of
    from devicelint.vocabulary import DEFAULT_VOCABULARY

    checked = 0
    for path in FIXTURES:
        if not _parses(path):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        everywhere = conditionals_of(tree, DEFAULT_VOCABULARY)
        lines = {cond.invalid.lineno for cond in everywhere.values()}
        assert conditionals_of(tree, DEFAULT_VOCABULARY, lines).keys() == everywhere.keys(), path
        checked += len(everywhere)
    assert checked > 50


def _unguarded_prescan(settings) -> re.Pattern[str]:
    """The pre-scan pattern as it was before its character-class guards."""
    from devicelint.source import sink_prefixes
    from devicelint.vocabulary import WRONG_CASE_PATTERN

    vocabulary = settings.vocabulary
    prefixes = sink_prefixes(settings.catalog)
    lookbehinds = "|".join(f'(?<={re.escape(p)}")' for p in sorted(prefixes))
    return re.compile(
        rf'"(?:(?:{vocabulary.tracked_pattern})"'
        rf'|(?:{lookbehinds})(?!(?:{vocabulary.types_pattern})(?::[0-9]+)?")'
        rf'|(?<=\.to\(")(?={WRONG_CASE_PATTERN}"))'
    )


PRESCAN_TEXTS = [
    'd = "auto"', 'x.to("gpu:1")', 'torch.device("Cuda")', 'zeros(2, device="")', 't.to(device = "xla0")',
    'put(x, where="cpu")', 'put(x, where="nowhere")', 'x = "Zdev3"', 'x = "cpu"', 'f(device_type="nope")',
    '"" "a" "auto:x" "sequential" "GPU7" "npu1"', "map_location = 'gpu'", 'x.cuda("0")',
]


@pytest.mark.parametrize("extra", [False, True])
def test_prescan_guards_change_no_match(extra: bool) -> None:
    from devicelint.analysis import DEFAULT_SETTINGS, Settings

    settings = Settings.create(["Zdev"], ["mylib.put:where", "mylib.put:1"]) if extra else DEFAULT_SETTINGS
    plain, guarded = _unguarded_prescan(settings), settings.prescan._text
    texts = PRESCAN_TEXTS + [p.read_text(encoding="utf-8", errors="replace") for p in FIXTURES]
    for text in texts:
        folded = text.replace("'", '"')
        assert [m.start() for m in guarded.finditer(folded)] == [m.start() for m in plain.finditer(folded)], text[:80]


def test_lines_holding_agrees_with_holds_any() -> None:
    text = "a = device\n\nclass K(Base):\n    x = device_map\r\n    y = 2\rz = Base\n"
    module = ModuleInfo("m.py", text, "m")
    for words in ({"device"}, {"Base"}, {"y", "z"}, {"absent"}, {"device", "Base"}):
        holding = module.lines_holding(words)
        for first in range(1, len(module.lines) + 1):
            for last in range(first, len(module.lines) + 1):
                assert any(first <= line <= last for line in holding) is module.holds_any(words, first, last)
    assert module.lines_holding({"device"}) == [1, 4]
    assert module.lines_holding({""}) is None


def test_imports_of_an_empty_module() -> None:
    assert ModuleInfo("m.py", "", "m").imports == {}
    assert ModuleInfo("m.py", "# import x\n", "m").imports == {}


SCOPE_CASES = [
    "x = 1\ny: int = 2\nz += 3\ndel w\n",
    "a, (b, *c) = t\n[d, e] = u\nobj.attr = 1\nobj[k] = 2\n",
    "for i, j in pairs:\n    pass\nelse:\n    k = 1\n",
    "with open(p) as (f, g), lock:\n    pass\n",
    "import os.path, sys as system\nfrom m import a, b as c\nfrom n import *\n",
    "try:\n    pass\nexcept E as err:\n    pass\nfinally:\n    z = 0\n",
    "match v:\n    case [p, *rest] if p:\n        q = 1\n    case {'k': w, **others}:\n        pass\n    case C(x=y) as whole:\n        pass\n",
    "@dec(d := 1)\ndef f(a, b=(e := 2), *args, k, **kw):\n    inner = 1\n",
    "class K(Base, metaclass=M):\n    attr = 1\n",
    "global g\nnonlocal_like = [n for n in range(3)]\nlam = lambda q: q\n",
    "print([(w := i) for i in range(3)], w)\nif (v := f()):\n    pass\n",
    "def outer():\n    global gg\n    gg = 1\n    def inner():\n        nonlocal x\n        x = 2\n    x = 3\n",
]


def _scopes(tree: ast.Module) -> list[ast.AST]:
    return [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]


@pytest.mark.parametrize("source", SCOPE_CASES)
def test_scope_names_without_walrus_skip_expressions(source: str) -> None:
    """ScopeInfo.of(walrus=False) walks only binding targets: the same names as the full walk
    whenever the source holds no ``:=`` (and the full walk is what the engine uses otherwise)."""
    from devicelint.follow.scopes import ScopeInfo

    for scope in _scopes(ast.parse(source)):
        full = ScopeInfo.of(scope)
        if ":=" not in source:
            assert ScopeInfo.of(scope, walrus=False) == full, source
        else:  # the walrus names are those only the full walk finds
            assert ScopeInfo.of(scope, walrus=False).names <= full.names


def test_scope_names_without_walrus_on_fixture_and_source_files() -> None:
    from devicelint.follow.scopes import ScopeInfo

    sources = [*FIXTURES, *sorted((Path(__file__).parent.parent / "src").rglob("*.py"))]
    checked = 0
    for path in sources:
        text = path.read_text(encoding="utf-8")
        if ":=" in text or not _parses(path):
            continue
        for scope in _scopes(ast.parse(text)):
            assert ScopeInfo.of(scope, walrus=False) == ScopeInfo.of(scope), (path, getattr(scope, "name", "<module>"))
            checked += 1
    assert checked > 500


WALRUS_MODULE = '''\
import re

@register(flag := True)
def decorated(x):
    return x

def plain(text):
    a, b = text.split()
    return a

def matching(text):
    if (m := re.match("a", text)) is not None:
        found = m
    return [y for x in text if (y := x)]

class Holder:
    def method(self):
        z = 1
        return z
'''


def test_walrus_is_looked_for_in_each_scope_text() -> None:
    """A scope is walked in full only where its own text (decorators included) holds ``:=``;
    the names agree with the full walk for every scope of a module that has one elsewhere."""
    from devicelint.analysis import DEFAULT_SETTINGS
    from devicelint.follow import Follower
    from devicelint.follow.scopes import ScopeInfo
    from devicelint.project import Project

    project = Project()
    tree = ast.parse(WALRUS_MODULE)
    module = project.module_at("<walrus>", WALRUS_MODULE, tree, split_lines(WALRUS_MODULE))
    follower = Follower(project, DEFAULT_SETTINGS.vocabulary, DEFAULT_SETTINGS.catalog)
    looked = {getattr(s, "name", "<module>"): follower._has_walrus(module, s) for s in _scopes(tree)}
    assert looked == {"<module>": True, "decorated": True, "plain": False, "matching": True, "Holder": False, "method": False}
    for scope in _scopes(tree):
        assert follower.scope_info(scope, module) == ScopeInfo.of(scope)


@pytest.mark.parametrize("text", ["a_b1 c", "x2 = _y + 3z", "0x1f 1e5 j2", "def f(self):\n    return self._d  # ok\n"])
def test_ascii_word_pattern_for_ascii_text(text: str) -> None:
    """Identifiers of a definition's text: the ASCII-only pattern (used when the module is
    ASCII) finds what the Unicode one finds there; in other text it would cut words short,
    so the Unicode one is kept for it."""
    from devicelint.follow.engine import _ASCII_WORD, _WORD

    assert _ASCII_WORD.findall(text) == _WORD.findall(text)
    assert (_WORD.findall("aé b"), _ASCII_WORD.findall("aé b")) == (["aé", "b"], ["a", "b"])


@given(st.text(alphabet=st.characters(max_codepoint=127)))
@settings(max_examples=200)
def test_ascii_word_pattern_random(text: str) -> None:
    from devicelint.follow.engine import _ASCII_WORD, _WORD

    assert _ASCII_WORD.findall(text) == _WORD.findall(text)


# --- Follower.uses: references in code, not words of comments and prose ---------------------

# (the text of a definition, the name, whether its code refers to the name)
USES_CASES = [
    ("def f(x):\n    return g(x)\n", "g", True),
    ("def f(x):\n    return self.g(x)\n", "g", True),
    ("def f(self):\n    return getattr(self, 'g')()\n", "g", True),  # a whole string
    ("def f(self):\n    '''Calls g first.'''\n    return 1\n", "g", False),  # a docstring
    ("def f(self):\n    return 1  # then g\n", "g", False),  # a comment
    ("def f(self):\n    raise ValueError('load it with `g` first')\n", "g", False),  # prose
    ("def f(self):\n    raise ValueError(f'{g} failed')\n", "g", True),  # a field of an f-string
    ("@g\ndef f(self):\n    return 1\n", "g", True),  # a decorator
    ("def f(self):\n    @g\n    def inner():\n        pass\n", "g", True),  # a nested decorator
    ("def g(self):\n    return 1\n", "g", True),  # its own name selects it
    ("def f(self):\n    try:\n        pass\n    except E as g:\n        pass\n", "g", True),
    ("def f(self):\n    global g\n", "g", True),
    ("def f(self):\n    from m import g\n", "g", True),
    ("def f(self):\n    import m.g as h\n", "g", True),
    ("def f(self, g=1):\n    return 1\n", "g", True),
    ("def f(self):\n    return h(g=1)\n", "g", True),  # a keyword
    ("def f(self):\n    match x:\n        case {'k': 1, **g}:\n            pass\n", "g", True),
    ("def f(self):\n    return gg(x)\n", "g", False),  # only a longer word holds it
    ("def f(self):\n    x = '''\n    g\n    '''\n", "g", False),  # a multi-line string
    ("def f(self):\n    # g\n    return [\n        1,  # g\n        g,\n    ]\n", "g", True),
    ("def f(self):\n    return ﬁle.to(x)  # ﬁ is NFKC 'fi'\n", "file", True),
    ("def f(self):\n    return 1  # ﬁle\n", "file", False),
]


def _follower():
    from devicelint.analysis import DEFAULT_SETTINGS
    from devicelint.follow.engine import Follower
    from devicelint.project import Project

    return Follower(Project(), DEFAULT_SETTINGS.vocabulary, DEFAULT_SETTINGS.catalog)


@pytest.mark.parametrize(("source", "name", "expected"), USES_CASES)
def test_uses_reads_code_not_comments_or_prose(source: str, name: str, expected: bool) -> None:
    module = ModuleInfo("m.py", source, "m")
    node = module.tree.body[0]
    assert _follower().uses(module, node, {name}) is expected


def _uses_as_walked(paths: list[Path]) -> int:
    from devicelint.follow.engine import _code_names

    compared = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        module = ModuleInfo(str(path), text, "m")
        follower = _follower()
        for node in statements(module.tree.body):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            walked = _code_names(node)
            for word in set(re.findall(r"[A-Za-z_]\w*", ast.get_source_segment(text, node) or "")):
                assert follower.uses(module, node, {word}) is (word in walked), (path, node.lineno, word)
                compared += 1
    return compared


def test_uses_gives_the_walk_of_every_definition_of_the_fixture_files() -> None:
    """``uses`` confirms a word on the statements around its lines: the same answer as
    walking the whole definition, for every word of every definition."""
    assert _uses_as_walked(FIXTURES) > 5_000


@pytest.mark.slow
def test_uses_gives_the_walk_on_large_real_modules() -> None:
    """The same on real modules with non-ASCII text, decorators, nested definitions."""
    import transformers

    root = Path(transformers.__file__).parent
    paths = [root / "modeling_utils.py", root / "trainer.py", root / "tokenization_utils_base.py"]
    assert _uses_as_walked([p for p in paths if p.exists()]) > 20_000


@pytest.mark.parametrize("enabled", [True, False])
def test_guarded_pauses_the_garbage_collector_and_leaves_it_as_it_was(enabled: bool) -> None:
    from devicelint.analysis import guarded

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        assert guarded(gc.isenabled) is False  # a file's analysis runs without collections
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError):
            guarded(int, "x")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


# Module-level code around a candidate: the run the pre-scan narrows gives what the run of the
# whole module gives (globals written by calls, rebindings, code after the flow ends, names
# spelt otherwise before NFKC), and the count expected (None: whatever the whole run says).
MODULE_SLICE_CASES = [
    ("unrelated = make()\nDEV = 'auto'\nother = torch.zeros(3)\nT.to(DEV)\n", 1),
    ("A = 'auto'\nB = A\nC = B\nlog(B)\nT.to(C)\n", 1),
    ("def get():\n    return 'auto'\nd = get()\nT.to(d)\n", 1),
    ("def get():\n    return 'auto'\ndef wrap():\n    return get()\nd = wrap()\nT.to(d)\n", 1),
    ("d = 'auto'\nd = 'cuda'\nT.to(d)\n", 0),  # the rebinding is taken: it names d
    ("d = 'auto'\ndel d\nT.to(d)\n", 0),
    ("def setup():\n    global DEV\n    DEV = 'auto'\nsetup()\nT.to(DEV)\n", None),  # a global written by a call
    ("DEV = 'cuda'\ndef setup():\n    global DEV\n    DEV = 'auto'\nsetup()\nT.to(DEV)\n", None),
    ("def f():\n    if x: global DEV\n    DEV = 'auto'\nf()\nT.to(DEV)\n", None),  # global after a colon: all runs
    ("d = 'auto'\nraise SystemExit\nT.to(d)\n", 0),  # the flow ends: taken though it names nothing
    ("d = 'auto'\nif ready():\n    pass\nelse:\n    raise SystemExit(1)\nT.to(d)\n", 1),
    ("d = 'auto'\nwhile True:\n    pass\nT.to(d)\n", 0),
    ("d = 'auto'\nassert False\nT.to(d)\n", 0),
    ("ｄｅｖ = 'auto'\nT.to(dev)\n", 1),  # one name after NFKC
    ("dev = 'auto'\nT.to(ｄｅｖ)\n", 1),
    ("class M:\n    def __init__(self):\n        self.d = 'auto'\nm = M()\nT.to(m.d)\n", None),
    ("cfg = {}\ncfg['device'] = 'auto'\nT.to(cfg['device'])\n", None),
    ("import x\nfrom y import *\nd = 'auto'\nfrom z import d\nT.to(d)\n", 0),  # an import rebinds d
    ("for d in ['auto']:\n    pass\nT.to(d)\n", 1),
    ("try:\n    d = 'auto'\nexcept E as d:\n    pass\nT.to(d)\n", 1),
]


@pytest.mark.parametrize(("source", "expected"), MODULE_SLICE_CASES)
def test_module_level_code_narrowed_gives_the_whole_result(source: str, expected: int | None) -> None:
    from devicelint.analysis import DEFAULT_SETTINGS, analyze_text, analyze_tree

    source = "import torch\nT = torch.zeros(2)\n" + source
    whole = analyze_tree(parse(source), split_lines(source), DEFAULT_SETTINGS)
    part = analyze_text(source, honour_noqa=False)
    assert [(f.line, f.code, f.message) for f in part] == [(f.line, f.code, f.message) for f in whole]
    if expected is not None:
        assert len(part) == expected


@pytest.mark.parametrize(
    ("source", "declares"),
    [
        ("def f():\n    global x\n    x = 1\n", True),
        ("def f():\n    '''global state'''\n    return 1\n", False),  # the word, no statement
        ("class C:\n    def m(self):\n        if a: global y\n", True),
        ("def f():\n    def g():\n        global z\n", True),
        ("def f():\n    is_global = 1\n", False),
    ],
)
def test_declares_global_table(source: str, declares: bool) -> None:
    module = ModuleInfo("m.py", source, "m", False, parse(source), split_lines(source))
    assert module.declares_global(module.tree.body[0]) is declares


def test_declares_global_is_the_walk_on_fixture_files() -> None:
    for path in FIXTURES:
        text = path.read_text(encoding="utf-8")
        module = ModuleInfo(str(path), text, None, False, parse(text), split_lines(text))
        for stmt in statements(module.tree.body):
            if not isinstance(stmt, ast.stmt):
                continue  # a match case
            walked = any(isinstance(n, ast.Global) for n in ast.walk(stmt))
            assert module.declares_global(stmt) is walked, (path.name, stmt.lineno)
