"""Robustness: devicelint over real code, over generated programs, and under a crash mid-fix.

1. The sweep: the real ``devicelint check`` and ``devicelint fix --diff`` over every Python
   file of this test environment's site-packages (torch, transformers, numpy, pip, ...):
   a clean exit (0 or 1, never a traceback), parse errors reported as DEV900, and every diff
   ``fix --diff`` prints changes only the literals of a DEV001 conditional. Real code has
   (almost) no DEV001, so the diff check also runs on copies of real files with an inverted
   conditional appended (their encodings, line endings, form feeds and tabs are the hard part).
   The numbers (files, findings per code, time) are printed (``pytest -s``), attached with
   ``record_property`` and written to ``robustness-sweep.json`` under the test's tmp dir.
2. Fuzzing with hypothesmith: the analysis never raises on a program ``ast.parse`` accepts,
   whole-module analysis included, and fixing is idempotent.
3. A crash between writing the temporary file and the rename (``os.replace`` patched by a
   ``sitecustomize.py`` to end the process on its Nth call) leaves every file fully old or
   fully new.
"""

from __future__ import annotations

import ast
import atexit
import collections
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from devicelint.analysis import DEFAULT_SETTINGS, analyze_text, analyze_tree
from devicelint.rewrite import changed_strings, fix_text
from devicelint.source import decode, parse, split_lines

SWEEP_TIMEOUT = 600  # seconds per CLI run; a run takes a few seconds on a 2-core machine


def site_packages() -> list[Path]:
    """The site-packages of ``sys.executable``'s environment (purelib and platlib, if they differ)."""
    paths = sysconfig.get_paths()
    found = []
    for key in ("purelib", "platlib"):
        path = Path(paths[key]).resolve()
        if path.is_dir() and path not in found:
            found.append(path)
    return found


def python_files(roots: list[Path]) -> list[Path]:
    files = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            files.extend(Path(dirpath, name) for name in sorted(filenames) if name.endswith((".py", ".pyi")))
    return files


def cli(
    *args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = SWEEP_TIMEOUT
) -> subprocess.CompletedProcess[bytes]:
    """The real command line. Output as bytes: a diff may carry \\r and other odd characters.

    It runs in a scratch directory unless told otherwise, so that no ``[tool.devicelint]``
    of the repository (found upward from the current directory) changes what is checked.
    """
    return subprocess.run(
        [sys.executable, "-m", "devicelint", *map(str, args)], capture_output=True, timeout=timeout, env=env,
        cwd=cwd or _scratch_dir(),
        check=False,
    )


