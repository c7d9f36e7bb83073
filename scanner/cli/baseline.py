"""`devtoken baseline create|update`: record the current findings as known."""

from __future__ import annotations

import argparse
from pathlib import Path

from scanner.exits import EXIT_CLEAN


def add_arguments(baseline: argparse.ArgumentParser) -> None:
    """The arguments of `devtoken baseline` (its help line is in scanner.cli.COMMANDS)."""
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
    baseline.add_argument("-q", "--quiet", action="store_true", help="nothing on stderr but errors")


def run(args: argparse.Namespace) -> int:
    from scanner import api
    from scanner.baseline import BASELINE_FILE
    from scanner.cli.options import config_of

    target = Path(args.baseline_file or BASELINE_FILE)
    config = config_of(args)
    if args.history:  # what `devtoken git` with the same config reports, binary blobs too
        result = api.scan_history(config, (args.paths or ["."])[0], max_blob_size=256 << 20)
    else:
        result = api.scan_paths(config)
    entries, previous = api.update_baseline(result, target, update=args.action == "update")
    if not args.quiet:
        from scanner.render.escape import say

        added, dropped = len(entries - previous), len(previous - entries)
        say(
            f"wrote {target}: {len(entries)} known finding(s)"
            + (f" ({added} new, {dropped} no longer found)" if args.action == "update" else "")
        )
    return EXIT_CLEAN
