"""The ``devicelint`` command: ``check``, ``fix`` and ``rule``.

Exit codes (as ruff): 0 nothing found, 1 findings (or, for ``fix --check`` and
``--diff``, something to fix), 2 usage, configuration or internal error, or a file
or folder that could not be read (reported on stderr and skipped; the run goes on
and its findings are still reported, but a check that could not see every file
does not pass). ``--exit-zero`` turns 1 into 0, never 2.

Configuration comes from ``[tool.devicelint]`` (config.py); command-line flags
override it: ``--select`` replaces the file's selection, ``--extend-select`` and
``--ignore`` add to it, ``--exclude`` replaces the exclude list, and so on.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property

from devicelint import __version__
from devicelint.config import (
    Config,
    ConfigError,
    FileRules,
    RuleSelection,
    check_device_types,
    check_sinks,
    discover_config,
    enabled_codes,
    load_file,
    parse_code,
    settings_of,
)
from devicelint.dataclass import dataclass, replace
from devicelint.discover import CHECKED_SUFFIXES, DEFAULT_EXCLUDES, Discovery, FileOptions, discover
from devicelint.findings import RULES
from devicelint.globs import PatternSet, absolute
from devicelint.report import FORMATS, STATISTICS_FORMATS, Reported, RunError, shown, unsafe_hint
from devicelint.runner import Progress, WorkerCrashed, run_all

TYPE_CHECKING = False  # typing.TYPE_CHECKING (type checkers take it as true) without importing typing: 2-4 ms of start-up
if TYPE_CHECKING:
    from devicelint.analysis import Settings
    from devicelint.cache import ResultCache
    from devicelint.tasks import CheckTask, FixTask, Outcome

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: one line on stderr, exit 2."""


_LIST_NOTE = "; comma separated, and the flag may be repeated (the values add up)"


def _list(value: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in value.split(",") if s.strip())


def _codes(value: str) -> tuple[str, ...]:
    try:
        return tuple(parse_code(c) for c in _list(value))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).replace("is not a devicelint code", "invalid code")) from None


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid job count {value!r}") from None
    if jobs < 0:
        raise argparse.ArgumentTypeError("--jobs must be 0 (all cores) or more")
    return jobs


EXIT_CODES_HELP = """exit codes:
  0  nothing found (fix: nothing left to fix)
  1  problems found (fix --check / --diff: a file would change; --exit-non-zero-on-fix: a file changed)
  2  usage or configuration error, or a path that could not be read or written
  130, 143  interrupted (SIGINT, SIGTERM); what was already written is listed
"""


COMMANDS = ("check", "fix", "clean", "rule")

# The collector's thresholds during a run (see main).
GC_THRESHOLDS = (10_000, 10, 10)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's, with the terminal's width looked up when help is printed, not when the
    formatter is made: argparse makes one for every option it adds (to check its metavar),
    and the width costs an import of shutil (bz2, lzma and zlib with it), 2 ms of a run's
    start-up. The width is worked out as argparse does it."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None, **options: object) -> None:
        super().__init__(prog, indent_increment, max_help_position, 80 if width is None else width, **options)  # type: ignore[arg-type]
        self._terminal_width_wanted = width is None
        self._max_help_position_asked = max_help_position

    def format_help(self) -> str:
        if self._terminal_width_wanted:
            import shutil

            self._width = shutil.get_terminal_size().columns - 2
            self._max_help_position = min(self._max_help_position_asked, max(self._width - 20, self._indent_increment * 2))
            self._terminal_width_wanted = False
        return super().format_help()