@functools.cache
def _scratch_dir() -> Path:
    """An empty directory to run the CLI in, removed when the tests end."""
    path = Path(tempfile.mkdtemp(prefix="devicelint-robustness-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def assert_clean_exit(result: subprocess.CompletedProcess[bytes]) -> None:
    stderr = result.stderr.decode("utf-8", "replace")
    assert "Traceback (most recent call last)" not in stderr, stderr[-3000:]
    assert "internal error" not in stderr, stderr[-3000:]
    assert result.returncode in (0, 1), f"exit {result.returncode}: {stderr[-3000:]}"


# --- unified diffs ---------------------------------------------------------------------

_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def diff_lines(text: str) -> list[str]:
    """Lines split on \\n only (a content line may hold \\r, \\f or \\x1c: not line ends in a diff)."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def parse_unified_diff(text: str) -> dict[str, list[tuple[int, list[str], list[str]]]]:
    """{path: [(old start line, old lines, new lines), ...]}, reading each hunk by its counts."""
    lines = diff_lines(text)
    files: dict[str, list[tuple[int, list[str], list[str]]]] = {}
    i = 0
    while i < len(lines):
        assert lines[i].startswith("--- "), f"diff line {i + 1}: expected a '--- ' header, got {lines[i]!r}"
        assert lines[i + 1].startswith("+++ "), f"diff line {i + 2}: expected a '+++ ' header, got {lines[i + 1]!r}"
        path = lines[i + 1][4:].rstrip("\n").split("\t")[0]
        hunks = files.setdefault(path, [])
        i += 2
        while i < len(lines) and lines[i].startswith("@@"):
            match = _HUNK.match(lines[i])
            assert match, f"bad hunk header {lines[i]!r}"
            old_start, old_count = int(match[1]), int(match[2] or 1)
            new_count = int(match[4] or 1)
            i += 1
            old, new, last_tag = [], [], " "
            while len(old) < old_count or len(new) < new_count or (i < len(lines) and lines[i].startswith("\\")):
                line = lines[i]
                tag, content = line[:1], line[1:]
                i += 1
                if tag == "\\":  # "\ No newline at end of file": the line before has no newline
                    for side in ((old,) if last_tag == "-" else (new,) if last_tag == "+" else (old, new)):
                        side[-1] = side[-1].removesuffix("\n")
                    continue
                assert tag in " -+", f"bad hunk line {line!r} in {path}"
                if tag in " -":
                    old.append(content)
                if tag in " +":
                    new.append(content)
                last_tag = tag
            assert len(old) == old_count and len(new) == new_count, f"hunk counts do not add up in {path}"
            hunks.append((old_start, old, new))
    return files


def apply_hunks(old_text: str, hunks: list[tuple[int, list[str], list[str]]]) -> str:
    """The new text; asserts that every hunk's old side matches the file."""
    old_lines = diff_lines(old_text)  # as patch and git apply split a file: at \n only
    result, cursor = [], 0
    for start, old, new in hunks:
        begin = start - 1 if old else start
        assert old_lines[begin : begin + len(old)] == old, f"the hunk at line {start} does not match the file"
        result += old_lines[cursor:begin] + new
        cursor = begin + len(old)
    return "".join(result + old_lines[cursor:])


def assert_only_dev001_literals_change(path: str, old_text: str, new_text: str) -> None:
    """new_text is the fix of old_text: only the two literals of each DEV001 swap places."""
    findings = analyze_text(old_text, path)
    fixable = [f for f in findings if f.edits]
    assert fixable and all(f.code == "DEV001" for f in fixable), (path, findings)
    expected = fix_text(old_text, fixable)
    assert expected is not None and new_text == expected.text, f"{path}: the diff is not the in-process fix"
    changed = collections.Counter(changed_strings(old_text, new_text))
    swaps: collections.Counter[tuple[str, str]] = collections.Counter()
    for finding in fixable:
        assert len(finding.edits) == 2, finding
        a, b = (_literal_value(old_text, edit) for edit in finding.edits)
        assert {ast.literal_eval(e.replacement) for e in finding.edits} == {a, b}, finding
        swaps.update([(a, b), (b, a)])
    assert changed == swaps, f"{path}: changed {changed}, the DEV001 swaps are {swaps}"


def _literal_value(text: str, edit) -> str:
    lines = split_lines(text)
    assert edit.line == edit.end_line, edit
    return ast.literal_eval(lines[edit.line - 1][edit.column : edit.end_column])


# --- 1. the sweep over site-packages ---------------------------------------------------------


# Files that must give DEV900 (each has an "auto" for the pre-scan to see), added to the sweep
# so that its DEV900 check never goes vacuous on an environment where everything parses.
BROKEN_FILES = {
    "python2.py": b'print "auto"\n',
    "undecodable.py": b'device = "auto"\n# \xff\xfe not UTF-8\n',
    "null_byte.py": b'device = "auto"\n\x00\n',
    "bad_cookie.py": b'# -*- coding: no-such-codec -*-\ndevice = "auto"\n',
}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> dict:
    broken = tmp_path_factory.mktemp("broken").resolve()
    for name, data in BROKEN_FILES.items():
        (broken / name).write_bytes(data)
    roots = [*site_packages(), broken]
    files = python_files(roots)
    started = time.perf_counter()
    check = cli("check", "--format", "json", *roots)
    check_seconds = time.perf_counter() - started
    started = time.perf_counter()
    diff = cli("fix", "--diff", *roots)
    fix_seconds = time.perf_counter() - started
    findings = json.loads(check.stdout) if check.returncode in (0, 1) else []
    prescan = DEFAULT_SETTINGS.prescan
    matched = [p for p in files if prescan.matches_bytes(p.read_bytes())]
    stats = {
        "roots": [str(r) for r in roots],
        "files": len(files),
        "lines": sum(p.read_bytes().count(b"\n") for p in files),
        "files_passing_prescan": len(matched),
        "findings_per_code": dict(sorted(collections.Counter(f["code"] for f in findings).items())),
        "check_seconds": round(check_seconds, 2),
        "fix_diff_seconds": round(fix_seconds, 2),
        "check_exit": check.returncode,
        "fix_diff_exit": diff.returncode,
        "findings": [f"{f['filename']}:{f['line']}:{f['column']}: {f['code']} {f['message']}" for f in findings],
    }
    out = tmp_path_factory.mktemp("robustness") / "robustness-sweep.json"
    out.write_text(json.dumps(stats, indent=2))
    stats["report_file"] = str(out)
    print(f"\nrobustness sweep: {json.dumps({k: v for k, v in stats.items() if k != 'findings'})}")
    for line in stats["findings"]:
        print(f"  {line}")
    return {"stats": stats, "check": check, "diff": diff, "findings": findings, "files": files, "roots": roots}


@pytest.mark.slow
def test_sweep_check_exits_cleanly(sweep: dict, record_property) -> None:
    for key, value in sweep["stats"].items():
        record_property(key, value)
    assert sweep["stats"]["files"] > 1000, "the sweep should cover a real site-packages"
    assert_clean_exit(sweep["check"])


@pytest.mark.slow
def test_sweep_fix_diff_exits_cleanly(sweep: dict) -> None:
    assert_clean_exit(sweep["diff"])


@pytest.mark.slow
def test_sweep_parse_errors_are_dev900(sweep: dict) -> None:
    """A DEV900 only where the file really does not decode or parse, and every file the
    pre-scan lets through that does not parse gets one (the pre-scan skips the others unparsed:
    by design, a file without a device mistake costs a byte scan)."""
    reported = {f["filename"] for f in sweep["findings"] if f["code"] == "DEV900"}
    assert {str(sweep["roots"][-1] / name) for name in BROKEN_FILES} <= reported
    prescan = DEFAULT_SETTINGS.prescan
    excluded = _excluded_names()
    for path in sweep["files"]:
        folders = next(path.relative_to(r).parts[:-1] for r in sweep["roots"] if path.is_relative_to(r))
        data = path.read_bytes()
        if not prescan.matches_bytes(data):
            assert str(path) not in reported, f"{path}: DEV900 without the pre-scan matching"
            continue
        try:
            parse(decode(data).text)
            parses = True
        except (SyntaxError, UnicodeError, LookupError, ValueError):
            parses = False
        if parses:
            assert str(path) not in reported, f"{path} parses, yet is reported as DEV900"
        elif not excluded.intersection(folders) and not any(f.endswith(".egg-info") for f in folders):
            assert str(path) in reported, f"{path} does not parse and is not reported as DEV900"


def _excluded_names() -> set[str]:
    from devicelint import discover

    return set(getattr(discover, "DEFAULT_EXCLUDES", ()))


@pytest.mark.slow
def test_sweep_diffs_change_only_dev001_literals(sweep: dict) -> None:
    diff_text = sweep["diff"].stdout.decode("utf-8")
    per_file = parse_unified_diff(diff_text)
    fixable_files = {f["filename"] for f in sweep["findings"] if f["fixable"]}
    assert set(per_file) == fixable_files, "fix --diff and check disagree on which files have a fix"
    for path, hunks in per_file.items():
        old_text = decode(Path(path).read_bytes()).text
        assert_only_dev001_literals_change(path, old_text, apply_hunks(old_text, hunks))


SEED = (
    "\n\ndef _devicelint_seeded_probe(batch, device):\n"
    '    device = "auto" if device == "cuda" else device\n'
    "    return batch.to(device)\n"
)


SEED_CONDITIONAL = b'"auto" if device == "cuda" else device'
SEED_FIXED = b'"cuda" if device == "auto" else device'


def seed_file(data: bytes) -> bytes:
    """The file with an inverted conditional appended, in the file's own line ending."""
    newline = b"\r\n" if b"\r\n" in data[:4096] else b"\n"
    if data and not data.endswith((b"\n", b"\r")):
        data += newline
    return data + SEED.encode("ascii").replace(b"\n", newline)


# A line that exempts the whole file from every linter that reads it: flake8's file-level
# ``# flake8: noqa`` (with or without codes, any spacing or case) and devicelint's own
# ``# devicelint: noqa``. devicelint skips such a file by design (test_cli_check), so a DEV001
# appended to it is rightly not reported; the seeded sample leaves those files out.
FILE_EXEMPTION = re.compile(rb"(?:^|\r)[ \t\f]*#[ \t]*(?:flake8|devicelint)[ \t]*[:=][ \t]*noqa", re.IGNORECASE | re.MULTILINE)
SEED_MAX_BYTES = 1_000_000  # a seeded copy is a normal-sized module, whatever limits the analysis may set


def seedable(path: Path, data: bytes) -> bool:
    """The rule for the seeded sample, independent of which packages happen to be installed:
    a ``.py`` file of at most SEED_MAX_BYTES with no file-level exemption line (the assertion,
    "the appended DEV001 is reported", holds for every such file that parses in an
    ASCII-compatible encoding; the fixture checks those two conditions itself)."""
    return path.suffix == ".py" and len(data) <= SEED_MAX_BYTES and FILE_EXEMPTION.search(data) is None



@pytest.mark.parametrize(
    ("head", "kept"),
    [
        (b"# flake8: noqa\n", False),  # pydantic/v1/__init__.py starts like this
        (b'"""Doc."""\n# devicelint: noqa\n', False),
        (b"#FLAKE8=noqa: E501\n", False),  # flake8 ignores a file-level noqa with codes: left out all the same
        (b"x = 1  # flake8: noqa\n", True),  # an inline noqa exempts its line, not the file
        (b"# noqa\n", True),
        (b'"""Doc."""\n', True),
    ],
)
def test_seedable_rule_keeps_only_files_where_the_seed_is_reported(tmp_path: Path, head: bytes, kept: bool) -> None:
    """The seeded sample's rule against the real CLI: every file it keeps has its appended
    DEV001 reported; the files devicelint skips (file-level exemptions) are left out."""
    from helpers import devicelint

    path = tmp_path / "module.py"
    path.write_bytes(seed_file(head + b"import os\n"))
    assert seedable(path, path.read_bytes()) is kept
    result = devicelint("check", "--isolated", path)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    reported = "DEV001" in result.stdout
    if kept:
        assert reported, result.stdout
    if not reported:
        assert not kept

@pytest.fixture(scope="module")
def seeded(sweep: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Copies of real files (every 20th file of the sweep that ``seedable`` accepts and that
    parses; a third turned to CRLF, a third given a UTF-8 BOM) with a DEV001 appended, and
    what ``fix --diff`` says about them."""
    root = tmp_path_factory.mktemp("seeded")
    chosen: dict[Path, tuple[bytes, bytes]] = {}
    candidates = [path for path in sweep["files"] if seedable(path, path.read_bytes())]
    for index, path in enumerate(candidates):
        if index % 20:
            continue
        data = path.read_bytes()
        try:
            source = decode(data)
            parse(source.text)
        except (SyntaxError, UnicodeError, LookupError, ValueError):
            continue
        if not source.encoding.replace("_", "-").lower().startswith(("utf-8", "latin-1", "iso-8859-1", "ascii")):
            continue  # appending ASCII bytes needs an ASCII-compatible encoding
        # Real files rarely have CRLF or a BOM: give a third of them CRLF, a third a BOM.
        variant = (index // 20) % 3
        if variant == 1 and b"\r" not in data:
            data = data.replace(b"\n", b"\r\n")
        elif variant == 2 and source.encoding == "utf-8" and not data.startswith(b"\xef\xbb\xbf"):
            data = b"\xef\xbb\xbf" + data
        try:
            parse(decode(data).text)
        except (SyntaxError, UnicodeError, LookupError, ValueError):
            continue
        target = root / f"f{index:05d}" / path.name
        target.parent.mkdir(parents=True)
        seeded_data = seed_file(data)
        target.write_bytes(seeded_data)
        chosen[target] = (seeded_data, seeded_data.replace(SEED_CONDITIONAL, SEED_FIXED))
    diff = cli("fix", "--diff", root)
    return {"root": root, "files": chosen, "diff": diff}


@pytest.mark.slow
def test_seeded_real_files_diff_and_fix_change_only_the_literals(seeded: dict) -> None:
    """Where ``fix --diff`` shows a fix in a seeded real file, it is exactly the swap, and
    ``fix`` writes the original bytes with only the two literals swapped (encoding, BOM,
    CRLF, form feeds and mode untouched)."""
    chosen = seeded["files"]
    assert len(chosen) > 200
    assert_clean_exit(seeded["diff"])
    per_file = parse_unified_diff(seeded["diff"].stdout.decode("utf-8"))
    assert set(per_file) <= {str(p) for p in chosen}
    assert len(per_file) > 0.9 * len(chosen), f"only {len(per_file)} of {len(chosen)} seeded files have a diff"
    for path, hunks in per_file.items():
        old_text = decode(chosen[Path(path)][0]).text
        assert_only_dev001_literals_change(path, old_text, apply_hunks(old_text, hunks))

    modes = {p: p.stat().st_mode for p in chosen}
    fix = cli("fix", seeded["root"])
    assert_clean_exit(fix)
    for path, (old, expected) in chosen.items():
        assert path.read_bytes() in ((expected,) if str(path) in per_file else (old,)), f"{path}: wrong bytes after fix"
        assert path.stat().st_mode == modes[path]
    assert not list(seeded["root"].rglob(".devicelint-*")), "temporary files left behind"


@pytest.mark.slow
def test_seeded_real_files_are_all_reported(seeded: dict) -> None:
    """Every seeded file has the appended DEV001 reported: the pre-scan must never say no to a
    file the analysis would report on (13 of 559 once were missed: see the test below)."""
    per_file = parse_unified_diff(seeded["diff"].stdout.decode("utf-8"))
    missing = sorted(str(p) for p in seeded["files"] if str(p) not in per_file)
    assert not missing, f"{len(missing)} of {len(seeded['files'])} seeded files not fixed: {missing[:20]}"


PRESCAN_BODY = """\
import torch
{head}

def load(batch, device):
    device = "auto" if device == "cuda" else device
    return batch.to(device)
"""


@pytest.mark.parametrize(
    "head",
    [
        pytest.param("QUOTE = '\"'", id="one-char-string-of-a-double-quote"),
        pytest.param('# strip newlines (because of """ style strings)', id="triple-quote-in-a-comment"),
        pytest.param("TOKENS = [(r'\"\"\"', 'tdqs')]", id="triple-quote-in-a-string"),
        pytest.param("EMPTY = ''", id="empty-string"),
        pytest.param('DOC = """a "quoted" word"""', id="docstring-with-quotes"),
    ],
)
def test_prescan_agrees_with_the_whole_module_analysis(head: str) -> None:
    """The minimal reproductions of what the seeded sweep found (the pre-scan once counted
    triple quotes after folding ' into ", so '"' or \"\"\" in a comment hid the rest of the file):
    with the pre-scan (``analyze_text``) and without it (whole-module ``analyze_tree``) the same findings."""
    text = PRESCAN_BODY.format(head=head)
    whole = analyze_tree(parse(text), split_lines(text), DEFAULT_SETTINGS)
    assert [f.code for f in whole] == ["DEV001"]
    assert analyze_text(text) == whole


