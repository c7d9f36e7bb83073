"""`devtoken report`: render the findings store (html, json, sarif, md, csv)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scanner.exits import EXIT_CLEAN, UsageError


def add_arguments(report: argparse.ArgumentParser) -> None:
    """The arguments of `devtoken report` (its help line is in scanner.cli.COMMANDS)."""
    report.add_argument(
        "--store", metavar="PATH", help="findings store (default: .devtoken-store.sqlite)"
    )
    report.add_argument(
        "--format",
        help="one or more of html,json,sarif,md,csv (default: the one -o FILE's extension "
        "names, else html)",
    )
    report.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="output file (leaks.md: md; --format wins over it; several formats: its suffix "
        "changes per format)",
    )
    report.add_argument("-q", "--quiet", action="store_true", help="nothing on stderr but errors")


def run(args: argparse.Namespace) -> int:
    from scanner import api
    from scanner.cli.options import format_of
    from scanner.render import REPORT_FORMATS, render_store
    from scanner.render.escape import say
    from scanner.render.files import write_output

    chosen = format_of(args, REPORT_FORMATS, "html")
    formats = [f.strip() for f in chosen.split(",") if f.strip()]
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown or not formats:
        raise UsageError(
            f"unknown report format(s) {', '.join(unknown)} "
            f"(choose from {', '.join(REPORT_FORMATS)})"
        )
    if len(formats) > 1 and not args.output:
        raise UsageError("several formats need -o/--output (one file per format)")
    with api.open_store(args.store) as store:
        incidents, previous = api.report_incidents(store)
        name = store.path.name
    for fmt in formats:
        text = render_store(incidents, fmt, name, previous)
        if not args.output:
            sys.stdout.write(text)
            continue
        target = Path(args.output)
        if len(formats) > 1:
            target = target.with_suffix("." + fmt)
        try:
            write_output(target, text)
        except OSError as exc:
            raise UsageError(f"cannot write {target}: {exc.strerror}") from None
        if not args.quiet:
            say(f"wrote {target} ({len(incidents)} incident(s))")
    return EXIT_CLEAN
