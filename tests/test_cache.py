"""The persistent cache of ``devicelint check`` (cache.py): a warm run gives exactly what a
cold one gives, whatever changed in between (the file, a module it imports, a module that
imports it, the cache file itself), and nothing is written where it must not be.

Every test has its own cache folder (DEVICELINT_CACHE_DIR); conftest.py points the whole
session at a temporary one, so no test writes into the user's home.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import devicelint, devicelint_process, flake8

from devicelint.cache import SUBDIR

OLD = time.time() - 3600  # files "written an hour ago": their size and time are trusted


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # beside the checked tree, not in it: the tests' trees are import roots whose listings
    # entries depend on, and a cache written inside would change their folders' times
    folder = tmp_path.parent / f"{tmp_path.name}-cache"
    monkeypatch.setenv("DEVICELINT_CACHE_DIR", str(folder))
    return folder


def write_tree(root: Path, files: dict[str, str], age: float | None = OLD) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if age is not None:
            os.utime(path, (age, age))


def age_folders(root: Path) -> None:
    """Every folder under ``root`` (and itself) last written an hour ago: a warm run then trusts
    their times, and checks a listing an entry depends on from its folders alone."""
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        os.utime(folder, (OLD, OLD))


def index_files(cache: Path) -> list[Path]:
    return sorted((cache / SUBDIR).glob("*.cache"))


def listing_shapes(cache: Path) -> list[Path]:
    folder = cache / SUBDIR / "listings"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def check(*args: str | Path, cwd: Path) -> tuple[int, str]:
    result = devicelint("check", "--isolated", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    assert result.stderr == ""
    return result.returncode, result.stdout


def same_as_cold(*args: str | Path, cwd: Path) -> str:
    """A run with the cache, asserted to report what a run without it reports."""
    warm = check(*args, cwd=cwd)
    cold = check("--no-cache", *args, cwd=cwd)
    assert warm == cold
    return warm[1]


PROJECT = {
    "pkg/__init__.py": "",
    "pkg/utils.py": "def move(x, device):\n    return x.to(device)\n",
    "pkg/main.py": "import torch\nfrom pkg.utils import move\n\nmove(torch.zeros(2), \"auto\")\n",
    "pkg/config.py": "DEFAULT_DEVICE = \"auto\"\n",
    "pkg/plain.py": "import torch\nx = torch.zeros(2).to(\"cpu\")\n",
    "pkg/script.py": "import torch\nfrom tools import move\n\nmove(torch.zeros(2), \"auto\")\n",
    "pkg/deep.py": "import torch\nfrom lib.helpers import move\n\nmove(torch.zeros(2), \"auto\")\n",
}

# (the file edited, its new text, the file checked, whether a DEV002 is reported there after)
DEPENDENCY_EDITS = [
    # a function the checked file calls: its sink goes away, and comes back
    ("pkg/utils.py", "def move(x, device):\n    return x\n", "pkg/main.py", False),
    ("pkg/utils.py", "def move(x, device):\n    return x.cuda(device)\n", "pkg/main.py", True),
    # a module that imports the checked file's constant and moves it: a new importer
    ("pkg/user.py", "import torch\nfrom pkg.config import DEFAULT_DEVICE\ntorch.zeros(1).to(DEFAULT_DEVICE)\n", "pkg/config.py", True),
    # ... or an importer edited in place (its folder's time stays)
    ("pkg/plain.py", "import torch\nfrom pkg.config import DEFAULT_DEVICE\nx = torch.zeros(2).to(DEFAULT_DEVICE)\n", "pkg/config.py", True),
    # the checked file's import now resolves: a module that did not exist
    ("pkg/tools.py", "def move(x, device):\n    return x.to(device)\n", "pkg/script.py", True),
    # ... in a folder that did not exist (a warm run looks at the missing folder only)
    ("lib/helpers.py", "def move(x, device):\n    return x.to(device)\n", "pkg/deep.py", True),
]


@pytest.mark.parametrize("old_folders", [False, True], ids=["new-folders", "old-folders"])
@pytest.mark.parametrize(("edited", "text", "checked", "reported"), DEPENDENCY_EDITS)
def test_editing_another_module_changes_the_cached_result(
    tmp_path: Path, cache: Path, edited: str, text: str, checked: str, reported: bool, old_folders: bool
) -> None:
    """With old folders, the second warm run checks the listings from their folders' times
    (their shapes kept by the first): a module added changes its folder's time."""
    write_tree(tmp_path, PROJECT)
    if edited == "pkg/utils.py" and "cuda" in text:
        write_tree(tmp_path, {"pkg/utils.py": "def move(x, device):\n    return x\n"})
    if old_folders:
        age_folders(tmp_path)
    before = same_as_cold(checked, cwd=tmp_path)
    assert same_as_cold(checked, cwd=tmp_path) == before  # warm, unchanged
    assert same_as_cold(checked, cwd=tmp_path) == before  # warm, from the listings' shapes if any
    assert index_files(cache)
    if checked == "pkg/config.py":  # the one whose result depends on a listing (of pkg, its importers)
        assert bool(listing_shapes(cache)) == old_folders
    write_tree(tmp_path, {edited: text}, age=None)
    after = same_as_cold(checked, cwd=tmp_path)
    assert ("DEV002" in after) == reported
    assert after != before