ODD_SOURCES = {
    # A form feed (a page break, common in older code) and a \x1c in a comment: whitespace to
    # Python, but str.splitlines() breaks lines there.
    "a_form_feed.py": (
        "import torch\n\x0c\n"
        "def load(batch, device):  # a \x1c in a comment\n"
        '    device = "auto" if device == "cuda" else device\n'
        "    return batch.to(device)\n"
    ),
    # The fixed line is the last one and has no newline.
    "b_no_newline.py": (
        "import torch\n\n\ndef load(batch, device):\n"
        "    return batch.to(device)\n\n\n"
        'def pick(device):\n    return torch.zeros(1).to("auto" if device == "cuda" else device)'
    ),
    "c_crlf.py": (
        "import torch\r\n\r\n\r\ndef load(batch, device):\r\n"
        '    device = "auto" if device == "cuda" else device\r\n'
        "    return batch.to(device)\r\n"
    ),
}


@pytest.mark.parametrize("name", sorted(ODD_SOURCES))
def test_fix_diff_is_a_valid_patch(tmp_path: Path, name: str) -> None:
    """``fix --diff`` output is a patch that ``patch`` (and ``git apply``) apply to give exactly
    the fixed file: lines split at \n only, "\\ No newline at end of file" where due. Checked
    with a second, ordinary file in the same diff, so a broken last line shows."""
    files = {name: ODD_SOURCES[name], "z_plain.py": ODD_SOURCES["c_crlf.py"].replace("\r\n", "\n")}
    for file_name, source in files.items():
        (tmp_path / "src" / file_name).parent.mkdir(exist_ok=True)
        (tmp_path / "src" / file_name).write_bytes(source.encode("utf-8"))
    diff = cli("fix", "--diff", "src", cwd=tmp_path)
    assert_clean_exit(diff)
    expected = {
        f"src/{n}": s.replace('"auto" if device == "cuda"', '"cuda" if device == "auto"') for n, s in files.items()
    }
    per_file = parse_unified_diff(diff.stdout.decode("utf-8"))
    assert set(per_file) == set(expected)
    for path, hunks in per_file.items():
        assert apply_hunks(files[path[4:]], hunks) == expected[path], path
    if shutil.which("patch"):
        result = subprocess.run(
            ["patch", "--batch", "-p0"], input=diff.stdout, capture_output=True, cwd=tmp_path, check=False
        )
        assert result.returncode == 0, (result.stdout + result.stderr).decode(errors="replace")
        for path, text in expected.items():
            assert (tmp_path / path).read_bytes() == text.encode("utf-8"), path


