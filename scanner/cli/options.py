"""Options several commands share, and turning parsed arguments into an `api.Config`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scanner.render import SCAN_FORMATS

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:  # imported when a command runs, so `devtoken --help` starts fast
    from typing import Any

    from scanner.api import Config
    from scanner.config import Settings


def output_options(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output")
    out.add_argument(
        "--format",
        help=f"{', '.join(SCAN_FORMATS)} (default: the one -o FILE's extension names, else text)",
    )
    out.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the report here, not stdout (leaks.html: html; --format wins over it)",
    )
    out.add_argument("--explain", action="store_true", help="also list suppressed matches and why")
    out.add_argument("--show-secrets", action="store_true", help="print secrets in clear (careful)")
    verbosity_options(out)
    out.add_argument(
        "--verify",
        action="store_true",
        help="check with Google which credential bundles are live (network)",
    )
    known = parser.add_argument_group("known findings")
    known.add_argument(
        "--baseline", metavar="FILE", help="suppress findings listed in this baseline"
    )
    known.add_argument(
        "--ignore-file",
        metavar="FILE",
        help="fingerprints to ignore (default: the scanned repository's .devtokenignore)",
    )
    rules = parser.add_argument_group("rules and limits")
    rules.add_argument("--rules", metavar="DIR", help="rule directory (default: bundled rules)")
    rules.add_argument("--rule", action="append", metavar="ID", help="only this rule (repeatable)")
    rules.add_argument(
        "--config",
        metavar="FILE",
        help="settings file (default: the scanned repository's .devtoken.toml)",
    )
    rules.add_argument("--scan-binary", action="store_true", help="scan binary content too")
    rules.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="parallel workers (default: cores)"
    )
    rules.add_argument(
        "--engine", default="auto", choices=("auto", "hyperscan", "regex"), help=argparse.SUPPRESS
    )


def format_of(args: argparse.Namespace, choices: Sequence[str], default: str) -> str:
    """--format, else the format -o FILE's extension names (`leaks.html`: html), else
    `default`: an explicit --format wins even over a file name that says otherwise."""
    if args.format:
        return str(args.format)
    from scanner.render import format_for_path

    inferred = format_for_path(args.output, choices) if args.output else None
    return inferred or default


def verbosity_options(group: Any) -> None:
    """-q/--quiet (nothing on stderr but errors) and -v/--verbose (each warning listed)."""
    group.add_argument("-q", "--quiet", action="store_true", help="nothing on stderr but errors")
    group.add_argument(
        "-v", "--verbose", action="store_true", help="list each warning, not a count per reason"
    )


def store_options(parser: argparse.ArgumentParser) -> None:
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


def check_fail_on(args: argparse.Namespace) -> None:
    """`--fail-on live` without `--verify` checks nothing, so nothing could ever be live and
    every build would pass: refused before the scan rather than a silent exit 0."""
    if getattr(args, "fail_on", None) == "live" and not getattr(args, "verify", False):
        from scanner.exits import UsageError

        raise UsageError("--fail-on live needs --verify (unverified, no credential is ever live)")


def targets_of(args: argparse.Namespace) -> tuple[str, ...]:
    """What this command scans, so the config of *its* repository applies: the paths of
    `scan`, the repository of `git`, else the current directory (`--staged` included)."""
    if getattr(args, "staged", False):
        return (".",)
    if getattr(args, "paths", None):
        return tuple(args.paths)
    if getattr(args, "repos", None):  # `git`: its repositories (a clone URL's: its mirror)
        return tuple(args.repos)
    if isinstance(getattr(args, "repo", None), str):
        return (args.repo,)
    return (".",)


def settings_of(args: argparse.Namespace) -> Settings:
    """The config files, read once per command; a repository config's refused keys said."""
    from scanner.config import load_settings

    config = getattr(args, "config", None)
    settings = load_settings(Path(config) if config else None, targets=targets_of(args))
    if not getattr(args, "quiet", False):
        for line in settings.warnings():
            print(line, file=sys.stderr)
    return settings


# flag (its argparse dest) -> the config key it sets, so Settings.origin can name the flag
_FLAG_KEYS = {
    "rules": ("rules_dir", "--rules"),
    "exclude": ("exclude", "--exclude"),
    "scan_binary": ("scan_binary", "--scan-binary"),
    "max_file_size": ("max_file_size", "--max-file-size"),
    "baseline": ("baseline", "--baseline"),
    "store": ("store.path", "--store"),
}


def flags_set(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    """(config key, flag) for each flag given on this command line that sets a config key."""
    return tuple(
        (key, flag)
        for dest, (key, flag) in _FLAG_KEYS.items()
        if getattr(args, dest, None) not in (None, False, [])
    )


def config_of(args: argparse.Namespace) -> Config:
    """Flags win over the config files; exclusions from both add up."""
    from dataclasses import replace

    from scanner.api import Config
    from scanner.config import ConfigError, ScanConfig, parse_size
    from scanner.scan import EXPLAIN_LIMIT

    settings = replace(settings_of(args), flags=flags_set(args))
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
    return Config(
        scan=ScanConfig(**kwargs),
        settings=settings,
        baseline=getattr(args, "baseline", None),
        ignore_file=getattr(args, "ignore_file", None),
        verify=getattr(args, "verify", False),
    )
