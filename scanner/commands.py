"""The CLI's commands: each turns parsed arguments into one library call and a report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scanner import store_commands
from scanner.config import ConfigError, ScanConfig, load_config_file, parse_size
from scanner.exits import EXIT_CLEAN, EXIT_FINDINGS, UsageError
from scanner.models import Skipped
from scanner.rules import RuleError, load_rules
from scanner.scan import EXPLAIN_LIMIT, ScanResult, build_engine


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
    try:
        return handlers[args.command](args)
    except (ConfigError, RuleError) as exc:
        raise UsageError(str(exc)) from None


def scan_config(args: argparse.Namespace) -> ScanConfig:
    settings = load_config_file(Path(args.config) if args.config else None)
    rules_dir = args.rules or settings.get("rules_dir")
    kwargs: dict[str, Any] = {
        "paths": tuple(getattr(args, "paths", None) or ["."]),
        "rules_dir": Path(rules_dir) if rules_dir else None,
        "rule_ids": tuple(args.rule) if getattr(args, "rule", None) else None,
        "exclude": tuple(settings.get("exclude", [])) + tuple(getattr(args, "exclude", [])),
        "scan_binary": getattr(args, "scan_binary", False) or bool(settings.get("scan_binary")),
        "engine": getattr(args, "engine", "auto"),
        "keep_suppressed": EXPLAIN_LIMIT if getattr(args, "explain", False) else 0,
    }
    size = getattr(args, "max_file_size", None) or settings.get("max_file_size")
    if size is not None:
        kwargs["max_file_size"] = parse_size(size)
    jobs = getattr(args, "jobs", None)
    if jobs is not None:
        if jobs < 1:
            raise ConfigError("--jobs must be at least 1")
        kwargs["jobs"] = jobs
    if settings.get("baseline") and not getattr(args, "baseline", None):
        args.baseline = settings["baseline"]
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
        from scanner.git.runner import GitError
        from scanner.staged_scan import scan_staged

        try:
            result = scan_staged(engine, scan_binary=config.scan_binary)
        except GitError as exc:
            raise UsageError(str(exc)) from None
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
    from scanner.git.runner import GitError
    from scanner.git.scan_history import GitOptions, scan_git
    from scanner.progress import Progress

    config = scan_config(args)
    engine = build_engine(config)
    if args.max_commits is not None and args.max_commits < 1:
        raise UsageError("--max-commits must be at least 1")
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
    )
    progress = Progress(enabled=False if args.quiet else None)
    try:
        result = scan_git(options, engine, on_progress=progress.update)
    except GitError as exc:
        raise UsageError(str(exc)) from None
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
    from scanner.output.render import render, summary

    apply_known(args, result)
    result.bundles = make_bundles(result.findings)
    if getattr(args, "verify", False):
        result.verifications = verify_bundles(args, result.bundles)
    text = render(result, args.format, show_secrets=args.show_secrets, explain=args.explain)
    if hook and args.format == "text":
        text = _hook_text(result, args.show_secrets)
    write_report(text, args.output)
    if not args.quiet:
        warn_skipped(result.skipped)
        if args.format != "text" or args.output:
            print(summary(result), file=sys.stderr)
    store_commands.persist_and_respond(args, result, kind, target)
    return exit_code(args, result)


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
    import importlib.util
    import os

    from scanner.verify.settings import settings_from
    from scanner.verify.verifier import Verifier

    if importlib.util.find_spec("google.ads.googleads") is None:
        raise UsageError("--verify needs the Google Ads client: pip install 'devtoken[verify]'")
    settings_table = load_config_file(Path(args.config) if args.config else None).get("verify", {})
    try:
        settings = settings_from(os.environ, settings_table)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return Verifier(settings).verify_all(bundles)


def apply_known(args: argparse.Namespace, result: ScanResult) -> None:
    from scanner.baseline import (
        IGNORE_FILE,
        BaselineError,
        load_baseline,
        load_ignore_file,
        split_known,
    )

    try:
        baseline = load_baseline(Path(args.baseline)) if args.baseline else set()
        ignore_path = Path(args.ignore_file) if args.ignore_file else Path(IGNORE_FILE)
        ignored = (
            load_ignore_file(ignore_path) if args.ignore_file or ignore_path.is_file() else set()
        )
    except BaselineError as exc:
        raise UsageError(str(exc)) from None
    if baseline or ignored:
        result.findings, known = split_known(result.findings, baseline, ignored)
        result.suppressed.extend(known)


def _hook_text(result: ScanResult, show_secrets: bool) -> str:
    """What the pre-commit hook prints: one line per finding and how to allow one."""
    lines = []
    for finding in result.findings:
        secret = finding.match.secret
        shown = secret.reveal() if show_secrets else secret.redacted
        lines.append(f"{finding.provenance.path}:{finding.match.line} {finding.rule.id} {shown}")
    if lines:
        lines.append(
            "devtoken: commit blocked. Remove the secret (and reset it if it was ever pushed), "
            "or allow a false positive with a `devtoken:allow` comment on its line."
        )
    return "\n".join(lines) + ("\n" if lines else "")


def run_baseline(args: argparse.Namespace) -> int:
    from scanner.baseline import (
        BASELINE_FILE,
        BaselineEntry,
        BaselineError,
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
        try:
            previous = load_baseline(target)
        except BaselineError as exc:
            raise UsageError(str(exc)) from None
    write_baseline(target, entries)
    if not args.quiet:
        added, dropped = len(entries - previous), len(previous - entries)
        print(
            f"devtoken: wrote {target}: {len(entries)} known finding(s)"
            + (f" ({added} new, {dropped} no longer found)" if args.action == "update" else ""),
            file=sys.stderr,
        )
    return EXIT_CLEAN


def list_rules(args: argparse.Namespace) -> int:
    for rule in load_rules(Path(args.rules) if args.rules else None):
        print(f"{rule.id:32s} {rule.severity:9s} {rule.name}")
    return EXIT_CLEAN


def write_report(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None


_WARNED = ("unreadable", "partial", "missing-object", "corrupt-object", "shallow", "rule-timeout")


def warn_skipped(skipped: Sequence[Skipped]) -> None:
    """Inputs lost to errors get a line each; binary/symlink skips are only counted."""
    for item in skipped:
        if item.reason in _WARNED:
            print(f"devtoken: warning: {item.path}: {item.reason}: {item.detail}", file=sys.stderr)


def _check_format(fmt: str) -> None:
    from scanner.output import FORMATS

    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