# --- 2. fuzzing with hypothesmith --------------------------------------------------------------

CONCRETE = ["cuda", "cuda:0", "cpu", "mps"]
INVALID = ["auto", "balanced", "balanced_low_0", "sequential", "gpu", "cuda0", "CUDA"]
DEVICE_NAMES = ["device", "self.device", "cfg.device"]
SINK_LINES = [
    "x = x.to(device)",
    "x = torch.zeros(2, device=device)",
    "torch.cuda.set_device(device)",
    "m = AutoModel.from_pretrained(p, device_map=device)",
    "x = torch.device(device)",
]


def parses(source: str) -> bool:
    try:
        parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def analyse_everything(source: str) -> None:
    """Both engine entry points; neither may raise on a module ``ast.parse`` accepts."""
    analyze_text(source)
    analyze_tree(parse(source), split_lines(source), DEFAULT_SETTINGS)


def fix_once(source: str) -> str:
    result = fix_text(source, analyze_text(source))
    return source if result is None else result.text


def assert_fix_idempotent(source: str) -> None:
    findings = analyze_text(source)
    event(f"findings: {', '.join(sorted({f.code for f in findings})) or 'none'}")
    event(f"fixable DEV001: {'yes' if any(f.edits for f in findings) else 'no'}")
    once = fix_once(source)
    assert parses(once)
    twice = fix_once(once)
    assert twice == once, "fixing twice differs from fixing once"