def _common_options() -> argparse.ArgumentParser:
    """The options check and fix share."""
    common = argparse.ArgumentParser(add_help=False, formatter_class=_HelpFormatter)
    common.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .); - reads standard input")
    rules = common.add_argument_group("rule selection")
    rules.add_argument("--select", type=_codes, action="extend", metavar="CODES", help="codes or prefixes to report, replacing the configured selection (default: DEV)" + _LIST_NOTE)
    rules.add_argument("--extend-select", type=_codes, action="extend", metavar="CODES", help="codes or prefixes to report in addition" + _LIST_NOTE)
    rules.add_argument("--ignore", type=_codes, action="extend", metavar="CODES", help="codes or prefixes to leave out" + _LIST_NOTE)

    files = common.add_argument_group("file selection")
    files.add_argument("--files", action="store_true", help="the PATHs are the complete list of files, possibly empty (no default to .): for pre-commit")
    files.add_argument("--exclude", type=_list, action="extend", metavar="GLOBS", help="patterns to skip when walking folders, replacing the defaults and the configured list" + _LIST_NOTE)
    files.add_argument("--extend-exclude", type=_list, action="extend", metavar="GLOBS", help="patterns to skip in addition" + _LIST_NOTE)
    files.add_argument("--respect-gitignore", action=argparse.BooleanOptionalAction, default=None, help="skip what .gitignore ignores when walking folders (default: yes)")
    files.add_argument("--force-exclude", action=argparse.BooleanOptionalAction, default=None, help="apply the exclude patterns to paths given explicitly too (for pre-commit)")
    files.add_argument("--stdin-filename", metavar="NAME", help="with - as the path: the name of the file read from standard input")

    configuration = common.add_argument_group("configuration")
    configuration.add_argument("--config", metavar="PATH", help="the configuration file (default: the nearest pyproject.toml with [tool.devicelint])")
    configuration.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    configuration.add_argument("--extra-device-types", type=_list, action="extend", metavar="TYPES", help="device types your torch build accepts besides torch's own (e.g. npu,musa)" + _LIST_NOTE)
    configuration.add_argument("--extra-sinks", type=_list, action="extend", metavar="SINKS", help="your own functions that parse devices: name[:ARG], e.g. mylib.place:device" + _LIST_NOTE)

    output = common.add_argument_group("output")
    output.add_argument("--format", "--output-format", dest="format", choices=sorted(FORMATS), default="text", help="output format (default: text)")
    output.add_argument("--output-file", "-o", metavar="PATH", help="write the report to PATH instead of standard output")
    output.add_argument("--exit-zero", action="store_true", help="exit 0 even when problems are found (errors still exit 2)")
    common.add_argument("--jobs", "-j", type=_jobs, default=0, metavar="N", help="worker processes (default: all cores)")
    common.add_argument("--no-cache", action="store_true", help="neither read nor write the persistent cache of check results")
    return common


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; given the ``command`` being run, the other commands get no options
    (only their names and help): argparse's cost per option (a translation lookup, a help
    formatter) is a good part of the start-up of a run on one file."""
    formatter = _HelpFormatter
    parser = argparse.ArgumentParser(
        prog="devicelint",
        description="Find placement strategies (\"auto\", \"balanced\") and other invalid strings that reach torch device APIs.",
        epilog=EXIT_CODES_HELP,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"devicelint {__version__}")
    # prog: what argparse would work out by formatting a usage line (the top level has no positionals).
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", prog="devicelint")
    parser.set_defaults(commands=commands.choices)  # each command's own parser (see main)

    def wanted(name: str) -> bool:
        return command is None or command == name

    def bare(name: str) -> dict[str, object]:
        return {} if wanted(name) else {"add_help": False}  # not run: its name and help line suffice

    common = [_common_options()] if wanted("check") or wanted("fix") else []

    check = commands.add_parser(
        "check", parents=common if wanted("check") else [], help="report problems", description="Report problems.",
        epilog=EXIT_CODES_HELP, formatter_class=formatter, **bare("check"),
    )  # fmt: skip
    if wanted("check"):
        check.add_argument("--statistics", action="store_true", help="show the number of problems per code instead of each problem (text or json)")

    fix = commands.add_parser(
        "fix",
        parents=common if wanted("fix") else [],
        help="fix DEV001 in place",
        description="Rewrite inverted device conditionals (DEV001) in place.",
        epilog=EXIT_CODES_HELP,
        formatter_class=formatter,
        **bare("fix"),
    )
    if wanted("fix"):
        mode = fix.add_mutually_exclusive_group()
        mode.add_argument("--diff", action="store_true", help="print a unified diff and write nothing")
        mode.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
        fix.add_argument("--exit-non-zero-on-fix", action="store_true", help="exit 1 when a file was changed")
        fix.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes (they change something besides the crash; each finding says what)")

    clean = commands.add_parser("clean", help="remove the cache", description="Remove the persistent cache of check results.", **bare("clean"))
    if wanted("clean"):
        clean.add_argument("--config", metavar="PATH", help="the configuration file whose cache-dir to clean")
        clean.add_argument("--isolated", action="store_true", help="ignore every configuration file")

    rule = commands.add_parser("rule", help="show a rule's documentation", description="Show a rule's documentation.", **bare("rule"))
    if wanted("rule"):
        rule.add_argument("code", nargs="?", metavar="CODE", help="e.g. DEV001")
        rule.add_argument("--all", action="store_true", help="every rule's documentation")
    return parser


# --- configuration: the file, then the flags ---------------------------------------------------


@dataclass(frozen=True)
class Run:
    """Everything a check or fix run needs, once the file and the flags are merged."""

    config: Config
    rules: FileRules
    files: FileOptions

    @cached_property
    def settings(self) -> Settings:
        """Made when first needed: a check whose every file comes from the cache needs no engine."""
        return settings_of(self.config)


def _load_config(args: argparse.Namespace) -> Config:
    if args.isolated and args.config:
        raise UsageError("--config and --isolated cannot be used together")
    if args.isolated:
        return Config()
    if args.config:
        if not os.path.isfile(args.config):
            raise UsageError(f"--config: {args.config}: no such file")
        return load_file(args.config, display=args.config)
    return discover_config(".")


def _merge(args: argparse.Namespace) -> Run:
    config = _load_config(args)
    overrides: dict[str, object] = {}
    if args.extra_device_types is not None:
        overrides["extra_device_types"] = check_device_types(args.extra_device_types, "--extra-device-types")
    if args.extra_sinks is not None:
        overrides["extra_sinks"] = check_sinks(args.extra_sinks, "--extra-sinks")
    if overrides:
        config = replace(config, **overrides)  # type: ignore[arg-type]
    flags = RuleSelection(args.select, args.extend_select or (), args.ignore or ())
    rules = FileRules.create(enabled_codes(config.rules, flags), config.per_file_ignores, config.root)
    # Patterns from the file are relative to its directory, from the command line to the current one.
    here = absolute(".")
    if args.exclude is not None:
        exclude = PatternSet.of(args.exclude, here)
    else:
        exclude = PatternSet.of(config.exclude if config.exclude is not None else DEFAULT_EXCLUDES, config.root)
    exclude = exclude + PatternSet.of(config.extend_exclude, config.root) + PatternSet.of(args.extend_exclude or (), here)
    files = FileOptions(
        exclude=exclude,
        respect_gitignore=config.respect_gitignore if args.respect_gitignore is None else args.respect_gitignore,
        force_exclude=config.force_exclude if args.force_exclude is None else args.force_exclude,
        root=config.root,
    )
    return Run(config, rules, files)


# --- inputs ---------------------------------------------------------------------------------------------


def _stdin_name(args: argparse.Namespace) -> str | None:
    """The name standard input is checked under, or None when checking files ("-" alone, or
    no path with --stdin-filename, as ruff)."""
    if "-" in args.paths:
        if len(args.paths) > 1:
            raise UsageError("- (standard input) cannot be combined with other paths")
        return args.stdin_filename or "-"
    if not args.paths and args.stdin_filename and not args.files:
        return args.stdin_filename
    return None


def _read_stdin() -> bytes:
    if sys.stdin is None:
        raise UsageError("standard input is closed")
    return sys.stdin.buffer.read()


def _files(args: argparse.Namespace, run: Run, errors: list[RunError]) -> Discovery:
    if args.files and not args.paths:
        return Discovery()  # pre-commit passed no files: nothing to do, not the whole tree
    paths = args.paths or ["."]
    # A missing path is an error for that path; the others are still checked (as ruff).
    found = discover(paths, run.files)
    for path, message in found.errors:
        _error(errors, RunError(path, message))
    if not found.files and not found.errors and not args.files:
        print(f"warning: no Python files found under {', '.join(map(shown, paths))}", file=sys.stderr)
    return found


def _error(errors: list[RunError], error: RunError) -> None:
    print(f"{shown(error.path)}: error: {error.message}", file=sys.stderr)
    errors.append(error)


def _emit(args: argparse.Namespace, text: str, inputs: Sequence[str] = ()) -> None:
    """The report goes to --output-file (created with its folders) or standard output.

    The report file is written whole or not at all (a temporary file, then a rename), and
    never onto a Python source, a notebook or a file being checked: a file named
    ``--output-file=setup.py`` that a shell glob or a hook turned into an option must not
    replace setup.py with a report.
    """
    if not args.output_file:
        sys.stdout.write(text)
        return
    target = args.output_file
    if target.endswith(CHECKED_SUFFIXES):
        raise UsageError(f"--output-file: {shown(target)}: refusing to overwrite a Python file with the report (was a file name taken for an option? put -- before file names)")
    if os.path.exists(target) and any(_same_file(target, path) for path in inputs):
        raise UsageError(f"--output-file: {shown(target)}: refusing to overwrite a file that is being checked")
    try:
        directory = os.path.dirname(target)
        if directory:
            os.makedirs(directory, exist_ok=True)
        data = text.encode("utf-8", "surrogateescape")
        if os.path.isfile(target):
            from devicelint.writing import write_atomically

            write_atomically(target, data)
        else:
            with open(target, "wb") as handle:
                handle.write(data)
    except OSError as error:
        raise UsageError(f"--output-file: {shown(target)}: {error.strerror or error}") from None


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _outcomes(
    args: argparse.Namespace, run: Run, task: CheckTask | FixTask, errors: list[RunError]
) -> tuple[int, Iterable[Outcome], list[str]]:
    """(how many files, their outcomes in order, the files)."""
    from devicelint.tasks import CachedCheck, CheckTask, FixTask, Outcome

    name = _stdin_name(args)
    if name is not None:
        data = _read_stdin()
        if run.files.force_excluded(name):
            return 1, [Outcome(name, data=data)], []  # excluded: reported clean, `fix -` echoes it
        return 1, [task.on_bytes(data, name)], []
    found = _files(args, run, errors)
    if isinstance(task, FixTask) and found.linked_out:
        task = replace(task, linked_out=frozenset(found.linked_out))
    cache = _open_cache(run) if isinstance(task, CheckTask) and not args.no_cache else None
    if cache is not None:
        return len(found.files), CachedCheck(task, found.files, args.jobs, cache, found.stats), found.files  # type: ignore[arg-type]
    return len(found.files), run_all(task, found.files, args.jobs), found.files


def _open_cache(run: Run) -> ResultCache | None:
    """The persistent cache of check results; None (no cache) when devicelint's own files
    cannot be read to fingerprint them."""
    from devicelint.cache import ResultCache, directory_for, fingerprint, settings_key

    try:
        return ResultCache(directory_for(run.config.cache_dir, run.config.root), fingerprint(settings_key(run.config.extra_device_types, run.config.extra_sinks)))
    except OSError:
        return None


def _consume(outcomes: Iterable[Outcome], handle: Callable[[Outcome], None]) -> bool:
    """Hand each outcome to ``handle``; True when a SIGINT/SIGTERM cut the run short. The
    files already finished (and, for fix, written) are still handed over."""
    try:
        for outcome in outcomes:
            handle(outcome)
    except KeyboardInterrupt:
        # Another Ctrl-C now would cut the wind-down short and leave workers behind:
        # finish it (the files in progress, the report), then exit.
        _set_handler(signal.SIGINT, signal.SIG_IGN)
        _set_handler(signal.SIGTERM, signal.SIG_IGN)
        stop = getattr(outcomes, "stop", None)
        for outcome in stop() if stop is not None else ():
            handle(outcome)
        return True
    return False


# --- commands -----------------------------------------------------------------------------------------


def _renderer(args: argparse.Namespace) -> Callable[..., str]:
    if getattr(args, "statistics", False):
        if args.format not in STATISTICS_FORMATS:
            raise UsageError(f"--statistics supports --format text or json, not {args.format}")
        return STATISTICS_FORMATS[args.format]
    return FORMATS[args.format]


def run_check(args: argparse.Namespace) -> int:
    from devicelint.tasks import CheckTask

    run = _merge(args)
    render = _renderer(args)
    errors: list[RunError] = []
    results: list[Reported] = []

    def handle(outcome: Outcome) -> None:
        if outcome.error:
            _error(errors, RunError(outcome.path, outcome.error))
        results.extend(outcome.findings)

    _, outcomes, inputs = _outcomes(args, run, CheckTask(None, run.rules, config=run.config), errors)
    if _consume(outcomes, handle):
        raise KeyboardInterrupt  # a partial check is no verdict
    _emit(args, render(results, errors), inputs)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if results and not args.exit_zero else EXIT_CLEAN


def run_fix(args: argparse.Namespace) -> int:
    from devicelint import tasks
    from devicelint.tasks import FixTask, Outcome

    run = _merge(args)
    if args.diff and args.format != "text":
        raise UsageError("--diff prints a diff: it takes no --format")
    stdin = _stdin_name(args) is not None
    dry_run = args.diff or args.check or stdin
    task = FixTask(run.settings, run.rules, write=not dry_run, want_diff=args.diff, unsafe_fixes=args.unsafe_fixes)
    errors: list[RunError] = []
    changed: list[Outcome] = []
    fixed: list[Reported] = []
    remaining: list[Reported] = []
    skipped: list[Reported] = []
    source: bytes | None = None
    total, outcomes, inputs = _outcomes(args, run, task, errors)
    progress = Progress(total, "fixing")

    def handle(outcome: Outcome) -> None:
        nonlocal source
        progress.advance()
        if outcome.error:
            progress.close()
            _error(errors, RunError(outcome.path, outcome.error))
        if outcome.changed:
            changed.append(outcome)
            fixed.extend(outcome.fixed)
        remaining.extend(outcome.findings)
        skipped.extend(outcome.skipped)
        source = outcome.data

    try:
        interrupted = _consume(outcomes, handle)
    finally:
        progress.close()
    if interrupted and not dry_run:
        # Files this process wrote whose outcome never arrived (the interrupt came right after).
        reported = {o.path for o in changed}
        changed += [Outcome(path, changed=True) for path in tasks.written if path not in reported]

    if stdin and not args.diff and not args.check:
        # Editors pipe a buffer through `devicelint fix -`: standard output is the new
        # source and nothing else (the old one when nothing changed); findings go to stderr.
        sys.stdout.flush()
        sys.stdout.buffer.write(source or b"")
        sys.stdout.buffer.flush()
        report = FORMATS[args.format](remaining, errors) if args.format != "text" else FORMATS["text"](remaining, show_summary=False)
        if args.output_file:
            _emit(args, report, inputs)
        else:
            sys.stderr.write(report)
    elif args.diff:
        _emit(args, "".join(o.diff for o in changed), inputs)
        if changed or skipped:  # the summary goes to stderr: standard output stays a diff that patch accepts
            for item in skipped:  # what --unsafe-fixes would change besides
                sys.stderr.write(f"{item.where}: {item.finding.code} [unsafe fix] {item.finding.fix_note or item.finding.message}\n")
            sys.stderr.write(_fix_summary(fixed, changed, remaining, errors, dry_run=True, skipped=skipped))
    elif args.format != "text":
        # --check: what would be fixed and the files that could not be analysed (positions in
        # the unchanged files); otherwise: what is left.
        unreadable = [r for r in remaining if r.finding.code == "DEV900"]
        _emit(args, FORMATS[args.format](fixed + unreadable if args.check else remaining, errors), inputs)
    else:
        lines = []
        verb = "would fix" if args.check else "fixed"
        for outcome in changed:
            n = len(outcome.fixed)
            counted = f" ({n} {'problem' if n == 1 else 'problems'})" if outcome.fixed or not interrupted else ""
            lines.append(f"{verb} {shown(outcome.path)}{counted}\n")
        if remaining:
            lines.append(FORMATS["text"](remaining, show_summary=False))
        lines.append(_fix_summary(fixed, changed, remaining, errors, args.check, skipped))
        _emit(args, "".join(lines), inputs)

    if interrupted:
        if not dry_run:
            print(f"devicelint: interrupted; {_plural(len(changed), 'file')} rewritten before the interrupt (listed above)", file=sys.stderr)
        raise KeyboardInterrupt
    if errors:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_CLEAN
    if args.diff or args.check:
        # A file that could not be analysed (DEV900) is not "nothing to fix".
        return EXIT_FINDINGS if changed or any(r.finding.code == "DEV900" for r in remaining) else EXIT_CLEAN
    if changed and args.exit_non_zero_on_fix:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if remaining else EXIT_CLEAN


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fix_summary(
    fixed: Sequence[Reported],
    changed: Sequence[Outcome],
    remaining: Sequence[Reported],
    errors: Sequence[RunError],
    dry_run: bool,
    skipped: Sequence[Reported] = (),
) -> str:
    # A fixable finding that is still there was not fixed because of an error shown above
    # (a read-only file, a file that changed meanwhile): not "not fixable". One whose unsafe
    # fix was left out is counted by the hint line.
    def key(r: Reported) -> tuple:
        return (r.path, r.cell, r.finding.line, r.finding.column, r.finding.code)

    left_out = {key(r) for r in skipped}
    not_fixed = sum(1 for r in remaining if r.finding.fixable and key(r) not in left_out)
    unfixable = len(remaining) - not_fixed - sum(1 for r in remaining if key(r) in left_out)
    hint = unsafe_hint(len(skipped)) + ".\n" if skipped else ""
    if not fixed and not remaining:
        return hint + ("Nothing to fix.\n" if not errors else f"Nothing fixed: {_plural(len(errors), 'error')} (see above).\n")
    parts = []
    if fixed:
        parts.append(f"{'Would fix' if dry_run else 'Fixed'} {_plural(len(fixed), 'problem')} in {_plural(len(changed), 'file')}")
    if not_fixed:
        parts.append(f"{_plural(not_fixed, 'fixable problem')} not fixed (see the errors above)")
    if unfixable:
        parts.append(f"{_plural(unfixable, 'problem')} remaining (not fixable)")
    if not parts:
        return hint
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + ".\n" + hint


def run_rule(args: argparse.Namespace) -> int:
    from devicelint.ruledocs import rule_doc

    if args.all:
        if args.code:
            raise UsageError("give a CODE or --all, not both")
        sys.stdout.write("\n".join(rule_doc(code) for code in RULES))
        return EXIT_CLEAN
    if not args.code:
        raise UsageError(f"which rule? (known: {', '.join(RULES)}; or --all)")
    code = args.code.upper()
    if code not in RULES:
        raise UsageError(f"unknown rule {args.code!r} (known: {', '.join(RULES)})")
    sys.stdout.write(rule_doc(code))
    return EXIT_CLEAN


_LIST_FLAGS = ("select", "extend_select", "ignore", "exclude", "extend_exclude", "extra_device_types", "extra_sinks")
_signal_exit = 130


def run_clean(args: argparse.Namespace) -> int:
    from devicelint.cache import clean, directory_for

    config = _load_config(args)
    directory = directory_for(config.cache_dir, config.root)
    removed = clean(directory)
    print(f"{'removed the cache at' if removed else 'no cache at'} {directory}", file=sys.stderr)
    return EXIT_CLEAN


def _set_handler(signum: int, handler: Callable | int) -> None:
    """signal.signal, where it can be set: only the main thread sets handlers (main() called
    from another thread leaves them as they are). (No threading.main_thread() test: a warm
    run need not import threading.)"""
    try:
        signal.signal(signum, handler)
    except ValueError:
        pass


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (``timeout``, CI cancelling a job) is handled like Ctrl-C: the pool is stopped
    (no worker left waiting), what was written is listed, and the exit code says which signal."""
    global _signal_exit
    _signal_exit = 128 + signum
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # The command comes first (the top level has only --help and --version); its own parser
    # reads the rest, as the top level's would hand them over, but without first looking at
    # each argument itself (thousands of file names from pre-commit).
    command = arguments[0] if arguments and arguments[0] in COMMANDS else None
    parser = build_parser(command)
    if command is not None:
        args = parser.get_default("commands")[command].parse_args(arguments[1:], argparse.Namespace(command=command))
    else:
        args = parser.parse_args(arguments)
    for name in _LIST_FLAGS:
        if isinstance(getattr(args, name, None), list):
            setattr(args, name, tuple(getattr(args, name)))
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("devicelint: error: a command is required (check, fix or rule)", file=sys.stderr)
        return EXIT_ERROR
    _set_handler(signal.SIGTERM, _terminate)
    # The analysis makes many short-lived objects and few cycles: a young-generation
    # collection every 700 allocations (the default) costs ~5% of a cold run's CPU. As mypy
    # does, collect less often; the thresholds are put back when the run ends.
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        if args.command in ("check", "fix") and "devicelint.analysis" in sys.modules:
            from devicelint.analysis import SHARED_PROJECT

            SHARED_PROJECT.clear()  # a run reads the project afresh (several runs in one process)
        return {"check": run_check, "fix": run_fix, "rule": run_rule, "clean": run_clean}[args.command](args)
    except (UsageError, ConfigError, WorkerCrashed) as error:
        print(f"devicelint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return _signal_exit
    except BrokenPipeError:
        return EXIT_CLEAN
    except Exception as error:  # a bug: one line, not a traceback
        print(f"devicelint: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        gc.set_threshold(*thresholds)


def entry() -> None:
    """The console script (and ``python -m devicelint``): ``main()``, then the process ends
    without the interpreter's teardown, which frees every object one by one (~9 ms of a
    warm run over thousands of files; ``main()`` has shut the worker pool down). What is
    buffered is written first; a reader that went away (a closed pipe) is no error."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe, or a stream closed by the caller
        pass
    os._exit(code)


if __name__ == "__main__":
    entry()
