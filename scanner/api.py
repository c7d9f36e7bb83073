"""The library pipeline: scan -> review (known findings, bundles, verify) -> record -> respond.

What the CLI and the org-wide scan both call, with plain inputs (a frozen `Config`, paths)
and plain outputs. Nothing here parses arguments or prints: notes and warnings come back
as data for the caller to show. Heavy stages (git, verify, store, responders) are imported
inside the functions, so the pre-commit hook imports no more than it uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from scanner.config import NARROWING, REPOSITORY, ScanConfig, Settings, parse_size
from scanner.config_schema import safe_text
from scanner.exits import EXIT_CLEAN, EXIT_FINDINGS, UsageError
from scanner.models import Suppressed
from scanner.scan import ScanResult, build_engine

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any

    from scanner.baseline import BaselineEntry
    from scanner.progress import OnProgress
    from scanner.respond.run import Outcome
    from scanner.store.db import Store

__all__ = [
    "Config",
    "Reviewed",
    "ScanResult",
    "exit_code",
    "incidents_of",
    "open_store",
    "record",
    "respond",
    "review",
    "scan_history",
    "scan_paths",
    "scan_staged",
    "update_baseline",
]

# The config keys each kind of scan honours that can narrow it: history and staged scans
# take no excludes or file-size limit (yet), so a repository config's excludes are not
# reported as narrowing them.
_NARROWING_BY_KIND = {
    "files": NARROWING,
    "git": frozenset({"baseline"}),
    "staged": frozenset({"baseline"}),
}


@dataclass(frozen=True)
class Config:
    """One run's settings: the engine's, the config files read once, the known findings."""

    scan: ScanConfig = field(default_factory=ScanConfig)
    settings: Settings = field(default_factory=Settings)
    baseline: str | None = None  # baseline file; None: the config files' `baseline`
    ignore_file: str | None = None  # None: each scanned repository's .devtokenignore
    verify: bool = False  # check bundles with Google (network)

    def effective_baseline(self) -> tuple[str | None, str | None]:
        """The baseline file and, when a config file chose it, that file's origin."""
        if self.baseline:
            return self.baseline, None
        chosen = self.settings.get("baseline")
        if not chosen:
            return None, None
        setter = self.settings.setter("baseline")
        return str(chosen), setter.origin if setter else None


@dataclass
class Reviewed:
    """A scan after review: what to report, record and respond to; notes for the caller."""

    result: ScanResult
    kind: str  # files, staged or git (the store's scan kind)
    target: str  # what was scanned (paths joined by commas, or the repository)
    notes: list[str] = field(default_factory=list)  # repository config narrowing this scan


def scan_paths(config: Config, on_progress: OnProgress | None = None) -> ScanResult:
    """Files, directories, logs or stdin (`-`); a path that does not exist is a UsageError.
    `on_progress` gets files and bytes done of the total (see scanner.progress)."""
    from scanner.scan import scan
    from scanner.sources.files import MissingPath

    try:
        return scan(config.scan, build_engine(config.scan), on_progress)
    except MissingPath as exc:
        raise UsageError(str(exc)) from None


def scan_staged(config: Config, repo: str = ".") -> ScanResult:
    """The added lines staged for commit in `repo`: the pre-commit hook's scan."""
    from scanner.git.staged import scan_staged as staged

    return staged(build_engine(config.scan), repo=repo, scan_binary=config.scan.scan_binary)


def scan_history(
    config: Config,
    repo: str = ".",
    *,
    branches: Sequence[str] = (),
    revision_range: str | None = None,
    since_commit: str | None = None,
    max_commits: int | None = None,
    include_stashes: bool = True,
    all_objects: bool = False,
    max_blob_size: str | int = "256MiB",
    on_progress: OnProgress | None = None,
    since: str | None = None,
    until: str | None = None,
) -> ScanResult:
    """Every blob of `repo`'s history once, attributed to the commits that hold it.

    `on_progress` gets the walk, then blobs done of the total (see scanner.progress);
    `since`/`until` (ISO 8601 dates): only the blobs commits of that window added."""
    from scanner.git.scan_history import GitOptions, scan_git

    if max_commits is not None and max_commits < 1:
        raise UsageError("--max-commits must be at least 1")
    window = commit_window(since, until)
    if all_objects and (branches or revision_range or since_commit or max_commits):
        raise UsageError(
            "--all-objects scans the whole object store: drop --branch/--range/--since-commit/"
            "--max-commits"
        )
    if all_objects and (since or until):
        raise UsageError("--all-objects scans the whole object store: drop --since/--until")
    engine = build_engine(config.scan)
    options = GitOptions(
        repo=repo,
        branches=tuple(branches),
        revision_range=revision_range,
        since_commit=since_commit,
        max_commits=max_commits,
        include_stashes=include_stashes,
        jobs=config.scan.jobs,
        max_blob_size=parse_size(max_blob_size)
        if isinstance(max_blob_size, str)
        else max_blob_size,
        scan_binary=config.scan.scan_binary,
        all_objects=all_objects,
        since=window[0],
        until=window[1],
    )
    return scan_git(options, engine, on_progress=on_progress)