class _Deviceify(ast.NodeTransformer):
    """Turns a generated program into one full of device strings: every string constant
    becomes a device literal, some names become ``device``, and sinks are sprinkled in."""

    def __init__(self, draw) -> None:
        self.draw = draw

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str):
            node.value = self.draw(st.sampled_from(CONCRETE + INVALID))
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if self.draw(st.integers(0, 3)) == 0:
            node.id = "device"
        return node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for name in ("body", "orelse", "finalbody"):
            body = getattr(node, name, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt) and self.draw(st.booleans()):
                extra = ast.parse(self.draw(st.sampled_from(SINK_LINES))).body
                at = self.draw(st.integers(0, len(body)))
                body[at:at] = extra
        return node


@st.composite
def deviceified(draw, programs: st.SearchStrategy[str]) -> str:
    source = draw(programs)
    assume(parses(source))
    tree = _Deviceify(draw).visit(parse(source))
    try:
        new = ast.unparse(ast.fix_missing_locations(tree))
    except (ValueError, TypeError, RecursionError):
        assume(False)
    conditional = "{s} = {p!r} if {s} == {c!r} else {s}".format(
        s=draw(st.sampled_from(DEVICE_NAMES)), p=draw(st.sampled_from(INVALID)), c=draw(st.sampled_from(CONCRETE))
    )
    prefix = textwrap.dedent(
        f"""\
        import torch
        from transformers import AutoModel
        {conditional}
        {draw(st.sampled_from(SINK_LINES))}
        """
    )
    candidate = prefix + new if draw(st.booleans()) else new + "\n" + prefix
    assume(parses(candidate))
    return candidate


