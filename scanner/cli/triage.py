"""`devtoken triage`: set a finding's triage status in the store."""

from __future__ import annotations

import argparse
import sys

from scanner.exits import EXIT_CLEAN, UsageError


def add_arguments(triage: argparse.ArgumentParser) -> None:
    """The arguments of `devtoken triage` (its help line is in scanner.cli.COMMANDS)."""
    triage.add_argument("fingerprint", help="fingerprint (or its first 8+ characters)")
    triage.add_argument(
        "--status", required=True, choices=("open", "acknowledged", "resolved", "false_positive")
    )
    triage.add_argument("--note", help="why (kept in the store)")
    triage.add_argument("--store", metavar="PATH")
    triage.add_argument("-q", "--quiet", action="store_true", help="nothing on stderr but errors")


def run(args: argparse.Namespace) -> int:
    from scanner import api

    with api.open_store(args.store) as store:
        changed = store.set_status(args.fingerprint, args.status, args.note)
    if changed == 0:
        raise UsageError(
            f"no finding with a fingerprint starting {args.fingerprint!r} in the store"
        )
    if not args.quiet:
        print(f"devtoken: {changed} finding(s) marked {args.status}", file=sys.stderr)
    return EXIT_CLEAN
