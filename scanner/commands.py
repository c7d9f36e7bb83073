"""The CLI's commands: each turns parsed arguments into one library call and a report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scanner import store_commands
from scanner.config import (
    NARROWING,
    REPOSITORY,
    ConfigError,
    ScanConfig,
    Settings,
    load_settings,
    parse_size,
)
from scanner.config_schema import safe_text
from scanner.exits import EXIT_CLEAN, EXIT_FINDINGS, UsageError
from scanner.models import Skipped, Suppressed
from scanner.rules import load_rules
from scanner.scan import EXPLAIN_LIMIT, ScanResult, build_engine

# The config keys each kind of scan honours that can narrow it: history and staged scans
# take no excludes or file-size limit (yet), so a repository config's excludes are not
# reported as narrowing them.
_NARROWING_BY_KIND = {
    "files": NARROWING,
    "git": frozenset({"baseline"}),
    "staged": frozenset({"baseline"}),
}


def dispatch(args: argparse.Namespace) -> int:
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "scan": run_scan,
        "git": run_git,
        "baseline": run_baseline,
        "rules": list_rules,
        "report": store_commands.run_report,
        "triage": store_commands.run_triage,
        "respond": store_commands.run_respond,
    }
    return handlers[args.command](args)


def settings_of(args: argparse.Namespace) -> Settings:
    """The config files for this command, read once; a repository config's refused keys said."""
    settings: Settings | None = getattr(args, "_settings", None)
    if settings is None:
        config = getattr(args, "config", None)
        settings = load_settings(Path(config) if config else None)
        args._settings = settings
        if not getattr(args, "quiet", False):
            for line in settings.warnings():
                print(line, file=sys.stderr)
    return settings


def scan_config(args: argparse.Namespace) -> ScanConfig:
    """Flags win over the config files; exclusions from both add up."""
    settings = settings_of(args)
    rules_dir = getattr(args, "rules", None) or settings.get("rules_dir")
    kwargs: dict[str, Any] = {
        "paths": tuple(getattr(args, "paths", None) or ["."]),
        "rules_dir": Path(rules_dir) if rules_dir else None,
        "rule_ids": tuple(args.rule) if getattr(args, "rule", None) else None,
        "exclude": settings.excludes() + tuple(getattr(args, "exclude", [])),
        "scan_binary": getattr(args, "scan_binary", False) or settings.any_true("scan_binary"),
        "engine": getattr(args, "engine", "auto"),
        "keep_suppressed": EXPLAIN_LIMIT if getattr(args, "explain", False) else 0,
    }
    flag_size = getattr(args, "max_file_size", None)
    size = parse_size(flag_size) if flag_size is not None else settings.get("max_file_size")
    if size is not None:
        kwargs["max_file_size"] = size
    for bound in (
        "max_decompressed_size",
        "max_decompression_ratio",
        "max_archive_depth",
        "rule_timeout",
    ):
        if settings.get(bound) is not None:
            kwargs[bound] = settings.get(bound)
    jobs = getattr(args, "jobs", None)
    if jobs is not None:
        if jobs < 1:
            raise ConfigError("--jobs must be at least 1")
        kwargs["jobs"] = jobs
    if settings.get("baseline") and not getattr(args, "baseline", None):
        args.baseline = str(settings.get("baseline"))
        setter = settings.setter("baseline")
        args._baseline_origin = setter.origin if setter else None
    return ScanConfig(**kwargs)


def run_scan(args: argparse.Namespace) -> int:
    _check_format(args.format)
    config = scan_config(args)
    engine = build_engine(config)
    if args.staged:
        if args.paths:
            raise UsageError("--staged scans the index; give no paths")
        if args.verify or args.respond or args.revoke:
            raise UsageError(
                "--verify and --respond never run on staged changes (the hook stays offline)"
            )
        from scanner.git.staged import scan_staged

        result = scan_staged(engine, scan_binary=config.scan_binary)
        return report(args, result, hook=True, kind="staged", target=".")
    from scanner.scan import scan
    from scanner.sources.files import MissingPath

    try:
        result = scan(config, engine)
    except MissingPath as exc:
        raise UsageError(str(exc)) from None
    return report(args, result, kind="files", target=",".join(config.paths))


def run_git(args: argparse.Namespace) -> int:
    _check_format(args.format)
    from scanner.git.scan_history import GitOptions, scan_git
    from scanner.progress import Progress

    config = scan_config(args)
    engine = build_engine(config)
    if args.max_commits is not None and args.max_commits < 1:
        raise UsageError("--max-commits must be at least 1")
    narrowed = args.branch or args.revision_range or args.since_commit or args.max_commits
    if args.all_objects and narrowed:
        raise UsageError(
            "--all-objects scans the whole object store: drop --branch/--range/--since-commit/"
            "--max-commits"
        )
    options = GitOptions(
        repo=args.repo,
        branches=tuple(args.branch),
        revision_range=args.revision_range,
        since_commit=args.since_commit,
        max_commits=args.max_commits,
        include_stashes=not args.no_stashes,
        jobs=config.jobs,
        max_blob_size=parse_size(args.max_blob_size),
        scan_binary=config.scan_binary,
        all_objects=args.all_objects,
    )
    progress = Progress(enabled=False if args.quiet else None)
    try:
        result = scan_git(options, engine, on_progress=progress.update)
    finally:
        progress.close()
    return report(args, result, kind="git", target=args.repo)