def fuzz(max_examples: int):
    """Hypothesis settings for a fuzz test; hypothesmith's own compile() checks warn a lot."""
    fuzz_settings = settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )

    def decorate(test):
        return pytest.mark.slow(pytest.mark.filterwarnings("ignore::SyntaxWarning")(fuzz_settings(test)))

    return decorate


@fuzz(500)
@given(hypothesmith.from_grammar())
def test_fuzz_grammar_programs_analysis_never_raises(source: str) -> None:
    assume(parses(source))
    analyse_everything(source)
    assert_fix_idempotent(source)


@fuzz(150)
@given(hypothesmith.from_node())
def test_fuzz_node_programs_analysis_never_raises(source: str) -> None:
    assume(parses(source))
    analyse_everything(source)
    assert_fix_idempotent(source)


@fuzz(500)
@given(deviceified(hypothesmith.from_grammar()))
def test_fuzz_device_rich_grammar_programs(source: str) -> None:
    analyse_everything(source)
    assert_fix_idempotent(source)


@fuzz(150)
@given(deviceified(hypothesmith.from_node()))
def test_fuzz_device_rich_node_programs(source: str) -> None:
    analyse_everything(source)
    assert_fix_idempotent(source)


# --- 3. a crash between the temporary file and the rename ---------------------------------------