# (a checked file, its text with a DEV002, the same size without): one whose result depends
# on other modules, and one that depends on nothing (its entry is checked without parsing it)
REWRITES = [
    ("pkg/main.py", PROJECT["pkg/main.py"], PROJECT["pkg/main.py"].replace('"auto"', '"cpu" ')),
    ("bare.py", 'x.to("auto")\n', 'x.to("cpu") \n'),
]


@pytest.mark.parametrize(("name", "with_finding", "without"), REWRITES, ids=["with-dependencies", "alone"])
def test_a_warm_run_reads_unchanged_files_from_the_cache(tmp_path: Path, cache: Path, name: str, with_finding: str, without: str) -> None:
    """Shown by its one effect on results: an entry whose size and time still match is
    trusted (as ruff does) when the file was written well before it was checked."""
    write_tree(tmp_path, {**PROJECT, name: without})
    assert "DEV002" not in same_as_cold(name, cwd=tmp_path)
    path = tmp_path / name
    path.write_text(with_finding)
    os.utime(path, (OLD, OLD))  # and the same time: indistinguishable without reading it
    assert "DEV002" not in check(name, cwd=tmp_path)[1]  # the stored result
    assert "DEV002" in check("--no-cache", name, cwd=tmp_path)[1]


@pytest.mark.parametrize(("name", "with_finding", "without"), REWRITES, ids=["with-dependencies", "alone"])
def test_a_file_rewritten_moments_after_its_check_is_read_again(tmp_path: Path, cache: Path, name: str, with_finding: str, without: str) -> None:
    """Same size, same time, different bytes: possible when two writes fall within the
    clock's resolution. A time that close to the check is never trusted (git's racy check)."""
    write_tree(tmp_path, {**PROJECT, name: without}, age=None)
    path = tmp_path / name
    stat = path.stat()
    assert "DEV002" not in same_as_cold(name, cwd=tmp_path)
    path.write_text(with_finding)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert "DEV002" in same_as_cold(name, cwd=tmp_path)


def test_a_module_added_within_the_same_tick_as_its_folders_time_is_found(tmp_path: Path, cache: Path) -> None:
    """A folder written moments before it was listed may gain a file without a new time
    (timestamps are coarser than the clock): its time is never trusted, the folder is listed
    again. Here the added importer leaves pkg/ with exactly the time it had."""
    write_tree(tmp_path, PROJECT)
    folder = tmp_path / "pkg"
    os.utime(folder, ns=(time.time_ns(), time.time_ns()))
    written = folder.stat().st_mtime_ns
    assert "DEV002" not in same_as_cold("pkg/config.py", cwd=tmp_path)
    assert "DEV002" not in same_as_cold("pkg/config.py", cwd=tmp_path)
    assert not listing_shapes(cache)
    write_tree(tmp_path, {"pkg/user.py": DEPENDENCY_EDITS[2][1]})
    os.utime(folder, ns=(written, written))
    assert "DEV002" in same_as_cold("pkg/config.py", cwd=tmp_path)


