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
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from devicelint import __version__
from devicelint.analysis import Settings
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
from devicelint.discover import DEFAULT_EXCLUDES, DiscoveryError, FileOptions, discover
from devicelint.findings import RULES
from devicelint.globs import PatternSet, absolute
from devicelint.report import FORMATS, STATISTICS_FORMATS, Reported, RunError
from devicelint.runner import Progress, WorkerCrashed, run_all
from devicelint.tasks import CheckTask, FixTask, Outcome

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: one line on stderr, exit 2."""


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devicelint",
        description="Find placement strategies (\"auto\", \"balanced\") and other invalid strings that reach torch device APIs.",
    )
    parser.add_argument("--version", action="version", version=f"devicelint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .); - reads standard input")
    rules = common.add_argument_group("rule selection")
    rules.add_argument("--select", type=_codes, metavar="CODES", help="codes or prefixes to report, replacing the configured selection (default: DEV)")
    rules.add_argument("--extend-select", type=_codes, metavar="CODES", help="codes or prefixes to report in addition")
    rules.add_argument("--ignore", type=_codes, metavar="CODES", help="codes or prefixes to leave out")

    files = common.add_argument_group("file selection")
    files.add_argument("--files", action="store_true", help="the PATHs are the complete list of files, possibly empty (no default to .): for pre-commit")
    files.add_argument("--exclude", type=_list, metavar="GLOBS", help="patterns to skip when walking folders, replacing the defaults and the configured list")
    files.add_argument("--extend-exclude", type=_list, metavar="GLOBS", help="patterns to skip in addition")
    files.add_argument("--respect-gitignore", action=argparse.BooleanOptionalAction, default=None, help="skip what .gitignore ignores when walking folders (default: yes)")
    files.add_argument("--force-exclude", action=argparse.BooleanOptionalAction, default=None, help="apply the exclude patterns to paths given explicitly too (for pre-commit)")
    files.add_argument("--stdin-filename", metavar="NAME", help="with - as the path: the name of the file read from standard input")

    configuration = common.add_argument_group("configuration")
    configuration.add_argument("--config", metavar="PATH", help="the configuration file (default: the nearest pyproject.toml with [tool.devicelint])")
    configuration.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    configuration.add_argument("--extra-device-types", type=_list, metavar="TYPES", help="device types your torch build accepts besides torch's own (e.g. npu,musa)")
    configuration.add_argument("--extra-sinks", type=_list, metavar="SINKS", help="your own functions that parse devices: name[:ARG], e.g. mylib.place:device")

    output = common.add_argument_group("output")
    output.add_argument("--format", "--output-format", dest="format", choices=sorted(FORMATS), default="text", help="output format (default: text)")
    output.add_argument("--output-file", "-o", metavar="PATH", help="write the report to PATH instead of standard output")
    output.add_argument("--exit-zero", action="store_true", help="exit 0 even when problems are found (errors still exit 2)")
    common.add_argument("--jobs", "-j", type=_jobs, default=0, metavar="N", help="worker processes (default: all cores)")

    check = commands.add_parser("check", parents=[common], help="report problems", description="Report problems.")
    check.add_argument("--statistics", action="store_true", help="show the number of problems per code instead of each problem (text or json)")

    fix = commands.add_parser("fix", parents=[common], help="fix DEV001 in place", description="Rewrite inverted device conditionals (DEV001) in place.")
    mode = fix.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print a unified diff and write nothing")
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    fix.add_argument("--exit-non-zero-on-fix", action="store_true", help="exit 1 when a file was changed")

    rule = commands.add_parser("rule", help="show a rule's documentation", description="Show a rule's documentation.")
    rule.add_argument("code", nargs="?", metavar="CODE", help="e.g. DEV001")
    rule.add_argument("--all", action="store_true", help="every rule's documentation")
    return parser


# --- configuration: the file, then the flags ---------------------------------------------------


@dataclass(frozen=True)
class Run:
    """Everything a check or fix run needs, once the file and the flags are merged."""

    config: Config
    settings: Settings
    rules: FileRules
    files: FileOptions


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
        exclude = PatternSet.compile(args.exclude, here)
    else:
        exclude = PatternSet.compile(config.exclude if config.exclude is not None else DEFAULT_EXCLUDES, config.root)
    exclude = exclude + PatternSet.compile(config.extend_exclude, config.root) + PatternSet.compile(args.extend_exclude or (), here)
    files = FileOptions(
        exclude=exclude,
        respect_gitignore=config.respect_gitignore if args.respect_gitignore is None else args.respect_gitignore,
        force_exclude=config.force_exclude if args.force_exclude is None else args.force_exclude,
        root=config.root,
    )
    return Run(config, settings_of(config), rules, files)


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


def _files(args: argparse.Namespace, run: Run, errors: list[RunError]) -> list[str]:
    if args.files and not args.paths:
        return []  # pre-commit passed no files: nothing to do, not the whole tree
    paths = args.paths or ["."]
    try:
        found = discover(paths, run.files)
    except DiscoveryError as error:
        raise UsageError(str(error)) from None
    for path, message in found.errors:
        _error(errors, RunError(path, message))
    if not found.files and not args.files:
        print(f"warning: no Python files found under {', '.join(paths)}", file=sys.stderr)
    return found.files


def _error(errors: list[RunError], error: RunError) -> None:
    print(f"{error.path}: error: {error.message}", file=sys.stderr)
    errors.append(error)


def _emit(args: argparse.Namespace, text: str) -> None:
    """The report goes to --output-file (created with its folders) or standard output."""
    if not args.output_file:
        sys.stdout.write(text)
        return
    try:
        directory = os.path.dirname(args.output_file)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(args.output_file, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as error:
        raise UsageError(f"--output-file: {args.output_file}: {error.strerror or error}") from None


def _outcomes(
    args: argparse.Namespace, run: Run, task: CheckTask | FixTask, errors: list[RunError]
) -> tuple[int, Iterable[Outcome]]:
    """(how many files, their outcomes in order)."""
    name = _stdin_name(args)
    if name is not None:
        data = _read_stdin()
        if run.files.force_excluded(name):
            return 1, [Outcome(name, data=data)]  # excluded: reported clean, `fix -` echoes it
        return 1, [task.on_bytes(data, name)]
    files = _files(args, run, errors)
    return len(files), run_all(task, files, args.jobs)


# --- commands -----------------------------------------------------------------------------------------


def _renderer(args: argparse.Namespace) -> Callable[..., str]:
    if getattr(args, "statistics", False):
        if args.format not in STATISTICS_FORMATS:
            raise UsageError(f"--statistics supports --format text or json, not {args.format}")
        return STATISTICS_FORMATS[args.format]
    return FORMATS[args.format]


def run_check(args: argparse.Namespace) -> int:
    run = _merge(args)
    render = _renderer(args)
    errors: list[RunError] = []
    results: list[Reported] = []
    _, outcomes = _outcomes(args, run, CheckTask(run.settings, run.rules), errors)
    for outcome in outcomes:
        if outcome.error:
            _error(errors, RunError(outcome.path, outcome.error))
        results.extend(outcome.findings)
    _emit(args, render(results, errors))
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if results and not args.exit_zero else EXIT_CLEAN


def run_fix(args: argparse.Namespace) -> int:
    run = _merge(args)
    if args.diff and args.format != "text":
        raise UsageError("--diff prints a diff: it takes no --format")
    stdin = _stdin_name(args) is not None
    dry_run = args.diff or args.check or stdin
    task = FixTask(run.settings, run.rules, write=not dry_run, want_diff=args.diff)
    errors: list[RunError] = []
    changed: list[Outcome] = []
    fixed: list[Reported] = []
    remaining: list[Reported] = []
    source: bytes | None = None
    total, outcomes = _outcomes(args, run, task, errors)
    progress = Progress(total, "fixing")
    try:
        for outcome in outcomes:
            progress.advance()
            if outcome.error:
                progress.close()
                _error(errors, RunError(outcome.path, outcome.error))
            if outcome.changed:
                changed.append(outcome)
                fixed.extend(outcome.fixed)
            remaining.extend(outcome.findings)
            source = outcome.data
    finally:
        progress.close()

    if stdin and not args.diff and not args.check:
        # Editors pipe a buffer through `devicelint fix -`: standard output is the new
        # source and nothing else (the old one when nothing changed); findings go to stderr.
        sys.stdout.flush()
        sys.stdout.buffer.write(source or b"")
        sys.stdout.buffer.flush()
        report = FORMATS[args.format](remaining, errors) if args.format != "text" else FORMATS["text"](remaining, show_summary=False)
        if args.output_file:
            _emit(args, report)
        else:
            sys.stderr.write(report)
    elif args.diff:
        _emit(args, "".join(o.diff for o in changed))
    elif args.format != "text":
        # --check: what would be fixed (positions in the unchanged files); otherwise: what is left.
        _emit(args, FORMATS[args.format](fixed if args.check else remaining, errors))
    else:
        lines = []
        verb = "would fix" if args.check else "fixed"
        for outcome in changed:
            n = len(outcome.fixed)
            lines.append(f"{verb} {outcome.path} ({n} {'problem' if n == 1 else 'problems'})\n")
        if remaining:
            lines.append(FORMATS["text"](remaining, show_summary=False))
        lines.append(_fix_summary(len(fixed), len(changed), len(remaining), args.check))
        _emit(args, "".join(lines))

    if errors:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_CLEAN
    if args.diff or args.check:
        return EXIT_FINDINGS if changed else EXIT_CLEAN
    if changed and args.exit_non_zero_on_fix:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if remaining else EXIT_CLEAN


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fix_summary(fixed: int, files: int, remaining: int, dry_run: bool) -> str:
    if not fixed and not remaining:
        return "Nothing to fix.\n"
    parts = []
    if fixed:
        parts.append(f"{'Would fix' if dry_run else 'Fixed'} {_plural(fixed, 'problem')} in {_plural(files, 'file')}")
    if remaining:
        parts.append(f"{_plural(remaining, 'problem')} remaining (not fixable)")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + ".\n"


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("devicelint: error: a command is required (check, fix or rule)", file=sys.stderr)
        return EXIT_ERROR
    try:
        return {"check": run_check, "fix": run_fix, "rule": run_rule}[args.command](args)
    except (UsageError, ConfigError, WorkerCrashed) as error:
        print(f"devicelint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN
    except Exception as error:  # a bug: one line, not a traceback
        print(f"devicelint: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