CRASH_SITECUSTOMIZE = '''\
"""Patched in by test_robustness: make devicelint's Nth os.replace onto a .py file end the process."""
import os

_mode = os.environ.get("DEVICELINT_TEST_CRASH_MODE")
if _mode:
    _at = int(os.environ["DEVICELINT_TEST_CRASH_AT"])
    _real_replace = os.replace
    _calls = 0

    def _crashing_replace(src, dst, *args, **kwargs):
        global _calls
        if not os.fspath(dst).endswith(".py"):
            return _real_replace(src, dst, *args, **kwargs)
        _calls += 1
        if _calls == _at:
            if _mode == "before":  # the temporary file is written, the rename never happens
                os._exit(99)
            if _mode == "interrupt":  # Ctrl-C at the worst moment
                raise KeyboardInterrupt
            _real_replace(src, dst, *args, **kwargs)  # "after": renamed, then killed
            os._exit(99)
        return _real_replace(src, dst, *args, **kwargs)

    os.replace = _crashing_replace
'''

CRASH_SOURCE = (
    "import torch\n\n\n"
    "def load_{index}(batch, device):\n"
    "    # file {index}: {padding}\n"
    '    device = "auto" if device == "cuda" else device\n'
    "    return batch.to(device)\n"
)


def crash_tree(root: Path, count: int) -> dict[Path, tuple[bytes, bytes]]:
    """``count`` files to fix (some CRLF, some latin-1, some large): {path: (old, new)}."""
    files = {}
    for index in range(count):
        text = CRASH_SOURCE.format(index=index, padding="x" * (index * 5000 if index % 7 == 3 else index))
        data = text.encode()
        if index % 5 == 1:
            data = data.replace(b"\n", b"\r\n")
        if index % 5 == 2:
            data = "# -*- coding: latin-1 -*-\n# caf\u00e9\n".encode("latin-1") + data
        path = root / f"pkg{index % 3}" / f"mod_{index:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[path] = (data, data.replace(b'"auto" if device == "cuda"', b'"cuda" if device == "auto"'))
    return files


def run_crashing_fix(tmp_path: Path, root: Path, mode: str, at: int, jobs: int) -> subprocess.CompletedProcess[bytes]:
    hooks = tmp_path / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(CRASH_SITECUSTOMIZE)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hooks), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DEVICELINT_TEST_CRASH_MODE": mode,
        "DEVICELINT_TEST_CRASH_AT": str(at),
    }
    return cli("fix", "--jobs", str(jobs), root, env=env, timeout=180)


