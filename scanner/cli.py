"""The `devtoken` command line: arguments -> config -> library call -> render -> exit code.

Exit codes: 0 clean, 1 findings, 2 usage/config error, 3 internal error,
130 interrupted. Heavy modules are imported inside the commands so that
`devtoken --help` and the pre-commit path start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from scanner import __version__
from scanner.errors import DevtokenError
from scanner.exits import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE
from scanner.store_commands import add_commands, add_store_options


def _output_options(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output")
    out.add_argument("--format", default="text", help="text, json, jsonl or sarif (default: text)")
    out.add_argument("-o", "--output", metavar="FILE", help="write the report here, not stdout")
    out.add_argument("--explain", action="store_true", help="also list suppressed matches and why")
    out.add_argument("--show-secrets", action="store_true", help="print secrets in clear (careful)")
    out.add_argument("--quiet", action="store_true", help="no progress, summary or warnings")
    out.add_argument(
        "--verify",
        action="store_true",
        help="check with Google which credential bundles are live (network)",
    )
    known = parser.add_argument_group("known findings")
    known.add_argument(
        "--baseline", metavar="FILE", help="suppress findings listed in this baseline"
    )
    known.add_argument(
        "--ignore-file",
        metavar="FILE",
        help="fingerprints to ignore (default: ./.devtokenignore if present)",
    )
    rules = parser.add_argument_group("rules and limits")
    rules.add_argument("--rules", metavar="DIR", help="rule directory (default: bundled rules)")
    rules.add_argument("--rule", action="append", metavar="ID", help="only this rule (repeatable)")
    rules.add_argument("--config", metavar="FILE", help="settings file (default: ./.devtoken.toml)")
    rules.add_argument("--scan-binary", action="store_true", help="scan binary content too")
    rules.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="parallel workers (default: cores)"
    )
    rules.add_argument(
        "--engine", default="auto", choices=("auto", "hyperscan", "regex"), help=argparse.SUPPRESS
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devtoken",
        description="Find leaked Google Ads API developer tokens and the OAuth credentials "
        "that leak with them.",
    )
    parser.add_argument("--version", action="version", version=f"devtoken {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = commands.add_parser(
        "scan", help="scan files, directories, logs, stdin or staged changes"
    )
    scan.add_argument(
        "paths", nargs="*", metavar="PATH", help="files, directories or - (default: .)"
    )
    scan.add_argument(
        "--staged",
        action="store_true",
        help="scan what is staged for commit (added lines only): the pre-commit hook",
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
    _output_options(scan)
    add_store_options(scan)

    git = commands.add_parser("git", help="scan a repository's whole history, every blob once")
    git.add_argument("repo", nargs="?", default=".", help="repository or bare mirror (default: .)")
    git.add_argument(
        "--branch",
        action="append",
        default=[],
        metavar="REF",
        help="only history reachable from REF (repeatable; default: every ref)",
    )
    git.add_argument("--since-commit", metavar="SHA", help="only commits after SHA")
    git.add_argument("--range", dest="revision_range", metavar="A..B", help="only this range")
    git.add_argument("--max-commits", type=int, metavar="N", help="at most N commits")
    git.add_argument("--no-stashes", action="store_true", help="leave stash entries out")
    git.add_argument(
        "--all-objects",
        action="store_true",
        help="also scan what no ref reaches (amended commits, deleted branches, dangling blobs)",
    )
    git.add_argument(
        "--max-blob-size",
        metavar="SIZE",
        default="256MiB",
        help="skip blobs larger than SIZE (default 256MiB; 0: no limit)",
    )
    _output_options(git)
    add_store_options(git)

    baseline = commands.add_parser("baseline", help="record current findings as known")
    baseline.add_argument("action", choices=("create", "update"))
    baseline.add_argument("paths", nargs="*", metavar="PATH", help="what to scan (default: .)")
    baseline.add_argument("--history", action="store_true", help="scan git history, not files")
    baseline.add_argument(
        "-o",
        "--baseline-file",
        metavar="FILE",
        default=None,
        help="baseline to write (default: .devtoken-baseline.json)",
    )
    baseline.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    baseline.add_argument("--rules", metavar="DIR")
    baseline.add_argument("--config", metavar="FILE")
    baseline.add_argument("--quiet", action="store_true")

    add_commands(commands)

    rules = commands.add_parser("rules", help="list the rules")
    rules.add_argument("--rules", metavar="DIR", help="rule directory")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_streams()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, errors exit 2
        return int(exc.code or 0)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    from scanner import commands
    from scanner.render.escape import say

    try:  # the one error boundary: scanner.errors draws what maps to what
        return commands.dispatch(args)
    except DevtokenError as exc:
        say(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_INTERNAL
    except Exception as exc:
        say(f"internal error: {type(exc).__name__}: {exc}")
        if os.environ.get("DEVTOKEN_DEBUG"):
            raise
        return EXIT_INTERNAL


def _tolerant_streams() -> None:
    """A character the terminal's encoding lacks (the `…` of a redacted value under
    PYTHONIOENCODING=ascii) is written as a backslash escape, never an internal error."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