@dataclass(frozen=True)
class GitTarget:
    """One repository `devtoken git` reads: a local path, or a clone URL's mirror in the
    cache the org scan uses (`path` is then the mirror, `url` the URL without credentials)."""

    given: str  # as the user wrote it, credentials dropped: what messages name
    path: str
    url: str = ""
    auth: Any = None  # the URL's own credentials (a git.mirror.HttpAuth), for git's env only


def is_clone_url(entry: str) -> bool:
    """`scheme://...` or scp-like `user@host:path`; an existing local path never is."""
    import os

    from scanner.org.listed import _is_scp_like

    if "://" in entry:
        return True
    return not os.path.exists(entry) and _is_scp_like(entry)


def git_targets(entries: Sequence[str], cache: Path | None = None) -> list[GitTarget]:
    """What each entry names, without touching the network (a URL: its mirror's path);
    a repository named twice is read once."""
    import os

    from scanner.org.mirror import MirrorCache
    from scanner.urls import without_credentials

    targets: dict[str, GitTarget] = {}
    for entry in entries:
        if not is_clone_url(entry):
            targets.setdefault(os.path.realpath(entry), GitTarget(entry, entry))
            continue
        ref = _listed_ref(entry)
        mirror = MirrorCache(cache or _default_cache()).path_of(ref.key)
        auth = _auth(entry, ref.clone_url)
        shown = without_credentials(entry)
        targets.setdefault(str(mirror), GitTarget(shown, str(mirror), ref.clone_url, auth))
    return list(targets.values())


def prepare_git_targets(
    targets: Sequence[GitTarget], cache: Path | None = None, timeout: float = 900.0
) -> None:
    """Before anything is scanned: every local repository opens, every URL is mirrored
    (cloned, or fetched into its existing mirror). Any failure is a UsageError naming that
    input, so a bad input among several loses nothing: nothing was scanned yet."""
    from scanner.errors import SourceError
    from scanner.git.repo import open_repo
    from scanner.org.mirror import MirrorCache

    if len(targets) > 1:
        for target in targets:
            if not target.url:
                try:
                    open_repo(target.path)
                except SourceError as exc:
                    raise UsageError(str(exc)) from None
    for target in targets:
        if not target.url:
            continue
        mirrors = MirrorCache(
            cache or _default_cache(), timeout, (target.auth,) if target.auth else ()
        )
        synced = mirrors.sync_one(_listed_ref(target.url))
        if synced.error is not None or synced.status == "failed":
            raise UsageError(f"cannot mirror {target.given}: {synced.error}")


def scan_histories(config: Config, targets: Sequence[GitTarget], **options: Any) -> ScanResult:
    """`scan_history` of each target, in order; several are merged into one result whose
    findings each name their repository (`repo`, `remote_url`) and whose stats keep each
    repository's own (`repositories`)."""
    results = [scan_history(config, target.path, **options) for target in targets]
    return results[0] if len(results) == 1 else merge_histories(results)


def merge_histories(results: Sequence[ScanResult]) -> ScanResult:
    """Several repositories' history scans as one, each finding tagged with its own."""
    merged = ScanResult(rules=results[0].rules, engine=results[0].engine)
    for part in results:
        repo = str(part.extra_stats.get("repo", ""))
        remote = str(part.extra_stats.get("remote_url") or "")  # credentials dropped (repo.py)
        merged.findings += [_tagged(f, repo, remote) for f in part.findings]
        merged.suppressed += [_tagged(s, repo, remote) for s in part.suppressed]
        merged.suppressed_unlisted.update(part.suppressed_unlisted)
        merged.skipped += [_in_repository(s, repo) for s in part.skipped]
        merged.bytes_scanned += part.bytes_scanned
        merged.files_scanned += part.files_scanned
        merged.duration += part.duration
    stats = [
        {
            **part.extra_stats,
            "bytes_scanned": part.bytes_scanned,
            "files_scanned": part.files_scanned,
        }
        for part in results
    ]
    merged.extra_stats = {
        **{key: sum(int(s.get(key, 0)) for s in stats) for key in _SUMMED_STATS},
        "shallow": any(bool(s.get("shallow")) for s in stats),
        "repo": ",".join(str(s.get("repo", "")) for s in stats),
        "remote_url": "",
        "repositories": stats,
    }
    return merged


