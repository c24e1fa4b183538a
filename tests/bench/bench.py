#!/usr/bin/env python
"""devicelint against its peers, on the Python sources of the installed torch and transformers.

One command (from the repository root, after ``pip install -e '.[test]'``)::

    python tests/bench/bench.py            # the full benchmark (5 runs per command)
    python tests/bench/bench.py --quick    # a smoke run: 1 run, small samples

See tests/bench/README.md for what is measured and how. Peers that need their own
environment (flake8 without devicelint, ruff, TorchFix) are installed from PyPI into
virtual environments under ``.bench-cache/`` (``--cache-dir``) on the first run.

POSIX only (it times processes with ``os.wait4`` and uses ``grep``).
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

try:
    import psutil  # a dependency of accelerate, so part of '.[test]'
except ImportError:  # pragma: no cover - the tree-sum column then says n/a
    psutil = None

REPO = Path(__file__).resolve().parents[2]
CORPUS_PACKAGES = ("transformers", "torch")
RUFF_VERSION = "0.17.6"
TORCHFIX_VERSION = "0.7.0"
# The invalid literals the grep floor looks for: devicelint's tracked mistakes, in either quote.
GREP_PATTERN = (
    r"""["'](auto|balanced_low_0|balanced|sequential|gpu|GPU|Gpu|CUDA|Cuda|CPU|Cpu|MPS|Mps|XPU|Xpu)"""
    r"""(:[0-9]+)?["']"""
)
DEVICELINT_REPRO = 'import torch\nx = torch.zeros(2)\nx.to("auto")\n'  # one DEV002

# The targets of issue 8.
TARGET_MEMORY_MB = 150
TARGET_GREP_FACTOR = 3.0
TARGET_TORCHFIX_FACTOR = 50.0
TARGET_FLAKE8_OVERHEAD = 0.03
TARGET_FIX_FACTOR = 1.5
TARGET_LINEAR_SLACK = 1.25
# The targets of issue 16.
TARGET_WARM_GREP_FACTOR = 1.0
TARGET_DENSE_RUFF_FACTOR = 5.0
TARGET_ONE_FILE_S = 0.1
TENFOLD_COPIES = 10  # the memory target's corpus: this many copies of the bench corpus


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the corpus ---------------------------------------------------------------------------


@dataclass
class Corpus:
    root: Path  # the directory all paths are relative to (site-packages)
    files: list[str]  # sorted, relative to root
    package_dirs: list[Path]

    def subset(self, step: int) -> list[str]:
        """Every ``step``-th file of the sorted list: a fixed sample spread over both packages."""
        return self.files[::step]

    def measure(self, files: list[str]) -> tuple[int, int]:
        lines = size = 0
        for name in files:
            data = (self.root / name).read_bytes()
            size += len(data)
            lines += data.count(b"\n")
        return lines, size


def find_corpus() -> Corpus:
    dirs = []
    for name in CORPUS_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            sys.exit(f"bench: the corpus package {name!r} is not installed (pip install -e '.[test]')")
        dirs.extend(Path(p).resolve() for p in spec.submodule_search_locations)
    root = Path(os.path.commonpath(dirs))
    files = []
    for directory in dirs:
        for dirpath, dirnames, filenames in os.walk(directory):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            files.extend(
                os.path.relpath(os.path.join(dirpath, f), root) for f in filenames if f.endswith(".py")
            )
    return Corpus(root, sorted(files), dirs)


# The dense corpora (issue 16): real files, each given a candidate, so that every file is
# parsed and analysed. The function seed is the one tests/test_robustness.py appends (a DEV001
# inside a function); the module seed is the same conditional at module level.
DENSE_FILES = 2000
DENSE_SEEDS = {
    "function": (
        "\n\ndef _devicelint_seeded_probe(batch, device):\n"
        '    device = "auto" if device == "cuda" else device\n'
        "    return batch.to(device)\n"
    ),
    "module": (
        "\n\n_devicelint_seed_device = \"auto\" if _devicelint_seed_arg == \"cuda\" else _devicelint_seed_arg\n"
        "_devicelint_seed_batch.to(_devicelint_seed_device)\n"
    ),
}


