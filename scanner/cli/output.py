"""After a scan command's library call: review, render, write, warn, record, respond."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scanner.exits import EXIT_RESPOND_FAILED, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any

    from scanner.api import Config, Reviewed
    from scanner.models import Skipped
    from scanner.scan import ScanResult

# the skip reasons that lose input to an error, each with what it means for a reader
_WARNED: dict[str, str] = {
    "unreadable": "inputs that could not be read",
    "partial": "inputs read only in part",
    "missing-object": "objects the repository lacks, as a partial or damaged clone does",
    "corrupt-object": "objects git cannot read",
    "shallow": "a shallow clone: older history is not there",
    "rule-timeout": "a rule stopped at its time limit",
    "decompression-limit": "decompression stopped at its size or ratio limit",
    "archive-depth": "archives nested deeper than the limit",
    "archive-limit": "archive members over the size limit",
    "encoding-guess": "text decoded by a guessed encoding",
    "unsupported-compression": "compressed data not decompressed",
    "encrypted": "encrypted archive members",
}


def check_format(fmt: str, show_secrets: bool = False, explain: bool = False) -> None:
    """Before the scan: a format the registry has, and no option that format cannot honour
    (a report format, html/md/csv, holds no clear secret and lists no suppressed match)."""
    from scanner.render import REGISTRY, SCAN_FORMATS, renders_result

    if fmt not in SCAN_FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(SCAN_FORMATS)})")
    flag = "--show-secrets" if show_secrets else "--explain" if explain else None
    if flag and not renders_result(fmt):
        raw = ", ".join(name for name in REGISTRY if renders_result(name))
        raise UsageError(f"{flag} does not apply to --format {fmt} (only to {raw})")


def finish(
    args: argparse.Namespace,
    config: Config,
    result: ScanResult,
    kind: str,
    target: str,
    hook: bool = False,
) -> int:
    """api.review -> render -> write -> warn -> api.record/respond (when asked); the exit code."""
    from scanner import api
    from scanner.render import render_scan
    from scanner.render.escape import visible
    from scanner.render.text import hook_text, summary

    reviewed = api.review(result, config, kind, target)
    if not (args.quiet or hook):
        for line in reviewed.notes:
            print(line, file=sys.stderr)
    text = render_scan(result, args.format, show_secrets=args.show_secrets, explain=args.explain)
    if hook and args.format == "text":
        text = hook_text(result, args.show_secrets)
    write_report(text, args.output, private=args.show_secrets)
    if not args.quiet:
        warn_skipped(result.skipped, getattr(args, "verbose", False))
        if args.format != "text" or args.output:
            print(visible(summary(result)), file=sys.stderr)
    actions = ",".join(filter(None, [args.respond, "revoke" if args.revoke else None]))
    if args.store or actions:
        with api.open_store(args.store, create=True) as store:
            api.record(reviewed, store)
            if actions and not respond(
                args, store, config, actions, api.incidents_of(store, reviewed), reviewed
            ):
                return EXIT_RESPOND_FAILED
    return api.exit_code(result, args.fail_on)


def respond(
    args: argparse.Namespace,
    store: Any,
    config: Config,
    actions: str,
    incidents: list[Any],
    reviewed: Reviewed | None = None,
) -> bool:
    """api.respond and print what the responders did; False when every delivery failed."""
    from scanner import api
    from scanner.render.escape import say

    outcome = api.respond(
        store,
        incidents,
        actions,
        config.settings,
        send=args.send,
        only_live=args.only_live,
        secrets=api.revocable_secrets(reviewed) if reviewed else {},
        confirm=lambda question: confirm(question, args.yes),
    )
    for line in outcome.failures if getattr(args, "quiet", False) else outcome.log:
        say(line)
    if outcome.all_failed:
        say(
            f"error: all {outcome.failed} delivery(ies) failed "
            f"(exit {EXIT_RESPOND_FAILED}); they are retried by the next run"
        )
    return not outcome.all_failed


def confirm(question: str, yes: bool) -> bool:
    """Ask on a terminal before an irreversible action (revoke); never without one."""
    if yes:
        return True
    if not sys.stdin or not sys.stdin.isatty():
        return False
    from scanner.render.escape import visible

    return input(f"devtoken: {visible(question)} [y/N] ").strip().lower() in ("y", "yes")


def write_report(text: str, output: str | None, private: bool = False) -> None:
    """stdout, or FILE (created 0600 when it holds secrets in clear: `private`)."""
    from scanner.render.files import write_output

    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        write_output(Path(output), text, private)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None


def warn_skipped(skipped: Sequence[Skipped], verbose: bool = False) -> None:
    """Inputs lost to errors: one line per reason with a count (a reason seen once, or
    every one with `verbose`, is its own line); binary/symlink skips are only counted.
    JSON lists each in `stats.skipped` whatever is printed."""
    from scanner.render.escape import say

    for line in skipped_warnings(skipped, verbose):
        say(line)


def skipped_warnings(skipped: Sequence[Skipped], verbose: bool = False) -> list[str]:
    """The warning lines `warn_skipped` says, in the order reasons were first met."""
    by_reason: dict[str, list[Skipped]] = {}
    for item in skipped:
        if item.reason in _WARNED:
            by_reason.setdefault(item.reason, []).append(item)
    lines = []
    for reason, items in by_reason.items():
        if verbose or len(items) == 1:
            lines += [f"warning: {i.path}: {i.reason}: {i.detail}" for i in items]
        else:
            lines.append(
                f"warning: {len(items):,} {reason} ({_WARNED[reason]}), first {items[0].path}; "
                "--verbose or --format json lists them"
            )
    return lines
