"""`devtoken scan`: files, directories, logs, stdin, or what is staged (the hook)."""

from __future__ import annotations

import argparse
import sys

from scanner.cli.options import output_options, store_options
from scanner.exits import UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from scanner.cli.progress import ProgressBar


def add_arguments(scan: argparse.ArgumentParser) -> None:
    """The arguments of `devtoken scan` (its help line is in scanner.cli.COMMANDS)."""
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
    output_options(scan)
    store_options(scan)


def run(args: argparse.Namespace) -> int:
    from scanner import api
    from scanner.cli.options import check_fail_on, config_of, format_of
    from scanner.cli.output import check_format, finish
    from scanner.render import SCAN_FORMATS

    args.format = format_of(args, SCAN_FORMATS, "text")
    check_format(args.format, args.show_secrets, args.explain)
    check_fail_on(args)
    config = config_of(args)
    if args.staged:
        if args.paths:
            raise UsageError("--staged scans the index; give no paths")
        if args.verify or args.respond or args.revoke:
            raise UsageError(
                "--verify and --respond never run on staged changes (the hook stays offline)"
            )
        result = api.scan_staged(config)
        return finish(args, config, result, "staged", ".", hook=True)
    bar = progress_bar(args.quiet)
    try:
        result = api.scan_paths(config, on_progress=bar)
    finally:
        if bar is not None:
            bar.close()
    return finish(args, config, result, "files", ",".join(config.scan.paths))


def progress_bar(quiet: bool) -> ProgressBar | None:
    """A progress bar on stderr when it is a terminal (and not --quiet); None elsewhere, so
    no progress code is even imported then."""
    if quiet or not sys.stderr.isatty():
        return None
    from scanner.cli.progress import ProgressBar

    return ProgressBar(sys.stderr, enabled=True)
