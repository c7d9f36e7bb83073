"""`devtoken org`: every repository of organisations, users, groups or a list, incrementally.

Sources come from the flags, or (when no source flag is given) from `--config FILE` (an
org.toml, or a devtoken config with an `[org]` table) or the user config's `[org]` table.
Tokens come from the environment only. Exit codes: 1 findings (`--fail-on new`: only new
ones), 0 clean, 2 usage or config error, 4 with `--fail-on-error` when a repository failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from scanner.cli.options import verbosity_options
from scanner.exits import EXIT_RESPOND_FAILED, UsageError

if TYPE_CHECKING:
    from scanner.api import Config
    from scanner.org.config import OrgConfig
    from scanner.org.run import OrgEvent
    from scanner.org.sources import SourceSpec

ORG_EXTRA = "pip install 'devtoken[org]'"
_FAIL_ON = ("any", "new", "live", "none")


def add_arguments(org: argparse.ArgumentParser) -> None:
    """The arguments of `devtoken org` (its help line is in scanner.cli.COMMANDS)."""
    org.description = (
        "Mirror every repository of the sources, scan only the blobs no earlier run scanned "
        "under the same rules, and report every open finding of them."
    )
    sources = org.add_argument_group("sources (flags replace the config's sources)")
    sources.add_argument(
        "--config", metavar="FILE", help="org.toml, or a devtoken config with an [org] table"
    )
    sources.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="URL_OR_PATH",
        help="a clone URL (file://, https://, ssh://, git://) or local path (repeatable)",
    )
    sources.add_argument(
        "--github-org", action="append", default=[], metavar="NAME", help="a GitHub organisation"
    )
    sources.add_argument(
        "--github-user", action="append", default=[], metavar="NAME", help="a GitHub user"
    )
    sources.add_argument(
        "--gitlab-group",
        action="append",
        default=[],
        metavar="PATH",
        help="a GitLab group, with its subgroups (tokens: GITHUB_TOKEN, GITLAB_TOKEN)",
    )
    where = org.add_argument_group("store, mirrors and workers")
    where.add_argument(
        "--store", metavar="PATH", help="the findings store (default: .devtoken-store.sqlite)"
    )
    where.add_argument(
        "--cache", metavar="DIR", help="mirror cache (default: $XDG_CACHE_HOME/devtoken/mirrors)"
    )
    where.add_argument("-j", "--jobs", type=int, metavar="N", help="worker processes (default 4)")
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the tasks on this Dask scheduler (tcp://HOST:8786; trusted network only)",
    )
    where.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="per repository git time (default 900)"
    )
    rules = org.add_argument_group("rules and known findings")
    rules.add_argument("--rules", metavar="DIR", help="rule directory (default: bundled rules)")
    rules.add_argument("--rule", action="append", metavar="ID", help="only this rule (repeatable)")
    rules.add_argument("--baseline", metavar="FILE", help="suppress findings in this baseline")
    rules.add_argument("--ignore-file", metavar="FILE", help="fingerprints to ignore")
    rules.add_argument("--scan-binary", action="store_true", help="scan binary blobs too")
    rules.add_argument(
        "--max-blob-size", metavar="SIZE", default="256MiB", help="skip larger blobs (256MiB)"
    )
    rules.add_argument(
        "--engine", default="auto", choices=("auto", "hyperscan", "regex"), help=argparse.SUPPRESS
    )
    act = org.add_argument_group("verification and responders")
    act.add_argument("--verify", action="store_true", help="check each incident once with Google")
    act.add_argument(
        "--respond",
        metavar="ACTIONS",
        help="webhook,email,ticket,revoke for new or newly-live incidents (dry run unless --send)",
    )
    act.add_argument("--send", action="store_true", help="really send (else a dry run)")
    act.add_argument("--only-live", action="store_true", help="respond only to live incidents")
    act.add_argument("--revoke", action="store_true", help="same as --respond revoke")
    act.add_argument("--yes", action="store_true", help="do not ask before revoking tokens")
    out = org.add_argument_group("output")
    out.add_argument("--format", default="text", help="text, json, sarif or html (default: text)")
    out.add_argument("-o", "--output", metavar="FILE", help="write the report here, not stdout")
    out.add_argument(
        "--per-repository",
        metavar="DIR",
        help="also write DIR/<repository>.json and .sarif for each repository (code scanning)",
    )
    out.add_argument(
        "--fail-on",
        choices=_FAIL_ON,
        default="any",
        help="exit 1 on any open finding (default), only new ones, only live ones, or never",
    )
    out.add_argument(
        "--fail-on-error",
        action="store_true",
        help="exit 4 when a repository (or a source) could not be scanned",
    )
    verbosity_options(out)


def run(args: argparse.Namespace) -> int:
    from scanner import api
    from scanner.cli.output import confirm, warn_skipped, write_report
    from scanner.config import parse_size
    from scanner.org import output
    from scanner.org.executor import make_executor
    from scanner.org.run import OrgOptions, run_org
    from scanner.render.escape import say, visible
    from scanner.rules import load_rules, ruleset_key

    if args.format not in output.FORMATS:
        raise UsageError(
            f"unknown format {args.format!r} (choose from {', '.join(output.FORMATS)})"
        )
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    config, org = _configs(args)
    sources = _sources(args) or (org.sources if org else ())
    if not sources:
        raise UsageError(
            "no repositories to scan: give --repo, --github-org, --github-user or "
            "--gitlab-group, or --config FILE (or an [org] table in the user config)"
        )
    from scanner.org.specs import missing_client

    for spec in sources:
        missing = missing_client(spec)
        if missing:
            raise UsageError(missing)
    rules = load_rules(config.scan.rules_dir, config.scan.rule_ids)
    actions = ",".join(filter(None, [args.respond, "revoke" if args.revoke else None]))
    options = OrgOptions(
        sources=tuple(sources),
        config=config,
        rules=rules,
        ruleset=ruleset_key(rules),
        cache=Path(args.cache).expanduser() if args.cache else _default_cache(org),
        filters=org.filters if org else _no_filters(),
        timeout=args.timeout or (org.timeout if org else 900.0),
        rate_limit_budget=org.rate_limit_budget if org else 3600.0,
        respond=actions,
        send=args.send,
        only_live=args.only_live,
        confirm=lambda question: confirm(question, args.yes),
        max_blob_size=parse_size(args.max_blob_size),
    )
    jobs = args.jobs or (org.jobs if org else 4)
    progress = OrgProgress(enabled=not args.quiet)
    with api.open_store(args.store, create=True) as store:
        try:
            with make_executor(jobs, args.scheduler) as executor:
                outcome = run_org(options, store, executor, progress)
        finally:
            progress.close()
        report = output.build_report(outcome, store, rules)
        text = output.render(report, args.format, store.path.name)
    write_report(text, args.output)
    if args.per_repository:
        _write_per_repository(Path(args.per_repository), output.per_repository(report))
    # what the responders did; with --quiet only the deliveries that failed
    for line in outcome.respond_failures if args.quiet else outcome.respond_log:
        say(line)
    if not args.quiet:
        warn_skipped(output.skipped_blobs(report), args.verbose)
    if not args.quiet and (args.format != "text" or args.output):
        print(visible(output.summary(report)), file=sys.stderr)
    if outcome.respond_all_failed and args.send:
        return EXIT_RESPOND_FAILED
    return output.exit_code(report, args.fail_on, args.fail_on_error)


def _write_per_repository(directory: Path, files: dict[str, tuple[str, str]]) -> None:
    """DIR/<repository>.json and .sarif for each repository of the run."""
    from scanner.render.files import write_output

    try:
        directory.mkdir(parents=True, exist_ok=True)
        for stem, (json_text, sarif_text) in files.items():
            write_output(directory / f"{stem}.json", json_text, False)
            write_output(directory / f"{stem}.sarif", sarif_text, False)
    except OSError as exc:
        raise UsageError(f"cannot write {directory}: {exc.strerror or exc}") from None


def _configs(args: argparse.Namespace) -> tuple[Config, OrgConfig | None]:
    """The scan settings and the org settings: `--config FILE` is a devtoken config when it
    has an `[org]` table (or no org keys at all), else an org.toml of its own.

    The current directory's `.devtoken.toml` is no scanned repository's: it never applies."""
    config, org = _read_configs(args)
    from scanner.config import REPOSITORY

    trusted = tuple(f for f in config.settings.files if f.origin != REPOSITORY)
    return dataclasses.replace(
        config, settings=dataclasses.replace(config.settings, files=trusted)
    ), org


def _read_configs(args: argparse.Namespace) -> tuple[Config, OrgConfig | None]:
    from scanner.cli.options import config_of

    if not args.config:
        config = config_of(args)
        table = config.settings.get("org")
        setter = config.settings.setter("org")
        org = _parse_org(table, str(setter.path) if setter else "[org]") if table else None
        return config, org
    path = Path(args.config)
    data = _read_toml(path)
    if "org" in data or not (set(data) & _ORG_KEYS):
        config = config_of(args)
        table = config.settings.get("org")
        return config, _parse_org(table, str(path)) if table else None
    plain = argparse.Namespace(**{**vars(args), "config": None})
    return config_of(plain), _parse_org(data, str(path))


_ORG_KEYS = frozenset({"github", "gitlab", "listed", "mirrors", "filters", "rate_limit_budget"})


def _parse_org(table: Any, origin: str) -> OrgConfig:
    try:
        from scanner.org.config import parse_org_config
    except ModuleNotFoundError as exc:  # the GitHub/GitLab clients are the [org] extra
        raise UsageError(f"the org scan's sources need {exc.name}: {ORG_EXTRA}") from None
    if not isinstance(table, dict):
        raise UsageError(f"{origin}: [org] must be a table")
    return parse_org_config(table, origin)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    from scanner.config import ConfigError

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _sources(args: argparse.Namespace) -> list[SourceSpec]:
    """The sources the flags name; each needs its client library (the [org] extra)."""
    from scanner.org.listed import ListedSource

    specs: list[SourceSpec] = []
    if args.repo:
        specs.append(ListedSource(tuple(args.repo)))
    if args.github_org or args.github_user:
        _require("github", "--github-org/--github-user")
        from scanner.org.github_source import GitHubSource

        specs += [GitHubSource(owner=name, kind="org") for name in args.github_org]
        specs += [GitHubSource(owner=name, kind="user") for name in args.github_user]
    if args.gitlab_group:
        _require("gitlab", "--gitlab-group")
        from scanner.org.gitlab_source import GitLabSource

        specs += [GitLabSource(group=path) for path in args.gitlab_group]
    return specs


def _require(module: str, flag: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise UsageError(f"{flag} needs the {module} client library: {ORG_EXTRA}")


def _default_cache(org: OrgConfig | None) -> Path:
    from scanner.org.mirror import default_root

    return org.mirrors if org else default_root()


def _no_filters() -> Any:
    from scanner.org.repositories import Filters

    return Filters()


class OrgProgress:
    """Repositories done/total, the current phase and an ETA on a terminal (one redrawn
    line); elsewhere one plain log line per repository finished; nothing when disabled."""

    _LOGGED = frozenset(
        {"listing", "recorded", "unchanged", "failed", "moved", "verify", "respond"}
    )

    def __init__(self, enabled: bool = True, stream: TextIO | None = None) -> None:
        from scanner.cli.progress import Progress

        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.line = Progress(self.stream, enabled=self.tty)
        self.started = time.monotonic()

    def __call__(self, event: OrgEvent) -> None:
        if not self.enabled:
            return
        if self.tty:
            self.line.update(self.status(event, time.monotonic() - self.started))
            return
        if event.phase in self._LOGGED:
            from scanner.render.escape import say

            where = f" {event.repository}" if event.repository else ""
            said = f": {event.message}" if event.message else ""
            say(f"org: [{event.done}/{event.total}] {event.phase}{where}{said}", self.stream)

    @staticmethod
    def status(event: OrgEvent, elapsed: float) -> str:
        eta = "?"
        if event.done and event.total >= event.done:
            eta = f"{elapsed / event.done * (event.total - event.done):.0f}s"
        where = f" {event.repository}" if event.repository else ""
        return f"{event.done}/{event.total} repositories, {event.phase}{where}, ETA {eta}"

    def close(self) -> None:
        self.line.close()
