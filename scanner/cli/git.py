"""`devtoken git`: a repository's whole history, every blob once."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from scanner.cli.options import output_options, store_options


def add_arguments(git: argparse.ArgumentParser) -> None:
    """The arguments of `devtoken git` (its help line is in scanner.cli.COMMANDS)."""
    git.add_argument(
        "repos",
        nargs="*",
        metavar="REPO",
        help="repositories, bare mirrors or clone URLs (https://, ssh://, git://, file://, "
        "git@host:org/x.git), scanned into one report (default: .)",
    )
    git.add_argument(
        "--branch",
        action="append",
        default=[],
        metavar="REF",
        help="only history reachable from REF (repeatable; default: every ref)",
    )
    git.add_argument("--since-commit", metavar="SHA", help="only commits after SHA")
    git.add_argument(
        "--since",
        metavar="DATE",
        help="only commits dated DATE or later (committer date; YYYY-MM-DD or ISO 8601, "
        "UTC unless it has a zone); a secret only earlier commits added is not reported",
    )
    git.add_argument(
        "--until",
        metavar="DATE",
        help="only commits dated DATE or earlier (a bare date: through its last second)",
    )
    git.add_argument("--range", dest="revision_range", metavar="A..B", help="only this range")
    git.add_argument("--max-commits", type=int, metavar="N", help="at most N commits")
    git.add_argument("--no-stashes", action="store_true", help="leave stash entries out")
    git.add_argument(
        "--all-objects",
        action="store_true",
        help=(
            "also scan what no ref reaches (amended commits, deleted branches, "
            "dangling blobs, deleted tags' objects)"
        ),
    )
    git.add_argument(
        "--max-blob-size",
        metavar="SIZE",
        default="256MiB",
        help="skip blobs larger than SIZE (default 256MiB; 0: no limit)",
    )
    git.add_argument(
        "--cache",
        metavar="DIR",
        help="where a clone URL is mirrored (default: the org scan's: [org] mirrors, else "
        "$XDG_CACHE_HOME/devtoken/mirrors)",
    )
    output_options(git)
    store_options(git)


def run(args: argparse.Namespace) -> int:
    from scanner import api
    from scanner.cli.options import check_fail_on, config_of, format_of
    from scanner.cli.output import check_format, finish
    from scanner.cli.scan import progress_bar
    from scanner.render import SCAN_FORMATS

    args.format = format_of(args, SCAN_FORMATS, "text")
    check_format(args.format, args.show_secrets, args.explain)
    check_fail_on(args)
    entries = args.repos or ["."]
    cache = Path(args.cache).expanduser() if args.cache else None
    args.repos = [target.path for target in api.git_targets(entries, cache)]  # whose config
    config = config_of(args)  # applies: a URL's mirror has none
    cache = cache or _org_mirrors(config)
    targets = api.git_targets(entries, cache)
    api.prepare_git_targets(targets, cache)  # every input checked (URLs mirrored) first
    bar = progress_bar(args.quiet)
    try:
        result = api.scan_histories(
            config,
            targets,
            branches=args.branch,
            revision_range=args.revision_range,
            since_commit=args.since_commit,
            since=args.since,
            until=args.until,
            max_commits=args.max_commits,
            include_stashes=not args.no_stashes,
            all_objects=args.all_objects,
            max_blob_size=args.max_blob_size,
            on_progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()
    shown = targets[0].path if len(targets) == 1 else ",".join(t.given for t in targets)
    return finish(args, config, result, "git", shown)


def _org_mirrors(config: Any) -> Path | None:
    """The org scan's cache when the user config or --config FILE moves it (`[org]
    mirrors`); a repository's own config never chooses where anything is written."""
    from scanner.config import REPOSITORY

    table, setter = config.settings.get("org"), config.settings.setter("org")
    if not isinstance(table, dict) or setter is None or setter.origin == REPOSITORY:
        return None
    mirrors = table.get("mirrors")
    return Path(mirrors).expanduser() if isinstance(mirrors, str) else None