def test_a_module_rewritten_moments_after_it_was_read_is_read_again(tmp_path: Path, cache: Path) -> None:
    """A module an entry depends on stands for its bytes by its size and time only when it was
    written well before it was read: the same size, the same time, other bytes are seen."""
    write_tree(tmp_path, PROJECT, age=None)
    utils = tmp_path / "pkg/utils.py"
    stat = utils.stat()
    assert "DEV002" in same_as_cold("pkg/main.py", cwd=tmp_path)
    utils.write_text(utils.read_text().replace("x.to(device)", "x  # device "))
    os.utime(utils, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert utils.stat().st_size == stat.st_size
    assert "DEV002" not in same_as_cold("pkg/main.py", cwd=tmp_path)


def test_a_module_written_well_before_it_was_read_is_trusted_by_size_and_time(tmp_path: Path, cache: Path) -> None:
    """Shown by its one effect on results (as for the checked file itself): the same size and
    the same old time, other bytes, and the stored result stands."""
    write_tree(tmp_path, PROJECT)
    assert "DEV002" in same_as_cold("pkg/main.py", cwd=tmp_path)
    utils = tmp_path / "pkg/utils.py"
    utils.write_text(utils.read_text().replace("x.to(device)", "x  # device "))
    os.utime(utils, (OLD, OLD))
    assert "DEV002" in check("pkg/main.py", cwd=tmp_path)[1]  # the stored result
    assert "DEV002" not in check("--no-cache", "pkg/main.py", cwd=tmp_path)[1]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],
        lambda data: data[:-30] + b"X" * 30,
        lambda data: data.partition(b"\n")[0] + b"\n" + b'["/", "0", [], []]',  # another listing's, checksum wrong
    ],
    ids=["empty", "truncated", "scribbled", "foreign"],
)
def test_a_damaged_listing_shape_never_changes_a_result(tmp_path: Path, cache: Path, damage) -> None:
    write_tree(tmp_path, PROJECT)
    age_folders(tmp_path)
    expected = same_as_cold("pkg/config.py", cwd=tmp_path)
    assert same_as_cold("pkg/config.py", cwd=tmp_path) == expected
    assert listing_shapes(cache)
    for shape in listing_shapes(cache):
        shape.write_bytes(damage(shape.read_bytes()))
    assert same_as_cold("pkg/config.py", cwd=tmp_path) == expected
    write_tree(tmp_path, {"pkg/user.py": DEPENDENCY_EDITS[2][1]}, age=None)
    assert "DEV002" in same_as_cold("pkg/config.py", cwd=tmp_path)


def test_py_files_walks_as_os_walk_and_says_which_folders_can_be_trusted(tmp_path: Path) -> None:
    """project.py_files is os.walk's walk (links to folders not followed; hidden and build
    folders left out); each folder walked comes with its device, inode, time and ctime, or -1s
    when a warm run must list it again: written moments ago, or holding a symbolic link."""
    from devicelint.project import _SKIPPED_DIRS, MAX_INDEXED_FILES, py_files

    def reference(base: Path) -> list[str]:
        files: list[str] = []
        for directory, subdirs, filenames in os.walk(base):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
            files.extend(os.path.join(directory, f) for f in sorted(filenames) if f.endswith(".py"))
            if len(files) > MAX_INDEXED_FILES:
                break
        return files

    write_tree(tmp_path, dict.fromkeys(["a.py", "b/c.py", "b/d/e.py", ".hidden/f.py", "build/g.py", "h/i.txt", "j/k.py"], ""))
    (tmp_path / "j" / "link.py").symlink_to(tmp_path / "a.py")
    (tmp_path / "j" / "folder").symlink_to(tmp_path / "b", target_is_directory=True)
    (tmp_path / "j" / "broken.py").symlink_to(tmp_path / "nowhere")
    age_folders(tmp_path)
    os.utime(tmp_path / "b" / "d", None)  # written now
    folders: list[tuple[str, int, int, int, int]] = []
    assert py_files(str(tmp_path), folders) == reference(tmp_path)
    assert {Path(p).name for p in py_files(str(tmp_path))} == {"a.py", "c.py", "e.py", "k.py", "link.py", "broken.py"}
    untrusted = {Path(f[0]).relative_to(tmp_path) for f in folders if f[1:] == (-1, -1, -1, -1)}
    assert untrusted == {Path("b/d"), Path("j")}
    for path, device, inode, mtime, ctime in folders:
        if Path(path).relative_to(tmp_path) not in untrusted:
            info = os.stat(path)
            assert (device, inode, mtime, ctime) == (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns)
    many = {f"m/{i:04d}.py": "" for i in range(MAX_INDEXED_FILES + 50)}
    write_tree(tmp_path / "many", {**many, "n/x.py": ""})
    assert py_files(str(tmp_path / "many")) == reference(tmp_path / "many")
    assert len(py_files(str(tmp_path / "many"))) == MAX_INDEXED_FILES + 50


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],  # a write cut short
        lambda data: data[:-30] + b"X" * 30,  # bytes changed under a valid header
        lambda data: b"\x00\xff" * 100,
        lambda data: data.replace(b'"DEV002"', b'"DEV001"'),  # a plausible but wrong entry
    ],
    ids=["empty", "truncated", "scribbled", "binary", "edited"],
)
def test_a_damaged_cache_never_changes_a_result(tmp_path: Path, cache: Path, damage) -> None:
    write_tree(tmp_path, PROJECT)
    expected = same_as_cold("pkg", cwd=tmp_path)
    assert "DEV002" in expected
    for index in index_files(cache):
        index.write_bytes(damage(index.read_bytes()))
    assert same_as_cold("pkg", cwd=tmp_path) == expected
    assert same_as_cold("pkg", cwd=tmp_path) == expected  # and the index was written afresh