_SUMMED_STATS = (
    "commits",
    "blobs",
    "blobs_scanned",
    "messages_scanned",
    "tags",
    "tag_messages_scanned",
)


def _tagged(item: Any, repo: str, remote: str) -> Any:
    from scanner.models import GitProvenance

    if not isinstance(item.provenance, GitProvenance):
        return item
    return replace(item, provenance=replace(item.provenance, repo=repo, remote_url=remote))


def _in_repository(skipped: Any, repo: str) -> Any:
    import os

    path = skipped.path
    return replace(skipped, path=os.path.join(repo, path) if path and path != repo else repo)


def _listed_ref(entry: str) -> Any:
    """The mirror cache's RepositoryRef for a URL: the one `devtoken org --repo URL` uses,
    so both find the same mirror."""
    from scanner.org.listed import ListedSource, list_listed
    from scanner.org.repositories import Filters

    (ref,) = list_listed(ListedSource((entry,), label="git"), Filters()).refs
    return ref


def _auth(entry: str, url: str) -> Any:
    """`https://user:token@host/x.git`'s credentials, for git's environment only (the URL
    git and the mirror's config get has none)."""
    from urllib.parse import unquote, urlsplit

    from scanner.git.mirror import HttpAuth

    parts = urlsplit(entry) if "://" in entry else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.password:
        return None
    return HttpAuth(url, unquote(parts.username or ""), unquote(parts.password))


def _default_cache() -> Path:
    from scanner.org.mirror import default_root

    return default_root()