def build_dense(corpus: Corpus, kind: str, cache: Path, count: int = DENSE_FILES) -> tuple[Path, list[str]]:
    """``count`` files of the corpus (spread over it), each with the ``kind`` seed appended,
    under ``cache/dense-KIND/`` with their relative paths (so their own imports resolve among
    them as far as the sample goes). Rebuilt when missing; returns (root, files)."""
    step = max(1, len(corpus.files) // count)
    chosen = [name for name in corpus.files[::step] if (corpus.root / name).stat().st_size <= 1_000_000][:count]
    root = cache / f"dense-{kind}"
    seed = DENSE_SEEDS[kind].encode("ascii")
    for name in chosen:
        data = (corpus.root / name).read_bytes()
        newline = b"\r\n" if b"\r\n" in data[:4096] else b"\n"
        if data and not data.endswith((b"\n", b"\r")):
            data += newline
        target = root / name
        content = data + seed.replace(b"\n", newline)
        if not target.is_file() or target.read_bytes() != content:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    return root, chosen


def build_tenfold(corpus: Corpus, cache: Path, copies: int = TENFOLD_COPIES) -> list[Path]:
    """``copies`` copies of the corpus under ``cache/tenfold/K/`` (relative paths kept), for
    the memory target; rebuilt when the corpus changes. Real copies (about 1 GB for 10),
    not hard links: discovery checks each file once by inode, so ten links to one file
    would be checked once."""
    root = cache / "tenfold"
    folders = [root / str(k) for k in range(copies)]
    stamp = hashlib.sha256("\n".join([str(corpus.root), *corpus.files]).encode()).hexdigest()[:16] + f" {copies}\n"
    marker = root / ".complete"
    if marker.is_file() and marker.read_text() == stamp:
        return folders
    log(f"bench: copying the corpus {copies} times under {root} ...")
    shutil.rmtree(root, ignore_errors=True)
    made: set[Path] = set()
    for folder in folders:
        for name in corpus.files:
            target = folder / name
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            shutil.copyfile(corpus.root / name, target)
    marker.write_text(stamp)
    return folders


# --- environments -----------------------------------------------------------------------


@dataclass
class Env:
    name: str
    requirements: list[str]
    path: Path | None = None
    error: str | None = None  # why it could not be installed

    def bin(self, script: str) -> Path:
        assert self.path is not None
        return self.path / "bin" / script


def make_venv(cache: Path, name: str, requirements: list[str]) -> Env:
    """A virtual environment with exactly ``requirements``, reused while they do not change."""
    key = hashlib.sha256(json.dumps([sys.version, requirements]).encode()).hexdigest()[:10]
    path = cache / "venvs" / f"{name}-{key}"
    marker = path / ".bench-ok"
    env = Env(name, requirements, path)
    if marker.is_file():
        return env
    log(f"bench: creating {path} with {' '.join(requirements)} ...")
    shutil.rmtree(path, ignore_errors=True)
    base_python = getattr(sys, "_base_executable", sys.executable)
    steps = [
        [base_python, "-m", "venv", str(path)],
        [
            str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--retries", "1", "--timeout", "30", *requirements,
        ],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, env=clean_env(), check=False)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["(no output)"]
            env.error = f"`{' '.join(step[2:5])} ...` failed: {tail[0][:160]}"
            env.path = None
            return env
    marker.write_text("\n".join(requirements) + "\n")
    return env


def clean_env() -> dict[str, str]:
    """The environment for every measured command: no PYTHONPATH leaking one env into another,
    and bytecode caching on (some sandboxes set PYTHONDONTWRITEBYTECODE, which would make every
    Python tool recompile its modules on every run; a normal install caches them)."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return env


def installed_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def this_env_script(name: str) -> Path:
    return Path(sysconfig.get_path("scripts")) / name


# --- measuring a process ------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    cpu_seconds: float  # user + system time of the command and every descendant it waited for
    maxrss_mb: float  # the largest single process of the tree (kernel's ru_maxrss via wait4)
    returncode: int
    stdout_lines: int
    stderr_tail: str


# Runs the measured command and reports on it. A process's ru_maxrss includes the memory of
# the process it was forked from (the pages it inherited before exec), so the command is
# forked from this small interpreter (-I -S: a few MB), never from the benchmark itself.
LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - started
with open(report, "w") as handle:
    cpu = usage.ru_utime + usage.ru_stime
    handle.write(f"{elapsed!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {cpu!r}")
"""


def run_timed(
    argv: list[str], cwd: Path, sample_tree: bool = False, env: dict[str, str] | None = None
) -> tuple[Sample, float | None, float | None]:
    """Run once: wall time, the largest process's peak RSS, and (if asked) the tree's summed
    RSS and summed PSS (proportional set size: a page shared by n processes counts 1/n).

    The launcher's ``os.wait4`` gives the command's rusage, whose ru_maxrss covers the command
    and every descendant it waited for: exact and free, but the largest *single* process, not
    the sum of a pool's concurrent workers. The sum is sampled with psutil only in the separate
    memory pass (``sample_tree``), so that polling never perturbs the timed runs.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report")
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, report, *argv]
        proc = subprocess.Popen(
            launcher, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env={**clean_env(), **(env or {})},
            start_new_session=True,  # its own process group: an interrupted benchmark ends all of it
        )
        sampler = _TreeSampler(proc.pid) if sample_tree and psutil is not None else None
        if sampler:
            sampler.start()
        try:
            launcher_code = proc.wait()
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        tree_peak = tree_pss = None
        if sampler:
            sampler.stop.set()
            sampler.join()
            tree_peak = sampler.peak / 2**20
            tree_pss = sampler.peak_pss / 2**20 if sampler.peak_pss else None
        out.seek(0)
        lines = sum(1 for _ in out)
        err.seek(0)
        stderr_tail = err.read()[-600:].decode(errors="replace")
        try:
            elapsed, maxrss, code, cpu = Path(report).read_text().split()
        except (OSError, ValueError):
            return Sample(0.0, 0.0, 0.0, launcher_code or 255, lines, stderr_tail or "the launcher failed"), None, None
    rss_mb = int(maxrss) / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux
    return Sample(float(elapsed), float(cpu), rss_mb, int(code), lines, stderr_tail), tree_peak, tree_pss


class _TreeSampler(threading.Thread):
    """Polls the summed RSS of the launcher's descendants: the command and all its processes
    (an upper bound: pages a forked pool shares copy-on-write are counted once per process)."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak, self.peak_pss = pid, interval, 0, 0
        self.pss = sys.platform.startswith("linux")  # /proc/PID/smaps_rollup: Linux only
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.stop.is_set():
            total = total_pss = 0
            try:
                procs = root.children(recursive=True)
            except psutil.Error:
                break
            for proc in procs:
                try:
                    if self.pss:
                        info = proc.memory_full_info()
                        total_pss += info.pss
                    else:
                        info = proc.memory_info()
                    total += info.rss
                except psutil.AccessDenied:
                    self.pss = False
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self.peak_pss = max(self.peak_pss, total_pss) if self.pss else 0
            self.stop.wait(self.interval)


# --- the commands -------------------------------------------------------------------------


@dataclass
class Command:
    key: str
    label: str  # shown in the table
    argv: list[str] | None  # None: not runnable (see error)
    files: list[str]
    ok_codes: tuple[int, ...] = (0, 1)
    env: dict[str, str] = field(default_factory=dict)  # added to the environment
    error: str | None = None
    samples: list[Sample] = field(default_factory=list)
    tree_peak_mb: float | None = None
    tree_pss_mb: float | None = None  # the same run's summed PSS (shared pages counted once)
    failure: str | None = None
    memory_only: bool = False  # too slow for the timed rounds: one run, in the memory pass

    @property
    def ok(self) -> bool:
        return self.argv is not None and self.failure is None and bool(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def cpu_median(self) -> float:
        return statistics.median(s.cpu_seconds for s in self.samples)

    @property
    def maxrss(self) -> float:
        return max(s.maxrss_mb for s in self.samples)


def flake8_plugins(flake8: Path, cwd: Path) -> tuple[str | None, str]:
    """``flake8 --version``: (the parenthesised plugin list, the whole first line)."""
    result = subprocess.run([str(flake8), "--version"], cwd=cwd, capture_output=True, text=True, env=clean_env(), check=False)
    first = " ".join(result.stdout.split())  # flake8 wraps the line at the terminal width
    if result.returncode != 0 or "(" not in first:
        return None, first or result.stderr.strip()[-200:]
    return first[first.index("(") + 1 : first.rindex(")")], first


def without_devicelint(plugins: str) -> str:
    return ", ".join(p for p in plugins.split(", ") if not p.startswith("devicelint:"))


def verify_flake8_envs(with_dl: Path, without_dl: Path, cwd: Path) -> str | None:
    """None when the plugin is loaded (and reports) in one env and absent from the other,
    and the two envs have the same flake8 and plugin versions otherwise; else why not."""
    plugins_with, line_with = flake8_plugins(with_dl, cwd)
    plugins_without, line_without = flake8_plugins(without_dl, cwd)
    if plugins_with is None or plugins_without is None:
        return f"flake8 --version failed: {line_with!r} / {line_without!r}"
    if "devicelint:" not in plugins_with:
        return f"devicelint is not loaded by flake8 in this environment: {line_with}"
    if "devicelint:" in plugins_without:
        return f"devicelint is loaded in the clean environment: {line_without}"
    if line_with.split()[0] != line_without.split()[0] or without_devicelint(plugins_with) != plugins_without:
        return f"the two flake8 installations differ beyond devicelint: {line_with} / {line_without}"
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp, "probe.py")
        probe.write_text(DEVICELINT_REPRO)
        result = subprocess.run(
            [str(with_dl), "--isolated", "--select", "DEV", str(probe)], cwd=cwd, capture_output=True, text=True,
            env=clean_env(), check=False,
        )
        if "DEV002" not in result.stdout:
            return f"the devicelint plugin is listed but reported nothing on a known DEV002: {result.stdout!r}"
    return None


def build_commands(args: argparse.Namespace, corpus: Corpus) -> tuple[list[Command], dict]:
    cache = args.cache_dir
    full = corpus.files
    sample = corpus.subset(args.sample_step)
    quarters = [corpus.files[k::4] for k in range(4)]  # four disjoint, interleaved quarters
    quarter, half = quarters[0], corpus.subset(2)  # half = quarters 0 and 2
    info: dict = {"sample": sample, "quarter": quarter, "half": half}
    empty = cache / "empty.py"
    empty.write_text("")

    devicelint = this_env_script("devicelint")
    dl = [str(devicelint)] if devicelint.exists() else [sys.executable, "-I", "-m", "devicelint"]
    # Cold rows: --no-cache (the persistent cache neither read nor written); the warm row
    # has a cache of its own, filled by its untimed warm-up run.
    commands = [
        Command("check", "`devicelint check` (all cores)", [*dl, "check", "--no-cache", *full], full),
        Command("check-j1", "`devicelint check -j1`", [*dl, "check", "--no-cache", "-j1", *full], full),
        Command("fix", "`devicelint fix --diff` (all cores)", [*dl, "fix", "--no-cache", "--diff", *full], full),
        Command("fix-j1", "`devicelint fix --diff -j1`", [*dl, "fix", "--no-cache", "--diff", "-j1", *full], full),
        Command("check-j1-25", "`devicelint check -j1`, 25% (every 4th file)", [*dl, "check", "--no-cache", "-j1", *quarter], quarter),
        Command("check-j1-50", "`devicelint check -j1`, 50% (every 2nd file)", [*dl, "check", "--no-cache", "-j1", *half], half),
        *(
            Command(f"check-j1-q{k}", f"`devicelint check -j1`, quarter {k} (files {k}, {k + 4}, {k + 8}, ...)",
                    [*dl, "check", "--no-cache", "-j1", *quarters[k]], quarters[k])
            for k in (1, 2, 3)
        ),
        Command("check-j1-empty", "`devicelint check -j1` on one empty file (start-up)", [*dl, "check", "--no-cache", "-j1", str(empty)], [str(empty)]),
        Command(
            "check-warm", "`devicelint check` (all cores), warm cache, nothing changed", [*dl, "check", *full], full,
            env={"DEVICELINT_CACHE_DIR": str(cache / "warm-cache")},
        ),
        # grep's speed depends on the locale: the C locale (the pattern is ASCII) is its fastest.
        Command("grep", "`grep -rlE` invalid literals (floor)", ["grep", "-rlE", GREP_PATTERN, "--", *full], full, env={"LC_ALL": "C"}),
    ]
    # The dense corpora (issue 16): every file a candidate; absolute paths (another root).
    for kind in DENSE_SEEDS:
        root, names = build_dense(corpus, kind, cache, min(DENSE_FILES, len(full)))
        paths = [str(root / name) for name in names]
        info[f"dense-{kind}"] = (root, names)
        commands.append(Command(f"dense-{kind}", f"`devicelint check` (all cores), dense corpus ({kind}-level seed)", [*dl, "check", "--no-cache", *paths], paths))
        if kind == "function":
            commands.append(Command(f"dense-{kind}-fix", f"`devicelint fix --diff` (all cores), dense corpus ({kind}-level seed)", [*dl, "fix", "--diff", *paths], paths))
    # The memory target: one `check` over ten copies of the corpus, folders walked (as a user
    # would run it; the paths do not fit on a command line), every file checked (no excludes,
    # no .gitignore: the copies live in the ignored bench cache).
    folders = build_tenfold(corpus, cache)
    tenfold_files = [str(folder / name) for folder in folders for name in full]
    commands.append(Command(
        "tenfold", f"`devicelint check` (all cores), {len(folders)}x the corpus (copies, folders walked), once",
        [*dl, "check", "--no-cache", "--exclude", "", "--no-respect-gitignore", *map(str, folders)], tenfold_files,
        memory_only=True,
    ))
    one = str(Path(info["dense-function"][0]) / info["dense-function"][1][len(info["dense-function"][1]) // 2])
    info["one-file"] = one
    commands.append(Command("one-file", "`devicelint check --files` on one seeded file (pre-commit), cold", [*dl, "check", "--no-cache", "--files", one], [one]))
    if args.compare_src:
        # Another devicelint source tree (e.g. the engine before v2: git worktree add DIR 8238725),
        # run as `python -m devicelint` with PYTHONPATH=DIR/src, cold: --no-cache where that
        # tree has a cache (a tree from before it has no such flag).
        other_cli = Path(args.compare_src) / "src" / "devicelint" / "cli.py"
        no_cache = ["--no-cache"] if other_cli.is_file() and "--no-cache" in other_cli.read_text(encoding="utf-8") else []
        commands.append(Command(
            "check-j1-other", f"`devicelint check -j1` of {args.compare_src} (PYTHONPATH)",
            [sys.executable, "-m", "devicelint", "check", *no_cache, "-j1", *full], full, env={"PYTHONPATH": str(Path(args.compare_src) / "src")},
        ))

    ruff = make_venv(cache, "ruff", [f"ruff=={args.ruff_version}"])
    ruff_cmd = Command(
        "ruff", f"`ruff check --no-cache --isolated --select E9` (ruff {args.ruff_version})",
        [str(ruff.bin("ruff")), "check", "--no-cache", "--isolated", "--select", "E9", *full] if ruff.path else None,
        full, error=ruff.error,
    )
    commands.append(ruff_cmd)
    for kind in DENSE_SEEDS:
        root, names = info[f"dense-{kind}"]
        paths = [str(root / name) for name in names]
        commands.append(Command(
            f"dense-{kind}-ruff", f"`ruff check --no-cache --isolated --select E9`, dense corpus ({kind}-level seed)",
            [str(ruff.bin("ruff")), "check", "--no-cache", "--isolated", "--select", "E9", *paths] if ruff.path else None,
            paths, error=ruff.error,
        ))

    # flake8: the same flake8 and plugin versions, with and without devicelint.
    flake8_label = f"`flake8 --select F -j1` {{}} devicelint, sample ({len(sample)} files)"
    flake8_version = installed_version("flake8")
    flake8_here = this_env_script("flake8")
    without_argv = with_argv = None
    if flake8_version is None or not flake8_here.exists():
        error = "flake8 is not installed in this environment (pip install -e '.[test]')"
    else:
        pins = [f"flake8=={flake8_version}"] + [
            f"{dist}=={installed_version(dist)}" for dist in ("pyflakes", "pycodestyle", "mccabe") if installed_version(dist)
        ]
        clean = make_venv(cache, "flake8", pins)
        error = clean.error or verify_flake8_envs(flake8_here, clean.bin("flake8"), corpus.root)
        info["flake8_versions"] = [flake8_plugins(flake8_here, corpus.root)[1]]
        if clean.path:
            info["flake8_versions"].append(flake8_plugins(clean.bin("flake8"), corpus.root)[1])
        if error is None:
            f8 = ["--isolated", "--select", "F", "-j1", *sample]
            without_argv, with_argv = [str(clean.bin("flake8")), *f8], [str(flake8_here), *f8]
    commands += [
        Command("flake8-without", flake8_label.format("without"), without_argv, sample, error=error),
        Command("flake8-with", flake8_label.format("with"), with_argv, sample, error=error),
    ]

    torchfix = make_venv(cache, "torchfix", [f"torchfix=={TORCHFIX_VERSION}"])
    tf_files = full if args.torchfix_full else corpus.subset(args.torchfix_step)
    info["torchfix_sample"] = tf_files
    where = "whole corpus" if args.torchfix_full else f"sample ({len(tf_files)} files)"
    if not args.torchfix_full:
        commands.append(
            Command("torchfix-check", f"`devicelint check` (all cores), TorchFix's {where}", [*dl, "check", "--no-cache", *tf_files], tf_files)
        )
    commands.append(
        Command(
            "torchfix", f"`torchfix --select ALL` (TorchFix {TORCHFIX_VERSION}, all cores), {where}",
            [str(torchfix.bin("torchfix")), "--select", "ALL", *tf_files] if torchfix.path else None,
            tf_files, error=torchfix.error,
        )
    )
    if not args.torchfix_full:  # a second, smaller sample: TorchFix's fixed cost, for the extrapolation
        small = corpus.subset(args.torchfix_step * 2)
        commands.append(
            Command(
                "torchfix-small", f"`torchfix --select ALL` (TorchFix {TORCHFIX_VERSION}, all cores), small sample ({len(small)} files)",
                [str(torchfix.bin("torchfix")), "--select", "ALL", *small] if torchfix.path else None,
                small, error=torchfix.error,
            )
        )
    info["envs"] = {"ruff": ruff, "torchfix": torchfix}
    return commands, info


# --- running ------------------------------------------------------------------------------


def run_all(commands: list[Command], runs: int, cwd: Path) -> None:
    runnable = [c for c in commands if c.argv is not None]
    log("bench: warming the page cache ...")
    for name in {f for c in runnable if not c.memory_only for f in c.files}:
        (cwd / name).read_bytes()
    for c in runnable:  # one untimed run of the fast commands (imports, .pyc files)
        if c.key not in ("torchfix", "torchfix-small", "flake8-with", "flake8-without") and not c.memory_only:
            run_timed(c.argv, cwd, env=c.env)
    for round_ in range(runs):  # round-robin: A B C A B C ...
        for c in runnable:
            if c.memory_only:
                continue
            if c.failure:
                continue
            sample, _, _ = run_timed(c.argv, cwd, env=c.env)
            c.failure = failure_of(sample, c.ok_codes)
            c.samples.append(sample)
            log(f"bench: round {round_ + 1}/{runs} {c.key:15} {sample.seconds:8.2f} s  {sample.maxrss_mb:6.0f} MB")
    log("bench: memory pass (summed RSS of each process tree, sampled; untimed) ...")
    for c in runnable:
        if not c.failure:
            sample, c.tree_peak_mb, c.tree_pss_mb = run_timed(c.argv, cwd, sample_tree=True, env=c.env)
            if c.memory_only:  # its only run: its time and exit status come from here
                c.failure = failure_of(sample, c.ok_codes)
                c.samples.append(sample)
                log(f"bench: memory  {c.key:15} {sample.seconds:8.2f} s  tree {c.tree_peak_mb or 0:6.0f} MB")


def failure_of(sample: Sample, ok_codes) -> str | None:
    """Why a timed run does not count: an unexpected exit status, or a traceback."""
    if sample.returncode not in ok_codes:
        return f"exit {sample.returncode}: {sample.stderr_tail.strip().splitlines()[-1:] or ''}"
    if "Traceback (most recent call last)" in sample.stderr_tail:
        return f"traceback on stderr: {sample.stderr_tail.strip().splitlines()[-1]}"
    return None


def measure_plugin_cost(corpus: Corpus, files: list[str], runs: int) -> dict | None:
    """The flake8 plugin's own time on the flake8 sample, in process: what flake8 hands it
    (the file's lines and the tree it parsed) -> its findings; the median of ``runs``. Plus
    the time to import the plugin in a fresh interpreter (flake8 pays it once per run)."""
    try:
        from devicelint.flake8_plugin import DeviceLintChecker
    except ImportError:
        return None
    inputs = []
    for name in files:
        try:
            with tokenize.open(corpus.root / name) as handle:
                lines = handle.readlines()
            inputs.append((ast.parse("".join(lines)), lines))
        except (SyntaxError, UnicodeError, ValueError, OSError):
            continue
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        for tree, lines in inputs:
            list(DeviceLintChecker(tree, lines).run())
        timings.append(time.perf_counter() - started)
    probe = "import time; t = time.perf_counter(); import devicelint.flake8_plugin; print(time.perf_counter() - t)"
    imports = []
    for _ in range(max(runs, 3)):
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=clean_env(), check=False)
        if result.returncode == 0:
            imports.append(float(result.stdout))
    return {"seconds": statistics.median(timings), "files": len(inputs), "import": statistics.median(imports) if imports else 0.0}


# --- the report ---------------------------------------------------------------------------


def torchfix_estimate(corpus: Corpus, big: Command, small: Command | None, lines_all: int) -> tuple[float, str]:
    """TorchFix's whole-corpus time: the line through its two samples (fixed cost + cost per
    line), or, failing that, the bigger sample scaled by lines."""
    big_lines = corpus.measure(big.files)[0]
    if small is not None and small.ok:
        small_lines = corpus.measure(small.files)[0]
        per_line = (big.median - small.median) / (big_lines - small_lines)
        fixed = big.median - per_line * big_lines
        if per_line > 0 and fixed >= 0:
            return fixed + per_line * lines_all, f"{fixed:.1f} s fixed + {per_line * 1e3:.2f} s per 1k lines, from both samples"
    return big.median * lines_all / big_lines, "by lines"


def python_floor() -> float:
    """The wall time of ``python -I -S -c pass``: what any Python tool pays before it starts."""
    times = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-S", "-c", "pass"], check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 100 else f"{seconds:.0f}"


def _pss(c: Command) -> str:
    """The tree's summed PSS, when sampled: what it really occupies (the RSS sum counts the pages a
    forked pool shares with its parent once per process)."""
    return f"PSS sum {c.tree_pss_mb:.0f} MB; " if c.tree_pss_mb else ""


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return f"{model}, {os.cpu_count()} logical cores ({usable} usable), {platform.system()} {platform.release()}"


def tool_version(argv: list[str]) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, env=clean_env(), timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unavailable ({error})"
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr).strip() else "?"


def report(args: argparse.Namespace, corpus: Corpus, commands: list[Command], info: dict, command_line: str) -> str:
    by = {c.key: c for c in commands}
    base = by["check"]
    lines_all, bytes_all = corpus.measure(corpus.files)
    sample_lines, _ = corpus.measure(info["sample"])
    out = []
    out.append(f"## devicelint benchmark — {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    out.append("")
    out.append(f"- command: `{command_line}` (runs per command: {args.runs}, round-robin, medians quoted)")
    out.append(f"- machine: {machine()}")
    out.append(f"- Python: {platform.python_implementation()} {platform.python_version()} ({sys.executable})")
    envs = info["envs"]
    versions = [
        f"devicelint {installed_version('devicelint')}",
        f"ruff {args.ruff_version}" if envs["ruff"].path else "ruff: not installed",
        tool_version([str(envs["torchfix"].bin("torchfix")), "--version"]).join(("TorchFix ", ""))
        + (f" (libcst {_venv_dist_version(envs['torchfix'], 'libcst')})" if envs["torchfix"].path else "")
        if envs["torchfix"].path else "TorchFix: not installed",
        tool_version(["grep", "--version"]),
    ]
    out.append(f"- tools: {'; '.join(versions)}")
    for line in info.get("flake8_versions", []):
        out.append(f"- flake8: `{line}`")
    corpus_versions = ", ".join(f"{p} {installed_version(p)}" for p in CORPUS_PACKAGES)
    full_note = "" if args.corpus_step == 1 else f" — every {args.corpus_step}th file only (--quick)"
    out.append(
        f"- corpus: the `.py` files of {corpus_versions} under `{corpus.root}`: {len(corpus.files)} files, "
        f"{lines_all:,} lines, {bytes_all / 2**20:.0f} MiB{full_note}"
    )
    out.append(
        f"- flake8 sample: every {args.sample_step}th file of the sorted corpus: "
        f"{len(info['sample'])} files, {sample_lines:,} lines"
    )
    if not args.torchfix_full:
        tf_lines, _ = corpus.measure(info["torchfix_sample"])
        out.append(
            f"- TorchFix sample: every {args.torchfix_step}th file: {len(info['torchfix_sample'])} files, "
            f"{tf_lines:,} lines, and half of it (TorchFix is too slow for 5 runs over the whole corpus; its "
            "whole-corpus time is extrapolated from the two samples, and the 50x target compares it with "
            "`devicelint check` on the same files)"
        )
    out.append("")
    out.append(
        "| command | files | median wall (s) | min–max (s) | ratio to `check` (all cores) | median CPU, user+sys (s) "
        "| peak RSS, largest process (MB) | peak RSS, tree sum (MB) | stdout lines |"
    )
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for c in commands:
        if not c.ok:
            why = c.error or c.failure or "not run"
            out.append(f"| {c.label} | {len(c.files)} | **not measured**: {why} | | | | | | |")
            continue
        times = [s.seconds for s in c.samples]
        ratio = f"{c.median / base.median:.2f}x" if base.ok else "n/a"
        tree = "n/a" if c.tree_peak_mb is None else f"{c.tree_peak_mb:.0f}" if c.tree_peak_mb else "(too short)"
        out.append(
            f"| {c.label} | {len(c.files)} | {fmt_s(c.median)} | {fmt_s(min(times))}–{fmt_s(max(times))} | {ratio} "
            f"| {fmt_s(c.cpu_median)} | {c.maxrss:.0f} | {tree} | {c.samples[-1].stdout_lines} |"
        )
    out.append("")

    # Targets.
    targets: list[tuple[str, str, bool | None]] = []

    def both(*keys: str) -> bool:
        return all(by[k].ok for k in keys)

    def missing(*keys: str) -> str:
        """Why a target could not be judged: the commands not measured, and why."""
        return "; ".join(f"{by[k].label}: {by[k].error or by[k].failure or 'not run'}" for k in keys if not by[k].ok)

    def ratio_row(name: str, key: str, other: str, limit: float, unit: str) -> None:
        """A ratio target, judged on the median of the paired runs (the same round of the
        round-robin); the min–max of the pairs says how noisy it is."""
        if not both(key, other):
            targets.append((name, missing(key, other), None))
            return
        ratios = [a.seconds / b.seconds for a, b in zip(by[key].samples, by[other].samples)]
        r = statistics.median(ratios)
        text = (
            f"{r:.2f}x {unit} ({fmt_s(by[key].median)} vs {fmt_s(by[other].median)} s; "
            f"pairs {min(ratios):.2f}–{max(ratios):.2f}x)"
        )
        targets.append((name, text, r <= limit))

    ratio_row("bench corpus, cold: `check` no slower than ruff's minimal check (E9)", "check", "ruff", 1.0, "ruff")
    ratio_row("bench corpus, cold: `check` within 3x of the grep floor", "check", "grep", TARGET_GREP_FACTOR, "grep")
    ratio_row("bench corpus, warm cache, nothing changed: within 1x grep", "check-warm", "grep", TARGET_WARM_GREP_FACTOR, "grep")
    for kind in DENSE_SEEDS:
        ratio_row(f"dense corpus ({kind}-level seed), cold: within 5x ruff E9", f"dense-{kind}", f"dense-{kind}-ruff", TARGET_DENSE_RUFF_FACTOR, "ruff")
    ratio_row("`fix --diff` within 1.5x `check`, dense corpus (function-level seed)", "dense-function-fix", "dense-function", TARGET_FIX_FACTOR, "`check`")
    name = "one file (pre-commit), wall: at most 0.1 s"
    if by["one-file"].ok:
        c = by["one-file"]
        times = [x.seconds for x in c.samples]
        targets.append((name, (
            f"{fmt_s(c.median)} s (runs {fmt_s(min(times))}–{fmt_s(max(times))} s; CPU {c.cpu_median:.3f} s, "
            f"less sensitive to a shared machine; `python -c pass` takes {python_floor():.3f} s here)"
        ), c.median <= TARGET_ONE_FILE_S))
    else:
        targets.append((name, missing("one-file"), None))
    name = f"peak memory, process tree, {TENFOLD_COPIES}x site-packages: at most {TARGET_MEMORY_MB} MB"
    c = by["tenfold"]
    if c.ok and c.tree_peak_mb:
        targets.append((name, (
            f"{c.tree_peak_mb:.0f} MB summed over the process tree ({_pss(c)}{c.maxrss:.0f} MB largest process; {len(c.files)} files, "
            f"{fmt_s(c.median)} s; one run, sampled every 5 ms: no pairs)"
        ), c.tree_peak_mb <= TARGET_MEMORY_MB))
    else:
        targets.append((name, missing("tenfold") if not c.ok else "tree sum n/a (no psutil)", None))
    if "check-j1-other" in by:
        ratio_row(f"issue 11: `check -j1` within 1.2x of {args.compare_src}", "check-j1", "check-j1-other", 1.2, "the other tree")
    if both("check" if args.torchfix_full else "torchfix-check", "torchfix"):
        tf = by["torchfix"]
        dl_same = by["check"] if args.torchfix_full else by["torchfix-check"]
        r = tf.median / dl_same.median
        pairs = [a.seconds / b.seconds for a, b in zip(tf.samples, dl_same.samples)]
        text = f"TorchFix takes {r:.0f}x as long on the same {len(tf.files)} files (pairs {min(pairs):.0f}–{max(pairs):.0f}x)"
        if not args.torchfix_full:
            est, how = torchfix_estimate(corpus, tf, by.get("torchfix-small"), lines_all)
            text += f"; whole corpus extrapolated ({how}): ~{est:.0f} s" + (f", {est / base.median:.0f}x `check`" if base.ok else "")
        targets.append(("at least 50x faster than TorchFix", text, r >= TARGET_TORCHFIX_FACTOR))
    else:
        keys = ("check",) if args.torchfix_full else ("torchfix-check",)
        targets.append(("at least 50x faster than TorchFix", missing(*keys, "torchfix"), None))
    name = "the flake8 plugin adds under 3% to `flake8 --select F`"
    if both("flake8-with", "flake8-without"):
        w, wo = by["flake8-with"], by["flake8-without"]
        cpu_overhead = w.cpu_median / wo.cpu_median - 1
        wall_overhead = w.median / wo.median - 1
        pairs = [a.cpu_seconds / b.cpu_seconds - 1 for a, b in zip(w.samples, wo.samples)]
        text = (
            f"{cpu_overhead:+.1%} CPU time (medians {fmt_s(w.cpu_median)} vs {fmt_s(wo.cpu_median)} s; "
            f"pairs {min(pairs):+.1%} to {max(pairs):+.1%}); {wall_overhead:+.1%} wall time"
        )
        plugin = info.get("plugin_cost")
        if plugin:
            text += (
                f"; the plugin's own cost, timed in process: {plugin['seconds']:.3f} s for the {plugin['files']} "
                f"files plus {plugin['import']:.3f} s to import it, {(plugin['seconds'] + plugin['import']) / wo.cpu_median:.1%} "
                "of flake8's CPU time"
            )
        # Both runs are one process (-j1): CPU time is what the plugin adds, and far less
        # sensitive than wall time to other load on the machine.
        targets.append((name, text, cpu_overhead < TARGET_FLAKE8_OVERHEAD))
    else:
        targets.append((name, missing("flake8-without", "flake8-with"), None))
    for jobs, (fix_key, check_key) in (("all cores", ("fix", "check")), ("-j1", ("fix-j1", "check-j1"))):
        ratio_row(f"`fix --diff` within 1.5x of `check` ({jobs})", fix_key, check_key, TARGET_FIX_FACTOR, "`check`")
    for key in ("check", "fix", "check-j1"):
        c = by[key]
        if c.ok:
            tree = c.tree_peak_mb
            shown = f"{tree:.0f} MB summed over the process tree (one sampled run; {_pss(c)}{c.maxrss:.0f} MB largest process, max of the runs)" if tree else f"{c.maxrss:.0f} MB largest process (tree sum n/a: no psutil)"
            targets.append((f"peak memory under 150 MB: {c.label}", shown, (tree or c.maxrss) < TARGET_MEMORY_MB))
        else:
            targets.append((f"peak memory under 150 MB: {c.label}", missing(key), None))
    scaling = None
    linear_keys = ("check-j1-empty", "check-j1-25", "check-j1-q1", "check-j1-q2", "check-j1-q3", "check-j1-50", "check-j1")
    if both(*linear_keys):
        # Linear means additive: on disjoint sets A and B, t(A+B) = t(A) + t(B) - start-up.
        # The quarters are interleaved but not alike (a few big files that pass the pre-scan
        # carry most of the analysis), so t(25%) x 4 is no fair prediction; the sum of the four
        # quarters' own work is.
        startup = by["check-j1-empty"].median
        work = {k: by[k].median - startup for k in linear_keys[1:]}
        predicted_full = startup + work["check-j1-25"] + work["check-j1-q1"] + work["check-j1-q2"] + work["check-j1-q3"]
        predicted_half = startup + work["check-j1-25"] + work["check-j1-q2"]
        t_full, t_half = by["check-j1"].median, by["check-j1-50"].median
        linear = t_full <= predicted_full * TARGET_LINEAR_SLACK and t_half <= predicted_half * TARGET_LINEAR_SLACK
        scaling = (startup, predicted_half, predicted_full, linear)
        # The same prediction from each round's own runs: how far the noise moves it.
        rounds = []
        for samples in zip(*(by[k].samples for k in linear_keys)):
            t = dict(zip(linear_keys, (x.seconds for x in samples)))
            own = {k: t[k] - t["check-j1-empty"] for k in linear_keys[1:]}
            rounds.append(t["check-j1"] / (t["check-j1-empty"] + own["check-j1-25"] + own["check-j1-q1"] + own["check-j1-q2"] + own["check-j1-q3"]))
        targets.append((
            "time linear in corpus size (`check -j1`)",
            (
                f"t(100%) = {t_full:.2f} s vs {predicted_full:.2f} s, t(50%) = {t_half:.2f} s vs {predicted_half:.2f} s "
                f"predicted from its disjoint quarters ({t_full / predicted_full:.2f}x, {t_half / predicted_half:.2f}x; "
                f"limit {TARGET_LINEAR_SLACK}x; t(100%) per round {min(rounds):.2f}–{max(rounds):.2f}x)"
            ),
            linear,
        ))
    else:
        targets.append(("time linear in corpus size (`check -j1`)", missing(*linear_keys), None))
    out.append("| target | measured | verdict |")
    out.append("| --- | --- | --- |")
    for name, text, ok in targets:
        out.append(f"| {name} | {text} | {verdict(ok)} |")
    out.append("")
    if scaling:
        startup, predicted_half, predicted_full, linear = scaling
        base_q = by["check-j1-25"]
        q_lines = corpus.measure(base_q.files)[0]
        out.append("| `check -j1` on | files | lines | median (s) | time ratio to 25% | lines ratio to 25% | predicted from quarters (s) |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        rows = (
            ("25% (quarter 0: every 4th file)", "check-j1-25", None),
            ("50% (quarters 0 and 2: every 2nd file)", "check-j1-50", predicted_half),
            ("100%", "check-j1", predicted_full),
        )
        for share, key, predicted in rows:
            c = by[key]
            lines = corpus.measure(c.files)[0]
            shown = f"{predicted:.2f}" if predicted is not None else "–"
            out.append(
                f"| {share} | {len(c.files)} | {lines:,} | {c.median:.2f} | {c.median / base_q.median:.2f} "
                f"| {lines / q_lines:.2f} | {shown} |"
            )
        quarters = ", ".join(f"{by[k].median:.2f}" for k in ("check-j1-25", "check-j1-q1", "check-j1-q2", "check-j1-q3"))
        out.append("")
        out.append(
            f"Linearity: start-up (one empty file) takes {startup:.2f} s; the four disjoint quarters take {quarters} s. "
            "Time ratios below the lines ratios come from the start-up cost, and from the quarters' unequal "
            "share of the few large files that pass the pre-scan (they carry most of the analysis). "
            f"Verdict: {'linear: the whole costs what its parts cost' if linear else 'worse than linear: the whole costs more than its parts'}."
        )
        out.append("")
    out.append(
        "Peak memory: *largest process* is `ru_maxrss` from `os.wait4` (exact, kernel-accounted, every run); "
        "*tree sum* is the summed RSS of the process and all its descendants, polled every 5 ms with psutil "
        "in one extra untimed run (may miss a peak shorter than 5 ms; counts copy-on-write pages a forked "
        "pool shares once per process, so it is an upper bound). The memory target is judged on the tree sum."
    )
    return "\n".join(out) + "\n"


def _venv_dist_version(env: Env, dist: str) -> str:
    assert env.path is not None
    return tool_version([str(env.bin("python")), "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=None, help="timed runs per command (default 5; 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 run on every 20th file (samples: every 100th, 200th)")
    parser.add_argument("--sample-step", type=int, default=None, help="flake8 sample: every Nth file (default 10)")
    parser.add_argument("--torchfix-step", type=int, default=None, help="TorchFix sample: every Nth file (default 50)")
    parser.add_argument("--torchfix-full", action="store_true", help="run TorchFix on the whole corpus instead of the sample")
    parser.add_argument("--ruff-version", default=RUFF_VERSION, help=f"ruff version to install (default {RUFF_VERSION})")
    parser.add_argument("--cache-dir", type=Path, default=REPO / ".bench-cache", help="where the peer environments live (default: .bench-cache/)")
    parser.add_argument("--compare-src", type=Path, help="also time `check -j1` of another devicelint source tree (PYTHONPATH=DIR/src), e.g. the engine before v2")
    parser.add_argument("--only-targets", action="store_true", help="only the commands the issue-16 targets need (no flake8, TorchFix, linearity)")
    parser.add_argument("--output", type=Path, help="also write the markdown report here (always written to CACHE/last-report.md)")
    args = parser.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 5)
    args.corpus_step = 20 if args.quick else 1
    args.sample_step = args.sample_step or (5 if args.quick else 10)
    args.torchfix_step = args.torchfix_step or (10 if args.quick else 50)
    if min(args.runs, args.sample_step, args.torchfix_step) < 1:
        parser.error("--runs, --sample-step and --torchfix-step must be at least 1")
    if os.name != "posix":
        sys.exit("bench: POSIX only (os.wait4, grep)")
    args.cache_dir = args.cache_dir.resolve()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    command_line = " ".join(["python", shlex.quote(os.path.relpath(__file__)), *map(shlex.quote, sys.argv[1:] if argv is None else argv)])

    corpus = find_corpus()
    if args.corpus_step > 1:
        corpus.files = corpus.subset(args.corpus_step)
    log(f"bench: corpus {len(corpus.files)} files under {corpus.root}")
    commands, info = build_commands(args, corpus)
    if args.only_targets:
        wanted = {"check", "check-j1", "check-warm", "grep", "ruff", "one-file", "check-j1-other", "check-j1-empty", "tenfold"}
        for c in commands:
            if c.key not in wanted and not c.key.startswith("dense-"):
                c.argv, c.error = None, "left out (--only-targets)"
    run_all(commands, args.runs, corpus.root)
    info["plugin_cost"] = None if args.only_targets else measure_plugin_cost(corpus, info["sample"], args.runs)
    text = report(args, corpus, commands, info, command_line)
    print(text)
    (args.cache_dir / "last-report.md").write_text(text)
    if args.output:
        args.output.write_text(text)
    failed = [c for c in commands if c.failure]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
