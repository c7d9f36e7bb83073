"""The `devtoken` command line: arguments -> config -> library call -> render -> exit code.

Exit codes: 0 clean, 1 findings, 2 usage/config error, 3 internal error,
130 interrupted. Each command is a module here (`add_parser` + `run`); the pipeline
lives in scanner.api. Heavy modules are imported inside the commands so that
`devtoken --help` and the pre-commit path start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from scanner import __version__
from scanner.cli import baseline, git, org, report, respond, rules, scan, triage
from scanner.errors import DevtokenError
from scanner.exits import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE

COMMANDS = {
    "scan": scan,
    "git": git,
    "org": org,
    "baseline": baseline,
    "report": report,
    "triage": triage,
    "respond": respond,
    "rules": rules,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devtoken",
        description="Find leaked Google Ads API developer tokens and the OAuth credentials "
        "that leak with them.",
    )
    parser.add_argument("--version", action="version", version=f"devtoken {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(subparsers)
    return parser


def dispatch(args: argparse.Namespace) -> int:
    code: int = COMMANDS[args.command].run(args)
    return code


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
    from scanner.render.escape import say

    try:  # the one error boundary: scanner.errors draws what maps to what
        return dispatch(args)
    except DevtokenError as exc:
        from scanner.render.redact import masked

        say(f"error: {masked(str(exc))}")
        return exc.exit_code
    except KeyboardInterrupt:
        say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_INTERNAL
    except Exception as exc:
        from scanner.render.redact import masked

        say(f"internal error: {type(exc).__name__}: {masked(str(exc), bare=True)}")
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