def report(
    args: argparse.Namespace,
    result: ScanResult,
    hook: bool = False,
    kind: str = "files",
    target: str = ".",
) -> int:
    """Apply baseline/ignore file, bundle, verify (opt-in), render, write, warn; the exit code."""
    from scanner.bundles import make_bundles
    from scanner.render import render_scan
    from scanner.render.escape import visible
    from scanner.render.text import hook_text, summary

    known = apply_known(args, result)
    applies = _NARROWING_BY_KIND.get(kind, NARROWING)
    _say_config(args, result, known, applies, say=not (args.quiet or hook))
    result.bundles = make_bundles(result.findings)
    if getattr(args, "verify", False):
        result.verifications = verify_bundles(args, result.bundles)
    text = render_scan(result, args.format, show_secrets=args.show_secrets, explain=args.explain)
    if hook and args.format == "text":
        text = hook_text(result, args.show_secrets)
    write_report(text, args.output, private=args.show_secrets)
    if not args.quiet:
        warn_skipped(result.skipped)
        if args.format != "text" or args.output:
            print(visible(summary(result)), file=sys.stderr)
    responded = store_commands.persist_and_respond(args, result, kind, target)
    return exit_code(args, result) if responded is None else responded


def exit_code(args: argparse.Namespace, result: ScanResult) -> int:
    """--fail-on: any finding (default), only live credentials, or never."""
    policy = getattr(args, "fail_on", "any")
    if policy == "none":
        return EXIT_CLEAN
    if policy == "live":
        live = any(v.outcome.status == "live" for v in result.verifications.values())
        return EXIT_FINDINGS if live else EXIT_CLEAN
    return EXIT_FINDINGS if result.findings else EXIT_CLEAN


def verify_bundles(args: argparse.Namespace, bundles: list[Any]) -> dict[str, Any]:
    import os

    from scanner.verify.settings import settings_from
    from scanner.verify.verifier import Verifier, missing_verify_extra

    missing = missing_verify_extra()
    if missing:
        raise UsageError(missing)
    try:
        settings = settings_from(os.environ, settings_of(args).table("verify"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return Verifier(settings).verify_all(bundles)


def apply_known(args: argparse.Namespace, result: ScanResult) -> list[Suppressed]:
    """Move findings the baseline or ignore file knows into `suppressed`; those moved."""
    from scanner.baseline import IGNORE_FILE, load_baseline, load_ignore_file, split_known

    baseline = load_baseline(Path(args.baseline)) if args.baseline else set()
    ignore_path = Path(args.ignore_file) if args.ignore_file else Path(IGNORE_FILE)
    ignored = load_ignore_file(ignore_path) if args.ignore_file or ignore_path.is_file() else set()
    if not (baseline or ignored):
        return []
    result.findings, known = split_known(result.findings, baseline, ignored)
    result.suppressed.extend(known)
    return known


def _say_config(
    args: argparse.Namespace,
    result: ScanResult,
    known: list[Suppressed],
    applies: frozenset[str],
    say: bool,
) -> None:
    """stats.config, and a note for each way the scanned repository narrowed this scan."""
    from scanner.baseline import IGNORE_FILE

    settings = settings_of(args)
    by_repository: dict[str, int] = {}
    if not args.ignore_file and Path(IGNORE_FILE).is_file():
        by_repository[IGNORE_FILE] = sum(k.reason == "fingerprint in ignore file" for k in known)
    if args.baseline and getattr(args, "_baseline_origin", None) == REPOSITORY:
        by_repository[args.baseline] = sum(k.reason == "known finding in baseline" for k in known)
    result.extra_stats["config"] = {
        **settings.record(applies),
        "suppressed_by_repository": by_repository,
    }
    if not say:
        return
    lines = settings.notes(applies) + [
        f"devtoken: note: {safe_text(path)} (repository file) suppressed {count} finding(s); "
        "--explain lists them"
        for path, count in by_repository.items()
        if count
    ]
    for line in lines:
        print(line, file=sys.stderr)


def run_baseline(args: argparse.Namespace) -> int:
    from scanner.baseline import (
        BASELINE_FILE,
        BaselineEntry,
        load_baseline,
        write_baseline,
    )

    target = Path(args.baseline_file or BASELINE_FILE)
    config = scan_config(args)
    engine = build_engine(config)
    if args.history:
        from scanner.git.scan_history import GitOptions, scan_git

        result = scan_git(GitOptions(repo=(args.paths or ["."])[0], jobs=config.jobs), engine)
    else:
        from scanner.scan import scan

        result = scan(config, engine)
    entries = {BaselineEntry.of(f) for f in result.findings}
    previous: set[BaselineEntry] = set()
    if args.action == "update":
        previous = load_baseline(target)
    write_baseline(target, entries)
    if not args.quiet:
        from scanner.render.escape import say

        added, dropped = len(entries - previous), len(previous - entries)
        say(
            f"wrote {target}: {len(entries)} known finding(s)"
            + (f" ({added} new, {dropped} no longer found)" if args.action == "update" else "")
        )
    return EXIT_CLEAN


def list_rules(args: argparse.Namespace) -> int:
    from scanner.render.escape import visible

    for rule in load_rules(Path(args.rules) if args.rules else None):
        print(visible(f"{rule.id:32s} {rule.severity:9s} {rule.name}"))
    return EXIT_CLEAN


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


_WARNED = frozenset(
    {"unreadable", "partial", "missing-object", "corrupt-object", "shallow", "rule-timeout"}
    | {"decompression-limit", "archive-depth", "archive-limit", "encoding-guess"}
    | {"unsupported-compression", "encrypted"}
)


def warn_skipped(skipped: Sequence[Skipped]) -> None:
    """Inputs lost to errors get a line each; binary/symlink skips are only counted."""
    from scanner.render.escape import say

    for item in skipped:
        if item.reason in _WARNED:
            say(f"warning: {item.path}: {item.reason}: {item.detail}")


def _check_format(fmt: str) -> None:
    from scanner.render import SCAN_FORMATS

    if fmt not in SCAN_FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(SCAN_FORMATS)})")