def commit_window(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    """--since/--until as epoch seconds (both included); a bad or empty window is a
    UsageError."""
    from scanner.git.dates import commit_time

    bounds: list[int | None] = []
    for flag, value in (("--since", since), ("--until", until)):
        try:
            bounds.append(None if value is None else commit_time(value, until=flag == "--until"))
        except ValueError as exc:
            raise UsageError(f"{flag}: {exc}") from None
    first, last = bounds
    if first is not None and last is not None and first > last:
        raise UsageError(f"--since {since} is after --until {until}: no commit is in between")
    return first, last


def review(result: ScanResult, config: Config, kind: str = "files", target: str = ".") -> Reviewed:
    """Baseline and ignore files -> stats.config -> bundles -> verify (when asked).

    `target`: what a `staged` or `git` scan read (the repository), where its
    `.devtokenignore` is looked for; a `files` scan looks beside each of its paths.
    """
    from scanner.bundles import make_bundles

    files = kind == "files"
    several = _repositories(result) if kind == "git" else []
    targets = config.scan.paths if files else tuple(several) or (target,)
    known, by_ignore_file = _apply_known(result, config, targets, scoped=files or bool(several))
    notes = _say_config(
        result, config, known, by_ignore_file, _NARROWING_BY_KIND.get(kind, NARROWING)
    )
    result.bundles = make_bundles(result.findings)
    if config.verify:
        result.verifications = _verify(result.bundles, config.settings)
    return Reviewed(result, kind, target, notes)


def record(reviewed: Reviewed, store: Store) -> int:
    """Record the reviewed scan in the store (findings, occurrences, bundles, verifications);
    a scan of several repositories as one scan of each, in one transaction."""
    several = _repositories(reviewed.result) if reviewed.kind == "git" else []
    if not several:
        return store.record(reviewed.result, reviewed.kind, reviewed.target)
    with store.guard(), store.transaction():
        ids = [
            store.write_scan(_part(reviewed.result, repo), "git", repo).scan_id for repo in several
        ]
    return ids[-1]


def _repositories(result: ScanResult) -> list[str]:
    """The repositories a merged history scan read (merge_histories); [] for one."""
    return [str(s.get("repo", "")) for s in result.extra_stats.get("repositories", [])]


def _part(result: ScanResult, repo: str) -> ScanResult:
    """One repository's share of a merged history scan, as its own scan would be."""
    from scanner.bundles import Bundle

    def mine(finding: Any) -> bool:
        return getattr(finding.provenance, "repo", "") == repo

    stats = next(s for s in result.extra_stats["repositories"] if s.get("repo") == repo)
    part = ScanResult(rules=result.rules, engine=result.engine, extra_stats=dict(stats))
    part.findings = [f for f in result.findings if mine(f)]
    part.bytes_scanned = int(stats.get("bytes_scanned", 0))
    part.verifications = result.verifications
    for bundle in result.bundles:
        members = tuple(m for m in bundle.members if mine(m))
        if members:
            part.bundles.append(Bundle(id=bundle.id, members=members))
    return part


@contextmanager
def open_store(path: str | None, create: bool = False) -> Iterator[Store]:
    """The store; a store failure (missing, locked, damaged) is a StoreError, exit 2.

    Only a scan creates a store: a command that reads one needs it to exist, so a typo in
    --store is an error rather than an empty report.
    """
    from scanner.store.db import Store, store_path

    with Store(store_path(path), create=create) as store:
        yield store


def incidents_of(store: Store, reviewed: Reviewed | None = None) -> list[Any]:
    """The store's incidents; with `reviewed`, only those this scan's bundles formed."""
    from scanner.render.incidents import load_incidents

    incidents = load_incidents(store)
    if reviewed is None:
        return incidents
    ids = {bundle.id for bundle in reviewed.result.bundles}
    return [i for i in incidents if i.id in ids]


def report_incidents(store: Store) -> tuple[list[Any], str]:
    """The store's incidents for a report: those the latest run first saw marked `new`, and
    when the scan before it began ("" when there was none to compare with)."""
    from scanner.render.incidents import load_incidents, marked_new

    return marked_new(store, load_incidents(store))


def revocable_secrets(reviewed: Reviewed) -> dict[str, str]:
    """Only what a responder may send on (revoke), chosen by each finding's rule."""
    from scanner.rules import REVOCABLE_ROLES

    return {
        f.fingerprint: f.match.secret.reveal()
        for f in reviewed.result.findings
        if f.rule.role in REVOCABLE_ROLES
    }


def respond(
    store: Store,
    incidents: Sequence[Any],
    actions: str,
    settings: Settings,
    *,
    send: bool,
    only_live: bool = False,
    secrets: dict[str, str] | None = None,
    confirm: Callable[[str], bool] = lambda _: False,
) -> Outcome:
    """Run the responders (`actions`: "webhook,email,ticket,revoke") on these incidents."""
    import os

    from scanner.respond.run import parse_actions
    from scanner.respond.run import respond as run
    from scanner.respond.settings import respond_settings

    try:
        chosen = parse_actions(actions)
        table = respond_settings(os.environ, settings.table("respond"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return run(
        store,
        incidents,
        chosen,
        table,
        send=send,
        only_live=only_live,
        secrets=secrets or {},
        confirm=confirm,
    )


def exit_code(result: ScanResult, fail_on: str = "any") -> int:
    """--fail-on: any finding (default), only live credentials, or never."""
    if fail_on == "none":
        return EXIT_CLEAN
    if fail_on == "live":
        live = any(v.outcome.status == "live" for v in result.verifications.values())
        return EXIT_FINDINGS if live else EXIT_CLEAN
    return EXIT_FINDINGS if result.findings else EXIT_CLEAN


def update_baseline(
    result: ScanResult, target: Path, update: bool
) -> tuple[set[BaselineEntry], set[BaselineEntry]]:
    """Write the scan's findings as the baseline; (what it holds now, what it held before)."""
    from scanner.baseline import BaselineEntry, load_baseline, write_baseline

    entries = {BaselineEntry.of(f) for f in result.findings}
    previous: set[BaselineEntry] = load_baseline(target) if update else set()
    write_baseline(target, entries)
    return entries, previous


def with_scan(config: Config, **changes: Any) -> Config:
    """`config` with some ScanConfig fields changed."""
    return replace(config, scan=replace(config.scan, **changes))


def _verify(bundles: list[Any], settings: Settings) -> dict[str, Any]:
    import os

    from scanner.verify.settings import settings_from
    from scanner.verify.verifier import Verifier, missing_verify_extra

    missing = missing_verify_extra()
    if missing:
        raise UsageError(missing)
    try:
        table = settings_from(os.environ, settings.table("verify"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return Verifier(table).verify_all(bundles)


def _apply_known(
    result: ScanResult, config: Config, targets: Sequence[str], scoped: bool
) -> tuple[list[Suppressed], dict[str, int]]:
    """Move findings the ignore files or baseline know into `suppressed`.

    Returns those moved, and how many each repository's `.devtokenignore` took. Without
    --ignore-file, each target's repository (config.repository_root) contributes its
    `.devtokenignore`: a file where devtoken happens to run says nothing about another
    repository. `scoped` (a files scan): it suppresses only findings inside the targets of
    its repository; a staged or history scan reads one repository, all of it covered.
    """
    baseline_file, _ = config.effective_baseline()
    found = repository_ignore_files(() if config.ignore_file else targets)
    if not (baseline_file or config.ignore_file or found):
        return [], {}  # the usual hook run: scanner.baseline (and json) never imported
    from scanner.baseline import load_baseline, load_ignore_file, split_known

    baseline = load_baseline(Path(baseline_file)) if baseline_file else set()
    ignores: list[tuple[str | None, set[str], tuple[str, ...]]] = []
    if config.ignore_file:  # the user's choice: not a repository file, covers everything
        ignores.append((None, load_ignore_file(Path(config.ignore_file)), ()))
    for path, covered in found.items():
        ignores.append((str(path), load_ignore_file(path), covered if scoped else ()))
    known: list[Suppressed] = []
    by_repository: dict[str, int] = {}
    for label, fingerprints, covered in ignores:
        inside = [f for f in result.findings if not covered or _covers(covered, f.provenance)]
        _, moved = split_known(inside, set(), fingerprints) if fingerprints else ([], [])
        gone = {id(s.match) for s in moved}
        result.findings = [f for f in result.findings if id(f.match) not in gone]
        known.extend(moved)
        if label is not None:
            by_repository[label] = len(moved)
    if baseline:
        result.findings, moved = split_known(result.findings, baseline, set())
        known.extend(moved)
    result.suppressed.extend(known)
    return known, by_repository


def repository_ignore_files(targets: Sequence[str]) -> dict[Path, tuple[str, ...]]:
    """Each existing `.devtokenignore` of the targets' repositories, with the targets it
    covers (those in that repository)."""
    from scanner.config import IGNORE_FILE, repository_root

    found: dict[Path, tuple[str, ...]] = {}
    for target in targets:
        path = repository_root(target) / IGNORE_FILE
        if path.is_file():
            found[path] = (*found.get(path, ()), target)
    return found


def _covers(targets: Sequence[str], provenance: Any) -> bool:
    """Is this finding one of the targets'? A history finding of a scan of several
    repositories names its own (`repo`); any other is located by its path."""
    repo = getattr(provenance, "repo", "")
    return repo in targets if repo else _within(provenance.path, targets)


def _within(shown: str, targets: Sequence[str]) -> bool:
    """Is a finding's path (an archive member's: the archive's) inside one of `targets`?

    The shown path starts with the target it was found under, so both are compared as
    absolute paths; `-` is stdin's shown path.
    """
    import os

    outer = shown.split("!", 1)[0]
    where = os.path.abspath(outer)
    for target in targets:
        if target == "-":
            if outer == "-":
                return True
            continue
        base = os.path.abspath(target)
        if where == base or where.startswith(base.rstrip(os.sep) + os.sep):
            return True
    return False


def _say_config(
    result: ScanResult,
    config: Config,
    known: list[Suppressed],
    by_ignore_file: dict[str, int],
    applies: frozenset[str],
) -> list[str]:
    """stats.config, and a note for each way the scanned repository narrowed this scan."""
    by_repository = dict(by_ignore_file)
    baseline_file, origin = config.effective_baseline()
    if baseline_file and origin == REPOSITORY:
        by_repository[baseline_file] = sum(k.reason == "known finding in baseline" for k in known)
    result.extra_stats["config"] = {
        **config.settings.record(applies),
        "suppressed_by_repository": by_repository,
    }
    return config.settings.notes(applies) + [
        f"devtoken: note: {safe_text(path)} (repository file) suppressed {count} finding(s); "
        "--explain lists them"
        for path, count in by_repository.items()
        if count
    ]


def verify_bundles(bundles: Sequence[Any], settings: Settings) -> dict[str, Any]:
    """Check these bundles with Google (the org scan verifies each credential set once)."""
    return _verify(list(bundles), settings)


def scan_organisation(
    options: Any,
    store: Store,
    jobs: int = 4,
    scheduler: str | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> Any:
    """`devtoken org` as a library call: `options` an org.run.OrgOptions; the OrgRun back.
    `jobs` local worker processes, or the Dask cluster at `scheduler`."""
    from scanner.org.executor import make_executor
    from scanner.org.run import run_org

    with make_executor(jobs, scheduler) as executor:
        return run_org(options, store, executor, on_event or (lambda _: None))
