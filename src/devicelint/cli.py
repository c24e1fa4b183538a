"""The ``devicelint`` command: ``check``, ``fix`` and ``rule``.

Exit codes (as ruff): 0 nothing found, 1 findings (or, for ``fix --check`` and
``--diff``, something to fix), 2 usage or internal error.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence

from devicelint import __version__
from devicelint.analysis import Settings, check_path
from devicelint.discover import DiscoveryError, discover
from devicelint.findings import RULES, CodeFilter
from devicelint.report import FORMATS, Reported, summary
from devicelint.rewrite import fix_path
from devicelint.runner import Progress, run_all

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: one line on stderr, exit 2."""


def _codes(value: str) -> tuple[str, ...]:
    codes = tuple(c.strip().upper() for c in value.split(",") if c.strip())
    for code in codes:
        if not code.startswith("DEV") or not code[3:].isdigit() and code != "DEV":
            raise argparse.ArgumentTypeError(f"invalid code or prefix {code!r} (expected e.g. DEV001 or DEV)")
    return codes


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
    common.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    common.add_argument("--select", type=_codes, default=("DEV",), metavar="CODES", help="codes or prefixes to report (default: DEV)")
    common.add_argument("--ignore", type=_codes, default=(), metavar="CODES", help="codes or prefixes to leave out")
    common.add_argument(
        "--files",
        action="store_true",
        help="the PATHs are the complete list of files, possibly empty (no default to .): for pre-commit",
    )
    common.add_argument("--jobs", "-j", type=_jobs, default=0, metavar="N", help="worker processes (default: all cores)")
    common.add_argument("--extra-device-types", type=lambda v: tuple(s.strip() for s in v.split(",") if s.strip()), default=(), metavar="TYPES", help="device types your torch build accepts besides torch's own (e.g. npu,musa)")
    common.add_argument("--extra-sinks", type=lambda v: tuple(s.strip() for s in v.split(",") if s.strip()), default=(), metavar="SINKS", help="your own functions that parse devices: name[:ARG], e.g. mylib.place:device")

    check = commands.add_parser("check", parents=[common], help="report problems", description="Report problems.")
    check.add_argument("--format", choices=sorted(FORMATS), default="text", help="output format (default: text)")

    fix = commands.add_parser("fix", parents=[common], help="fix DEV001 in place", description="Rewrite inverted device conditionals (DEV001) in place.")
    mode = fix.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print a unified diff and write nothing")
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    fix.add_argument("--exit-non-zero-on-fix", action="store_true", help="exit 1 when a file was changed")

    rule = commands.add_parser("rule", help="show a rule's documentation", description="Show a rule's documentation.")
    rule.add_argument("code", metavar="CODE", help="e.g. DEV001")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return Settings.create(args.extra_device_types, args.extra_sinks)
    except ValueError as error:
        raise UsageError(f"--extra-sinks: {error}") from None


def _files(args: argparse.Namespace) -> list[str]:
    if args.files and not args.paths:
        return []  # pre-commit passed no files: nothing to do, not the whole tree
    paths = args.paths or ["."]
    try:
        files = [str(p) for p in discover(paths)]
    except DiscoveryError as error:
        raise UsageError(str(error)) from None
    if not files:
        print(f"warning: no Python files found under {', '.join(paths)}", file=sys.stderr)
    return files


def run_check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    files = _files(args)
    codes = CodeFilter(args.select, args.ignore)
    results: list[Reported] = []
    failed = False
    for report in run_all(functools.partial(check_path, settings=settings), files, args.jobs):
        if report.error:
            print(f"{report.path}: error: {report.error}", file=sys.stderr)
            failed = True
        results.extend(Reported(report.path, f) for f in report.findings if codes.allows(f.code))
    sys.stdout.write(FORMATS[args.format](results))
    if failed:
        return EXIT_ERROR
    return EXIT_FINDINGS if results else EXIT_CLEAN


def run_fix(args: argparse.Namespace) -> int:
    settings = _settings(args)
    files = _files(args)
    codes = CodeFilter(args.select, args.ignore)
    dry_run = args.diff or args.check
    task = functools.partial(fix_path, settings=settings, codes=codes, write=not dry_run, want_diff=args.diff)
    progress = Progress(len(files), "fixing")
    changed, fixed_count, remaining, failed = [], 0, [], False
    try:
        for result in run_all(task, files, args.jobs):
            progress.advance()
            if result.error:
                progress.close()
                print(f"{result.path}: error: {result.error}", file=sys.stderr)
                failed = True
            if result.changed:
                changed.append(result)
                fixed_count += len(result.fixed)
            remaining.extend(Reported(result.path, f) for f in result.remaining if codes.allows(f.code))
    finally:
        progress.close()
    out = sys.stdout
    if args.diff:
        for result in changed:
            out.write(result.diff)
    else:
        verb = "would fix" if args.check else "fixed"
        for result in changed:
            n = len(result.fixed)
            out.write(f"{verb} {result.path} ({n} {'problem' if n == 1 else 'problems'})\n")
        if remaining:
            out.write(FORMATS["text"](remaining, show_summary=False))
        out.write(_fix_summary(fixed_count, len(changed), len(remaining), args.check))
    if failed:
        return EXIT_ERROR
    if dry_run:
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
    except UsageError as error:
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
