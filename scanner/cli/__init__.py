"""The `devtoken` command line: arguments -> config -> library call -> render -> exit code.

Exit codes: 0 clean, 1 findings, 2 usage/config error, 3 internal error,
130 interrupted. Each command is a module here, named in COMMANDS with its help line:
`add_arguments(parser)` (which may also set `parser.description`) and `run(args)`; the
pipeline lives in scanner.api. A command's module is imported only when that command is
parsed, and heavy modules only inside `run`, so that `devtoken --help` and the pre-commit
hook (`scan --staged`) import no more than they use.
"""

from __future__ import annotations

from scanner.cli import startup  # first: it prepares the interpreter when imported

# isort: split
import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from scanner import __version__
from scanner.errors import DevtokenError
from scanner.exits import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any

# command: (its module, the line `devtoken --help` shows), in the order help lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("scanner.cli.scan", "scan files, directories, logs, stdin or staged changes"),
    "git": ("scanner.cli.git", "scan a repository's whole history, every blob once"),
    "org": ("scanner.cli.org", "scan an organisation's repositories, only what is new"),
    "baseline": ("scanner.cli.baseline", "record current findings as known"),
    "report": ("scanner.cli.report", "render the findings store: html, json, sarif, md, csv"),
    "triage": ("scanner.cli.triage", "set a finding's triage status in the store"),
    "respond": (
        "scanner.cli.respond",
        "notify about incidents in the store (dry run unless --send)",
    ),
    "rules": ("scanner.cli.rules", "list the rules"),
}


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, with the terminal width found as shutil.get_terminal_size finds
    it but without importing shutil, which loads bz2 and lzma: argparse builds a formatter
    for every add_argument, so the pre-commit hook would pay for them on every commit."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = _terminal_columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    """$COLUMNS, else the width of the terminal on stdout, else 80 (shutil's rule)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _CommandParser(argparse.ArgumentParser):
    """A command's parser that asks its module for the arguments only when it is used."""

    def __init__(self, *args: Any, command_module: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._command_module = command_module

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        """Its arguments, all of them: an argument it does not know is its own error (its
        usage, one line, exit 2), not one argparse hands back to `devtoken`'s usage."""
        if self._command_module:
            module, self._command_module = self._command_module, ""
            importlib.import_module(module).add_arguments(self)
        namespace, extras = super().parse_known_args(*args, **kwargs)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The `devtoken` parser; with `only` (a command's name), that command's parser alone.

    A command's parser costs ~0.5 ms to build (argparse looks up translations for
    its groups and help): the pre-commit hook, which names its command first,
    pays for one, not eight. Without `only` (`devtoken --help`, an unknown
    command) every command is there.
    """
    parser = argparse.ArgumentParser(
        prog="devtoken",
        formatter_class=_HelpFormatter,
        allow_abbrev=False,
        description="Find leaked Google Ads API developer tokens and the OAuth credentials "
        "that leak with them.",
    )
    parser.add_argument("--version", action="version", version=f"devtoken {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_CommandParser
    )
    for name, (module, line) in COMMANDS.items():
        if only is not None and name != only:
            continue
        subparsers.add_parser(  # no abbreviation: `--since` must never mean `--since-commit`
            name,
            help=line,
            command_module=module,
            formatter_class=_HelpFormatter,
            allow_abbrev=False,
        )
    return parser


def dispatch(args: argparse.Namespace) -> int:
    code: int = importlib.import_module(COMMANDS[args.command][0]).run(args)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run `devtoken argv` (default: the command line) and return its exit code."""
    try:
        return _main(argv)
    finally:
        startup.finish()


def console() -> int:
    """`devtoken` as a program (the console script, `python -m scanner`): `main()`, then the
    way out without the interpreter's final garbage collections (scanner.cli.startup)."""
    code = main()
    startup.leaving()
    return code


def _main(argv: Sequence[str] | None) -> int:
    _tolerant_streams()
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(given[0] if given and given[0] in COMMANDS else None)
    try:
        args = parser.parse_args(given)
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
