"""The `devtoken` command line: arguments -> ScanConfig -> scan() -> render -> exit code.

Exit codes: 0 clean, 1 findings, 2 usage/config error, 3 internal error,
130 interrupted. Heavy modules are imported inside the commands so that
`devtoken --help` and the pre-commit path start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from scanner import __version__

if TYPE_CHECKING:
    from scanner.config import ScanConfig
    from scanner.models import Skipped

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """Bad arguments or configuration: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devtoken",
        description="Find leaked Google Ads API developer tokens and the OAuth credentials "
        "that leak with them.",
    )
    parser.add_argument("--version", action="version", version=f"devtoken {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    scan = commands.add_parser("scan", help="scan files, directories, logs or stdin (-)")
    scan.add_argument(
        "paths", nargs="*", metavar="PATH", help="files, directories, or - (default: .)"
    )
    scan.add_argument("--format", default="text", help="text, json, jsonl or sarif (default: text)")
    scan.add_argument(
        "-o", "--output", metavar="FILE", help="write the report here instead of stdout"
    )
    scan.add_argument("--explain", action="store_true", help="also list suppressed matches and why")
    scan.add_argument(
        "--show-secrets", action="store_true", help="print secrets in clear (careful)"
    )
    scan.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip paths matching GLOB (repeatable)",
    )
    scan.add_argument(
        "--max-file-size",
        metavar="SIZE",
        help="skip walked files larger than SIZE (default 256MiB; 0: no limit)",
    )
    scan.add_argument("--scan-binary", action="store_true", help="scan binary files too")
    scan.add_argument("--rules", metavar="DIR", help="rule directory (default: the bundled rules)")
    scan.add_argument("--rule", action="append", metavar="ID", help="only this rule (repeatable)")
    scan.add_argument("--config", metavar="FILE", help="settings file (default: ./.devtoken.toml)")
    scan.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="parallel readers (default: cores)"
    )
    scan.add_argument(
        "--engine", default="auto", choices=("auto", "hyperscan", "regex"), help=argparse.SUPPRESS
    )
    scan.add_argument("--quiet", action="store_true", help="no summary or warnings on stderr")
    rules = commands.add_parser("rules", help="list the rules")
    rules.add_argument("--rules", metavar="DIR", help="rule directory")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, errors exit 2
        return int(exc.code or 0)
    try:
        if args.command == "scan":
            return run_scan(args)
        if args.command == "rules":
            return list_rules(args)
        parser.print_help()
        return EXIT_USAGE
    except UsageError as exc:
        print(f"devtoken: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("devtoken: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_INTERNAL
    except Exception as exc:
        print(f"devtoken: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("DEVTOKEN_DEBUG"):
            raise
        return EXIT_INTERNAL


def scan_config(args: argparse.Namespace) -> ScanConfig:
    from scanner.config import ConfigError, ScanConfig, load_config_file, parse_size

    try:
        settings = load_config_file(Path(args.config) if args.config else None)
        size = (
            args.max_file_size if args.max_file_size is not None else settings.get("max_file_size")
        )
        rules_dir = args.rules or settings.get("rules_dir")
        kwargs: dict[str, object] = {
            "paths": tuple(args.paths or ["."]),
            "rules_dir": Path(rules_dir) if rules_dir else None,
            "rule_ids": tuple(args.rule) if args.rule else None,
            "exclude": tuple(settings.get("exclude", [])) + tuple(args.exclude),
            "scan_binary": args.scan_binary or bool(settings.get("scan_binary", False)),
            "engine": args.engine,
        }
        if size is not None:
            kwargs["max_file_size"] = parse_size(size)
        if args.jobs is not None:
            if args.jobs < 1:
                raise ConfigError("--jobs must be at least 1")
            kwargs["jobs"] = args.jobs
        return ScanConfig(**kwargs)  # type: ignore[arg-type]
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def run_scan(args: argparse.Namespace) -> int:
    from scanner.output import FORMATS
    from scanner.output.render import render, summary
    from scanner.rules import RuleError
    from scanner.scan import scan
    from scanner.sources.files import MissingPath

    if args.format not in FORMATS:
        raise UsageError(f"unknown format {args.format!r} (choose from {', '.join(FORMATS)})")
    config = scan_config(args)
    try:
        result = scan(config)
    except (RuleError, MissingPath) as exc:
        raise UsageError(str(exc)) from None
    report = render(result, args.format, show_secrets=args.show_secrets, explain=args.explain)
    write_report(report, args.output)
    if not args.quiet:
        warn_skipped(result.skipped, sys.stderr)
        if args.format != "text" or args.output:
            print(summary(result), file=sys.stderr)
    return EXIT_FINDINGS if result.findings else EXIT_CLEAN


def write_report(report: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(report)
        sys.stdout.flush()
        return
    try:
        Path(output).write_text(report, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None


def warn_skipped(skipped: Sequence[Skipped], stream: TextIO) -> None:
    """Inputs lost to errors are worth a line each; binary/symlink skips only count."""
    for item in skipped:
        if item.reason in ("unreadable", "partial"):
            print(f"devtoken: warning: {item.path}: {item.reason}: {item.detail}", file=stream)


def list_rules(args: argparse.Namespace) -> int:
    from scanner.rules import RuleError, load_rules

    try:
        rules = load_rules(Path(args.rules) if args.rules else None)
    except RuleError as exc:
        raise UsageError(str(exc)) from None
    for rule in rules:
        print(f"{rule.id:32s} {rule.severity:9s} {rule.name}")
    return EXIT_CLEAN


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
