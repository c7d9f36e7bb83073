"""`devtoken respond`: notify about the store's incidents (dry run unless --send)."""

from __future__ import annotations

import argparse

from scanner.exits import EXIT_CLEAN, EXIT_RESPOND_FAILED


def add_arguments(respond: argparse.ArgumentParser) -> None:
    """The arguments of `devtoken respond` (its help line is in scanner.cli.COMMANDS)."""
    respond.add_argument("--store", metavar="PATH")
    respond.add_argument(
        "--respond",
        "--action",
        dest="respond",
        required=True,
        metavar="ACTIONS",
        help="webhook,email,ticket",
    )
    respond.add_argument("--send", action="store_true")
    respond.add_argument("--only-live", action="store_true")
    respond.add_argument("--yes", action="store_true")
    respond.add_argument("--config", metavar="FILE")
    respond.add_argument(
        "-q", "--quiet", action="store_true", help="nothing on stderr but errors (failures)"
    )


def run(args: argparse.Namespace) -> int:
    from scanner import api
    from scanner.cli.options import settings_of
    from scanner.cli.output import respond

    config = api.Config(settings=settings_of(args))
    with api.open_store(args.store) as store:
        delivered = respond(args, store, config, args.respond, api.incidents_of(store))
    return EXIT_CLEAN if delivered else EXIT_RESPOND_FAILED
