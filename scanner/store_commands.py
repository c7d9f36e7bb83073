"""CLI commands around the store: record a scan, report, triage, respond."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scanner.exits import EXIT_CLEAN, EXIT_RESPOND_FAILED, UsageError


@contextmanager
def _open_store(args: argparse.Namespace, create: bool = False) -> Iterator[Any]:
    """The store; a store failure (missing, locked, damaged) is a StoreError, exit 2.

    Only a scan creates a store: a command that reads one needs it to exist, so a typo in
    --store is an error rather than an empty report.
    """
    from scanner.store.db import Store, store_path

    with Store(store_path(getattr(args, "store", None)), create=create) as store:
        yield store


def persist_and_respond(
    args: argparse.Namespace, result: Any, kind: str, target: str
) -> int | None:
    """After a scan: record it in the store (when asked) and run the responders (when asked).

    Returns EXIT_RESPOND_FAILED when every delivery failed, else None (the scan's own code).
    """
    if getattr(args, "revoke", False):
        args.respond = ",".join(filter(None, [args.respond, "revoke"]))
    wants_store = bool(getattr(args, "store", None)) or bool(getattr(args, "respond", None))
    if not wants_store:
        return None
    with _open_store(args, create=True) as store:
        store.record(result, kind, target)
        if not args.respond:
            return None
        from scanner.render.incidents import load_incidents

        ids = {bundle.id for bundle in result.bundles}
        incidents = [i for i in load_incidents(store) if i.id in ids]
        from scanner.rules import REVOCABLE_ROLES

        # only what a responder may send on (revoke), chosen by each finding's rule
        secrets = {
            f.fingerprint: f.match.secret.reveal()
            for f in result.findings
            if f.rule.role in REVOCABLE_ROLES
        }
        failed = _run_responders(args, store, incidents, secrets)
    return EXIT_RESPOND_FAILED if failed else None


def _run_responders(
    args: argparse.Namespace, store: Any, incidents: list[Any], secrets: dict[str, str]
) -> bool:
    """Run them and print what they did; True when every delivery this run failed."""
    from scanner.commands import settings_of
    from scanner.respond.run import parse_actions, respond
    from scanner.respond.settings import respond_settings

    try:
        actions = parse_actions(args.respond)
        settings = respond_settings(os.environ, settings_of(args).table("respond"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    outcome = respond(
        store,
        incidents,
        actions,
        settings,
        send=args.send,
        only_live=args.only_live,
        secrets=secrets,
        confirm=lambda question: _confirm(question, args.yes),
    )
    from scanner.render.escape import say

    for line in outcome.log:
        say(line)
    if outcome.all_failed:
        say(
            f"error: all {outcome.failed} delivery(ies) failed "
            f"(exit {EXIT_RESPOND_FAILED}); they are retried by the next run"
        )
    return outcome.all_failed


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin or not sys.stdin.isatty():
        return False
    from scanner.render.escape import visible

    return input(f"devtoken: {visible(question)} [y/N] ").strip().lower() in ("y", "yes")


def run_report(args: argparse.Namespace) -> int:
    from scanner.render import REPORT_FORMATS, render_store
    from scanner.render.escape import say
    from scanner.render.files import write_output
    from scanner.render.incidents import load_incidents

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown or not formats:
        raise UsageError(
            f"unknown report format(s) {', '.join(unknown)} "
            f"(choose from {', '.join(REPORT_FORMATS)})"
        )
    if len(formats) > 1 and not args.output:
        raise UsageError("several formats need -o/--output (one file per format)")
    with _open_store(args) as store:
        incidents = load_incidents(store)
        name = store.path.name
    for fmt in formats:
        text = render_store(incidents, fmt, name)
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
        say(f"wrote {target} ({len(incidents)} incident(s))")
    return EXIT_CLEAN


def run_triage(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        changed = store.set_status(args.fingerprint, args.status, args.note)
    if changed == 0:
        raise UsageError(
            f"no finding with a fingerprint starting {args.fingerprint!r} in the store"
        )
    print(f"devtoken: {changed} finding(s) marked {args.status}", file=sys.stderr)
    return EXIT_CLEAN


def run_respond(args: argparse.Namespace) -> int:
    from scanner.render.incidents import load_incidents

    with _open_store(args) as store:
        failed = _run_responders(args, store, load_incidents(store), secrets={})
    return EXIT_RESPOND_FAILED if failed else EXIT_CLEAN


def add_store_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("store and responders")
    group.add_argument(
        "--store",
        metavar="PATH",
        help="record this scan in the findings store (default path: .devtoken-store.sqlite)",
    )
    group.add_argument(
        "--respond",
        metavar="ACTIONS",
        help="responders for the incidents: webhook,email,ticket,revoke (dry run unless --send)",
    )
    group.add_argument(
        "--send", action="store_true", help="really send (responders are a dry run without it)"
    )
    group.add_argument(
        "--only-live", action="store_true", help="respond only to incidents verified live"
    )
    group.add_argument(
        "--revoke",
        action="store_true",
        help="revoke leaked refresh/access tokens (same as --respond revoke)",
    )
    group.add_argument("--yes", action="store_true", help="do not ask before revoking tokens")
    group.add_argument(
        "--fail-on",
        choices=("any", "live", "none"),
        default="any",
        help="exit 1 on any finding (default), only on live credentials, or never",
    )


def add_commands(commands: Any) -> None:
    report = commands.add_parser(
        "report", help="render the findings store: html, json, sarif, md, csv"
    )
    report.add_argument(
        "--store", metavar="PATH", help="findings store (default: .devtoken-store.sqlite)"
    )
    report.add_argument("--format", default="html", help="one or more of html,json,sarif,md,csv")
    report.add_argument(
        "-o", "--output", metavar="FILE", help="output file (its suffix changes per format)"
    )
    triage = commands.add_parser("triage", help="set a finding's triage status in the store")
    triage.add_argument("fingerprint", help="fingerprint (or its first 8+ characters)")
    triage.add_argument(
        "--status", required=True, choices=("open", "acknowledged", "resolved", "false_positive")
    )
    triage.add_argument("--note", help="why (kept in the store)")
    triage.add_argument("--store", metavar="PATH")
    respond = commands.add_parser(
        "respond", help="notify about incidents in the store (dry run unless --send)"
    )
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