def file_states(files: dict[Path, tuple[bytes, bytes]]) -> collections.Counter[str]:
    states: collections.Counter[str] = collections.Counter()
    for path, (old, new) in files.items():
        data = path.read_bytes()
        assert data in (old, new), f"{path} is neither the old nor the new file: {data[:200]!r}"
        states["new" if data == new and data != old else "old"] += 1
    return states


def leftover_temps(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.startswith(".devicelint-"))


# The quick run crashes at the first and a middle rename; --slow adds the rest.
@pytest.mark.parametrize("at", [1, pytest.param(2, marks=pytest.mark.slow), 9, pytest.param(17, marks=pytest.mark.slow),
                                pytest.param(24, marks=pytest.mark.slow)])
@pytest.mark.parametrize("mode", ["before", "after"])
def test_crash_during_fix_leaves_old_or_new_files(tmp_path: Path, mode: str, at: int) -> None:
    root = tmp_path / "tree"
    files = crash_tree(root, 24)
    result = run_crashing_fix(tmp_path, root, mode, at, jobs=1)
    assert result.returncode == 99, (
        f"the patched os.replace never ended the process (exit {result.returncode}): does the fixer still "
        f"rename with os.replace? {result.stderr.decode(errors='replace')[-2000:]}"
    )
    states = file_states(files)
    # -j1 fixes the files in order: those before the crash are new, the rest old.
    assert states["new"] == (at - 1 if mode == "before" else at), states
    temps = leftover_temps(root)
    if mode == "before":
        # Killed between write and rename: the finished temporary file of the Nth file stays
        # behind (no cleanup can run after os._exit); it holds the complete new content.
        assert len(temps) == 1, temps
        assert temps[0].name.endswith(".tmp") and temps[0].read_bytes() in {new for _, new in files.values()}
        for temp in temps:
            temp.unlink()
    else:
        assert temps == []
    # The next run finishes the job and leaves nothing behind.
    rerun = cli("fix", "--jobs", "1", root, timeout=180)
    assert_clean_exit(rerun)
    assert file_states(files)["new"] == len(files)
    assert leftover_temps(root) == []


@pytest.mark.parametrize("at", [pytest.param(1, marks=pytest.mark.slow), 5, pytest.param(12, marks=pytest.mark.slow)])
def test_interrupt_during_fix_cleans_up(tmp_path: Path, at: int) -> None:
    """A KeyboardInterrupt raised at the rename: the temporary file is removed, exit 130."""
    root = tmp_path / "tree"
    files = crash_tree(root, 20)
    result = run_crashing_fix(tmp_path, root, "interrupt", at, jobs=1)
    assert result.returncode == 130, result.stderr.decode(errors="replace")[-2000:]
    assert b"Traceback" not in result.stderr
    assert file_states(files)["new"] == at - 1
    assert leftover_temps(root) == []


@pytest.mark.parametrize("mode", ["before", "after"])
def test_crash_in_a_worker_process_during_fix(tmp_path: Path, mode: str) -> None:
    """With the process pool (enough files for it), a worker dying mid-rename: every file is
    still old or new, and the run fails with a message, not a traceback or a hang."""
    root = tmp_path / "tree"
    files = crash_tree(root, 90)
    result = run_crashing_fix(tmp_path, root, mode, 3, jobs=2)
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode != 0, "no worker crashed"
    assert "Traceback (most recent call last)" not in stderr, stderr[-3000:]
    states = file_states(files)
    assert states["new"] >= 2, states  # the crash comes at a worker's third rename
    temps = leftover_temps(root)
    # Only a crashed worker's own temporary file (mode "before": it died between writing and
    # renaming; the crash is counted per process, so both workers may hit it). A worker the
    # pool stops with SIGTERM cleans up before it exits, so mode "after" leaves none.
    # Never a half-written .py file: file_states checked that.
    assert len(temps) <= (2 if mode == "before" else 0), temps
    assert "a worker process died" in stderr, stderr[-3000:]
    print(f"\nworker crash ({mode}): exit {result.returncode}, {dict(states)}, {len(temps)} temp files, stderr: {stderr.strip()[-300:]!r}")
