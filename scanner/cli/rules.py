"""`devtoken rules`: list the rules."""

from __future__ import annotations

import argparse
from pathlib import Path

from scanner.exits import EXIT_CLEAN


def add_arguments(rules: argparse.ArgumentParser) -> None:
    """The arguments of `devtoken rules` (its help line is in scanner.cli.COMMANDS)."""
    rules.add_argument("--rules", metavar="DIR", help="rule directory")


def run(args: argparse.Namespace) -> int:
    from scanner.render.escape import visible
    from scanner.rules import load_rules

    for rule in load_rules(Path(args.rules) if args.rules else None):
        print(visible(f"{rule.id:32s} {rule.severity:9s} {rule.name}"))
    return EXIT_CLEAN