def test_concurrent_runs_share_the_cache_without_errors(tmp_path: Path, cache: Path) -> None:
    files = {f"pkg/m{i}.py": f'import torch\ntorch.zeros(1).to("{"auto" if i % 3 == 0 else "cpu"}")\n' for i in range(120)}
    write_tree(tmp_path, {"pkg/__init__.py": "", **files})
    expected = devicelint_process("check", "--isolated", "--no-cache", "pkg", cwd=tmp_path)
    assert expected.returncode == 1
    argv = [sys.executable, "-m", "devicelint", "check", "--isolated", "pkg"]
    for _ in range(2):  # cold together, then warm together
        runs = [subprocess.Popen(argv + ["-j", str(1 + k % 2)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(4)]
        for run in runs:
            out, err = run.communicate(timeout=300)
            assert (run.returncode, out, err) == (1, expected.stdout, "")
    assert len(index_files(cache)) == 1
    assert not [p for p in (cache / SUBDIR).iterdir() if p.name.startswith(".tmp-")]


def test_no_cache_and_standard_input_write_nothing(tmp_path: Path, cache: Path) -> None:
    write_tree(tmp_path, PROJECT)
    check("--no-cache", "pkg", cwd=tmp_path)
    result = devicelint("check", "--isolated", "-", cwd=tmp_path, stdin=PROJECT["pkg/plain.py"])
    assert result.returncode == 0
    assert not cache.exists()


def test_nothing_is_written_into_the_checked_tree(tmp_path: Path, cache: Path) -> None:
    tree = tmp_path / "tree"
    write_tree(tree, PROJECT)
    before = sorted(p.relative_to(tree) for p in tree.rglob("*"))
    check("pkg", cwd=tree)
    check("pkg", cwd=tree)
    assert sorted(p.relative_to(tree) for p in tree.rglob("*")) == before
    assert index_files(cache)


def test_the_flake8_plugin_writes_no_cache(tmp_path: Path, cache: Path) -> None:
    write_tree(tmp_path, PROJECT)
    env_check = flake8("--select", "DEV", "pkg/main.py", cwd=tmp_path)
    assert "DEV002" in env_check.stdout
    assert not cache.exists()


def test_cache_dir_from_the_configuration_and_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEVICELINT_CACHE_DIR")
    write_tree(tmp_path, {**PROJECT, "pyproject.toml": '[tool.devicelint]\ncache-dir = "../elsewhere"\n'})
    result = devicelint("check", "pkg", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    configured = tmp_path.parent / "elsewhere"
    assert list((configured / SUBDIR).glob("*.cache"))
    assert (configured / "CACHEDIR.TAG").is_file()
    # the environment variable wins over the file
    monkeypatch.setenv("DEVICELINT_CACHE_DIR", str(tmp_path.parent / "from-env"))
    assert devicelint("check", "pkg", cwd=tmp_path).returncode == 1
    assert list((tmp_path.parent / "from-env" / SUBDIR).glob("*.cache"))
    monkeypatch.delenv("DEVICELINT_CACHE_DIR")
    (configured / "v4" / "listings").mkdir(parents=True)  # an earlier format's folder goes too
    (configured / "v999").mkdir()  # a later devicelint's stays, and so does the folder
    cleaned = devicelint("clean", cwd=tmp_path)
    assert cleaned.returncode == 0 and "removed" in cleaned.stderr
    assert sorted(p.name for p in configured.iterdir()) == ["CACHEDIR.TAG", "v999"]
    (configured / "v999").rmdir()
    (configured / "v3").mkdir()
    assert devicelint("clean", cwd=tmp_path).returncode == 0
    assert not configured.exists()
    assert devicelint("clean", cwd=tmp_path).stderr.startswith("no cache")


@pytest.mark.parametrize("value", ['cache-dir = ""', "cache-dir = 3"])
def test_a_bad_cache_dir_is_a_configuration_error(tmp_path: Path, value: str) -> None:
    write_tree(tmp_path, {"a.py": "x = 1\n", "pyproject.toml": f"[tool.devicelint]\n{value}\n"})
    result = devicelint("check", "a.py", cwd=tmp_path)
    assert result.returncode == 2 and "cache-dir" in result.stderr


def test_settings_and_code_selection(tmp_path: Path, cache: Path) -> None:
    """Entries hold every finding: --select applies afterwards, and other settings
    (extra device types) use another index."""
    write_tree(tmp_path, {"a.py": 'import torch\ntorch.zeros(1, device="foo")\ntorch.zeros(1).to(device="auto")\n'})
    everything = same_as_cold("a.py", cwd=tmp_path)
    assert everything.count("DEV002") == 2
    assert same_as_cold("--ignore", "DEV002", "a.py", cwd=tmp_path) == "All checks passed!\n"
    with_foo = same_as_cold("--extra-device-types", "foo", "a.py", cwd=tmp_path)
    assert with_foo.count("DEV002") == 1
    assert len(index_files(cache)) == 2


def test_an_unwritable_cache_folder_is_only_slower(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("DEVICELINT_CACHE_DIR", str(blocker / "cache"))
    write_tree(tmp_path, PROJECT)
    assert "DEV002" in same_as_cold("pkg", cwd=tmp_path)


def test_a_warm_run_over_an_unchanged_tree_writes_nothing(tmp_path: Path, cache: Path) -> None:
    write_tree(tmp_path, PROJECT)
    expected = same_as_cold("pkg", cwd=tmp_path)
    (index,) = index_files(cache)
    before = (index.stat().st_mtime_ns, index.read_bytes())
    assert check("pkg", cwd=tmp_path)[1] == expected
    assert (index.stat().st_mtime_ns, index.read_bytes()) == before
    write_tree(tmp_path, {"pkg/plain.py": 'import torch\nx = torch.zeros(2).to("gpu")\n'}, age=None)
    assert "DEV002" in same_as_cold("pkg/plain.py", cwd=tmp_path)
    assert index.read_bytes() != before[1]


@pytest.mark.parametrize(
    "layout",
    [
        ["a/b/c/x.py"],  # no package
        ["a/__init__.py", "a/b/__init__.py", "a/b/c/__init__.py", "a/b/c/x.py"],  # nested packages
        ["a/b/__init__.py", "a/b/c/__init__.py", "a/b/c/x.py", "a/b/d/y.py"],  # a package below a plain folder
        ["a/__init__.py", "a/my-pkg/__init__.py", "a/my-pkg/x.py"],  # a package name that is no identifier
        ["a/__init__.py", "a/b/x.py", "a/b/c/__init__.py", "a/b/c/y.py"],  # a gap in the chain
    ],
)
def test_the_import_name_of_an_entry_is_import_roots(tmp_path: Path, layout: list[str]) -> None:
    """The cache works out the import name of each folder once (an entry is a miss when an
    ``__init__.py`` above its file comes or goes); it must be project.import_root's."""
    from devicelint.cache import ResultCache
    from devicelint.project import import_root

    write_tree(tmp_path, dict.fromkeys(layout, ""))
    cache = ResultCache(str(tmp_path / "cache"), "key")
    for name in layout:
        folder = os.path.dirname(tmp_path / name)
        assert cache._import_name(str(tmp_path / name)) == import_root(os.path.join(folder, "_.py"))[:2]


@pytest.mark.parametrize(
    "added",
    ["proj/pyproject.toml", "proj/src/", "proj/examples/__init__.py", "proj/setup.cfg", None],
)
def test_a_roots_dependency_is_import_roots_with_the_runs_stats(tmp_path: Path, added: str | None) -> None:
    """Where a folder's absolute imports are looked for, checked with what the run stated
    (cache._Disk): it holds exactly while project.import_roots gives the same roots."""
    from devicelint.cache import ResultCache
    from devicelint.project import import_roots

    write_tree(tmp_path, {"proj/examples/run.py": "", "proj/setup.py": ""})
    own = str(tmp_path / "proj" / "examples")
    dependency = ("roots", own, *import_roots(own))
    assert ResultCache(str(tmp_path / "cache"), "key")._holds_now(dependency)
    if added is not None:
        target = tmp_path / added
        target.mkdir(parents=True) if added.endswith("/") else target.write_text("")
    holds = ResultCache(str(tmp_path / "cache"), "key")._holds_now(dependency)
    assert holds is (list(dependency[2:]) == import_roots(own))
    assert holds is (added in (None, "proj/pyproject.toml", "proj/setup.cfg"))  # a second marker changes nothing


@pytest.mark.parametrize("count", [0, 1, 4096, 4097, 9000])
def test_the_index_file_round_trips_one_entry_a_line(tmp_path: Path, count: int) -> None:
    """The index is written in batches, the folder all paths start in, then a path (below
    it) a line, then an entry a line (read back without parsing the entries); every path
    (quotes, backslashes, a newline, bytes that are not UTF-8) and every entry comes back,
    each line JSON text."""
    from devicelint.cache import _read_index, _write_index

    paths = [f'/t/{i}.py' if i % 4 else f'/t/"{i}"\\x\n\udcff.py' for i in range(count)]
    entries = {path: (i, json.dumps([i, 2, "d", ["/t", "_"], 3, [], [["DEV002", "a,b"]], i])) for i, path in enumerate(paths)}
    index = tmp_path / "k.cache"
    with open(index, "wb") as out:
        _write_index(out, "k", entries)
    assert _read_index(str(index), "k") == {path: text for path, (_, text) in entries.items()}
    assert _read_index(str(index), "another key") == {}
    lines = index.read_bytes().partition(b"\n")[2].split(b"\n")
    common = "/t/" if count else ""
    below = [path[len(common) :] for path in paths]
    assert [json.loads(line) for line in lines[:-1]] == ["k", count, common, *below, *(json.loads(text) for _, text in entries.values())]
    assert lines[-1] == b""


@pytest.mark.parametrize(
    ("paths", "common"),
    [
        (["/a/b/c.py"], "/a/b/"),
        (["/a/b/c.py", "/a/b/d.py"], "/a/b/"),
        (["/a/bc.py", "/a/bd.py"], "/a/"),  # the folder, not the common prefix of the names
        (["/a/b/c.py", "/a/x.py"], "/a/"),
        (["/a.py", "/b.py"], "/"),
        (["/x/\u00e9/a.py", "/x/\u00e9/b.py"], "/x/\u00e9/"),
    ],
)
def test_the_index_file_holds_the_folder_all_its_paths_start_in(tmp_path: Path, paths: list[str], common: str) -> None:
    from devicelint.cache import _read_index, _write_index

    index = tmp_path / "k.cache"
    with open(index, "wb") as out:
        _write_index(out, "k", {path: (0, "[]") for path in paths})
    assert _read_index(str(index), "k") == dict.fromkeys(paths, "[]")
    assert json.loads(index.read_bytes().split(b"\n")[3]) == common


# A warm run over unchanged files reads entries only: the engine, the pre-scan and the
# catalogue (imported with source.py) are not imported at all (issue 16: warm within grep).
_ENGINE_MODULES = ("devicelint.analysis", "devicelint.follow", "devicelint.source", "devicelint.rules", "devicelint.catalogue")
_IMPORTED_BY_A_RUN = """
import sys
from devicelint.cli import main
code = main(sys.argv[1:])
print(code, *sorted(m for m in {names!r} if m in sys.modules))
"""


def test_a_warm_run_does_not_import_the_engine(tmp_path: Path, cache: Path) -> None:
    tree = tmp_path / "tree"
    write_tree(tree, {"bug.py": "import torch\nx = torch.zeros(3).to('auto')\n", "clean.py": "print(1)\n"})
    script = _IMPORTED_BY_A_RUN.format(names=_ENGINE_MODULES)
    cold = subprocess.run([sys.executable, "-c", script, "check", str(tree)], capture_output=True, text=True, timeout=120)
    assert cold.stdout.splitlines()[-1].split() == ["1", *sorted(_ENGINE_MODULES)], cold.stderr
    warm = subprocess.run([sys.executable, "-c", script, "check", str(tree)], capture_output=True, text=True, timeout=120)
    assert "bug.py:2:" in warm.stdout
    assert warm.stdout.splitlines()[-1].split() == ["1"], warm.stderr


def _stored_entries(cache: Path) -> dict[str, list]:
    """The entries of the one index, parsed, by the last two parts of their path."""
    from devicelint.cache import _read_index

    (index,) = index_files(cache)
    return {"/".join(Path(path).parts[-2:]): json.loads(text) for path, text in _read_index(str(index), index.stem).items()}


def test_the_usual_entry_is_stored_compact(tmp_path: Path, cache: Path) -> None:
    """A file without findings that depends on nothing else, written well before it was read,
    is stored as [MTIME,SIZE,DEPTH,"DIGEST",LAST_USED] (its folder's package depth for its
    import name; trusted by size and time once and for all); any other entry in full."""
    write_tree(tmp_path, {"pkg/__init__.py": "", "pkg/clean.py": "x = 1\n", "pkg/bug.py": 'x.to("auto")\n', "top.py": "y = 1\n"})
    write_tree(tmp_path, {"pkg/new.py": "z = 1\n"}, age=None)
    assert "DEV002" in same_as_cold("pkg", "top.py", cwd=tmp_path)
    entries = _stored_entries(cache)
    for name, file, depth in (("pkg/clean.py", "pkg/clean.py", 1), ("pkg/__init__.py", "pkg/__init__.py", 1), (f"{tmp_path.name}/top.py", "top.py", 0)):
        stat = (tmp_path / file).stat()
        mtime, size, stored_depth, digest, used = entries[name]
        assert (mtime, size, stored_depth, len(digest)) == (stat.st_mtime_ns, stat.st_size, depth, 32)
        assert used >= time.time() - 3600
    assert len(entries["pkg/bug.py"]) == 8 and entries["pkg/bug.py"][6]  # findings: in full
    assert len(entries["pkg/new.py"]) == 8  # written moments before it was read: its content decides
    assert same_as_cold("pkg", "top.py", cwd=tmp_path)  # and read back


def test_a_compact_entry_holds_while_its_file_and_import_name_do(tmp_path: Path) -> None:
    """The import name by the package depth: an ``__init__.py`` above the file that comes or
    goes is a miss; a file touched (same bytes) holds by its digest, other bytes of the same
    size do not; an entry not used lately is marked as used, one used lately writes nothing."""
    from devicelint.cache import Record, ResultCache
    from devicelint.project import content_digest

    write_tree(tmp_path / "tree", {"a/b/__init__.py": "", "a/b/x.py": "x = 1\n"})
    path = str(tmp_path / "tree/a/b/x.py")

    def lookup() -> ResultCache:
        cache = ResultCache(str(tmp_path / "cache"), "key")
        cache.found = cache.lookup(path)  # type: ignore[attr-defined]
        return cache

    writer = ResultCache(str(tmp_path / "cache"), "key")
    stat = os.stat(path)
    writer.store(Record(path, stat.st_mtime_ns, stat.st_size, content_digest(b"x = 1\n"), time.time_ns(), (), ()))
    writer.save()
    assert len(lookup().entries[path].split(",")) == 5
    assert (lookup().found, lookup().updated) == ((), {})
    write_tree(tmp_path / "tree", {"a/__init__.py": ""})  # a.b.x, no longer b.x
    assert lookup().found is None
    os.unlink(tmp_path / "tree/a/__init__.py")
    assert lookup().found == ()
    os.unlink(tmp_path / "tree/a/b/__init__.py")  # x, at the root a/b
    assert lookup().found is None
    write_tree(tmp_path / "tree", {"a/b/__init__.py": ""})
    os.utime(path, (OLD + 60, OLD + 60))  # touched
    assert lookup().found == ()
    write_tree(tmp_path / "tree", {"a/b/x.py": "x = 2\n"}, age=OLD + 60)  # other bytes, same size and time
    assert lookup().found is None
    write_tree(tmp_path / "tree", {"a/b/x.py": "x = 1\n"})
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as stored: checked on its text
    later = ResultCache(str(tmp_path / "cache"), "key")
    later._today += 2 * 24 * 3600  # a run two days later
    assert later.lookup(path) == ()
    assert json.loads(later.updated[path][1])[4] == later._today


def test_a_listing_shape_round_trips_any_names(tmp_path: Path) -> None:
    """A listing's shape (its folders' and files' names NUL-separated, their numbers as 64-bit
    integers) gives back every file of the walk, whatever its name; a file added is a walk."""
    from devicelint.cache import _Disk
    from devicelint.project import listing_digest, py_files

    tree = tmp_path / "tree"
    names = ["a.py", "b c.py", "d\ne.py", "é.py", "sub/g.py", "sub/deeper/h.py", "empty/x.txt"]
    if sys.platform == "linux":
        names.append("f\udcff.py")  # a name that is not UTF-8 (surrogateescape)
    write_tree(tree, dict.fromkeys(names, "x = 1\n"))
    age_folders(tree)
    folders: list[tuple[str, int, int, int, int]] = []
    files = py_files(str(tree), folders)
    assert len(files) == len(names) - 1
    disk = _Disk(str(tmp_path / "cache"))
    digest = listing_digest(files, disk.signature)
    disk._keep_shape(str(tree), digest, folders, files)
    (shape,) = (tmp_path / "cache" / "listings").iterdir()
    expected = [(path, os.stat(path).st_mtime_ns, os.stat(path).st_size) for path in files]
    assert list(_Disk(str(tmp_path / "cache"))._unchanged_listing(str(tree), digest)) == expected
    assert _Disk(str(tmp_path / "cache")).listing_holds(str(tree), digest)
    assert _Disk(str(tmp_path / "cache"))._unchanged_listing(str(tree), "another digest") is None
    write_tree(tree, {"sub/deeper/new.py": ""})
    assert _Disk(str(tmp_path / "cache"))._unchanged_listing(str(tree), digest) is None
    assert not _Disk(str(tmp_path / "cache")).listing_holds(str(tree), digest)
    assert shape.exists()


@pytest.mark.parametrize(
    "names",
    [
        ["a.py", "p/q.py"],
        ["./a.py", "p/q.py"],
        ["p//q.py", "a.py"],
        ["../x.py"],
        ["/abs/y.py", "a.py"],
        ["d/./e.py"],
        ["d/.", "a.py"],
        ["f/"],
        ["."],
        ["g\nh.py", "a.py"],
        ["g\n/h.py"],
        [".hidden.py", "a/.b.py"],
        ["a.py", ""],
        ["a.", "b/c."],
    ],
)
def test_the_names_given_are_made_absolute_as_abspath(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, names: list[str]) -> None:
    """The usual names (relative, already normal) are told apart from the others in one search
    of them all: each comes out as os.path.abspath, and discovery's stats go with it."""
    from devicelint.cache import ResultCache

    monkeypatch.chdir(tmp_path)
    cache = ResultCache(str(tmp_path / "cache"), "key")
    stats = {names[0]: os.stat(tmp_path)}
    assert cache._absolutes(names, stats) == [os.path.abspath(name) for name in names]
    assert cache._disk.known == {os.path.abspath(names[0]): stats[names[0]]}
