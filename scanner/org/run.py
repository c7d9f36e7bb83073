"""`devtoken org`'s driver: enumerate, fetch, scan what is new, review, record, respond.

The driver is the one process that writes the store. Repositories flow through the
executor's workers independently: a fetch task per repository, then (when something is new)
a scan task; as each returns, the driver journals its phase, and records a scanned
repository in one transaction with its new tips and ledger rows. A run killed at any point
resumes from the journal: nothing recorded is re-done, the rest is fetched and scanned
again (both are idempotent), and responders skip what the actions table says was sent. A
repository the killed run had recorded is fetched again too, and only what was pushed since
its record is scanned: a run resumed hours later is as fresh as one that was never killed.
One repository's failure is its own status and error; it never stops the others.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scanner import api
from scanner.config_schema import safe_text
from scanner.digests import sha256
from scanner.errors import DevtokenError, StoreError
from scanner.exits import UsageError
from scanner.org.mirror import MirrorCache
from scanner.org.repositories import Filters, Listing, RepositoryRef
from scanner.org.tasks import EngineSpec, FetchOutcome, ScanOutcome, fetch_task, scan_task
from scanner.scan import ScanResult

if TYPE_CHECKING:
    from scanner.baseline import BaselineEntry
    from scanner.git.mirror import HttpAuth
    from scanner.models import Finding, Skipped
    from scanner.org.incidents import OrgIncident
    from scanner.org.mirror import MirrorResult
    from scanner.org.ratelimit import RateBudget
    from scanner.org.sources import SourceSpec
    from scanner.render.incidents import Incident, IncidentMember, StoredOccurrence
    from scanner.rules import Rule
    from scanner.store.db import Store
    from scanner.store.org import JournalEntry, OrgStore, RepositoryRow

# What a repository's entry in the run's report says it was.
SCANNED, UNCHANGED, FAILED, PENDING = "scanned", "unchanged", "failed", "pending"
# A stored verification worth checking again: it may have changed since.
_RECHECK = frozenset({"live", "unknown", "skipped"})
RECORDED_BEFORE = "recorded by the interrupted run"
# How often, on a cluster, the driver looks for scan tasks pinned to a worker that has left.
STRANDED_CHECK = 2.0


@dataclass(frozen=True)
class OrgOptions:
    """One org run's inputs, all plain values (the CLI builds them from flags and config)."""

    sources: tuple[SourceSpec, ...]
    config: api.Config  # rules, baseline/ignore file, verify, the config files' settings
    rules: tuple[Rule, ...]
    ruleset: str  # rules.ruleset_key(rules)
    cache: Path  # the mirror cache (each Dask worker's own, at the same path)
    filters: Filters = field(default_factory=Filters)
    timeout: float = 900.0  # per repository, over all its git calls
    rate_limit_budget: float = 3600.0
    respond: str = ""  # responder actions: webhook,email,ticket,revoke
    send: bool = False
    only_live: bool = False
    confirm: Callable[[str], bool] = field(default=lambda _: False, compare=False)
    max_blob_size: int = 256 << 20
    env: Mapping[str, str] | None = None  # where source tokens come from (default os.environ)
    budget: RateBudget | None = None  # default: one of rate_limit_budget seconds
    pace: float | None = 0.25  # seconds between GitHub listing pages

    @property
    def reveal(self) -> bool:
        """Clear secrets come back from workers only when the driver must use them."""
        return self.config.verify or "revoke" in self.respond


@dataclass(frozen=True)
class OrgEvent:
    """Progress: `phase` of `repository` (listing, fetched, scanned, recorded, unchanged,
    failed, moved, verify, respond, done), with `done` of `total` repositories finished."""

    phase: str
    done: int
    total: int
    repository: str = ""
    message: str = ""


@dataclass
class RepositoryReport:
    """One repository of the run, as the JSON `repositories` list shows it."""

    key: str
    name: str
    url: str
    repository: str  # what findings name it by: org/name, or the clone URL of a listed one
    status: str = PENDING
    error: str | None = None
    blobs_scanned: int = 0
    blobs_skipped_known: int = 0
    findings: int = 0  # open findings of the repository after the run
    new: int = 0  # findings first seen in this run
    renamed_from: str | None = None
    aliases: tuple[str, ...] = ()  # names its findings were recorded under before a rename
    disk_bytes: int = 0
    seconds: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)  # what the scan could not read whole
    fetched_on: str = ""  # the Dask worker that fetched it ("" in a local pool)
    scanned_on: str = ""  # the Dask worker that scanned it

    @property
    def names(self) -> tuple[str, ...]:
        """Every repository name its findings may carry: the current one first."""
        return (self.repository, *self.aliases)

    def record(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "name": self.name,
            "repository": self.repository,
            "key": self.key,
            "status": self.status,
            "error": self.error,
            "blobs_scanned": self.blobs_scanned,
            "blobs_skipped_known": self.blobs_skipped_known,
            "findings": self.findings,
            "new_findings": self.new,
            "renamed_from": self.renamed_from,
            "previous_names": list(self.aliases),
            "disk_bytes": self.disk_bytes,
            "seconds": round(self.seconds, 3),
            "skipped_by_reason": dict(sorted(Counter(s.reason for s in self.skipped).items())),
            "skipped": [
                {"path": s.path, "reason": s.reason, "detail": s.detail} for s in self.skipped
            ],
            "fetched_on": self.fetched_on or None,
            "scanned_on": self.scanned_on or None,
        }


@dataclass
class OrgRun:
    """What a run did: per repository, the findings it produced, and what it told whom."""

    run_id: int
    ruleset: str
    resumed: bool
    repositories: list[RepositoryReport] = field(default_factory=list)
    found: dict[str, list[Finding]] = field(default_factory=dict)  # repository -> this run's
    new_fingerprints: set[str] = field(default_factory=set)
    newly_live: set[str] = field(default_factory=set)  # bundle ids verified live this run
    bundles_verified: int = 0
    deleted: list[MirrorResult] = field(default_factory=list)
    source_errors: list[tuple[str, str]] = field(default_factory=list)  # (source, error)
    skipped_by_filter: dict[str, int] = field(default_factory=dict)
    respond_log: list[str] = field(default_factory=list)
    respond_failures: list[str] = field(default_factory=list)  # lines of respond_log
    respond_all_failed: bool = False
    duration: float = 0.0

    @property
    def failed(self) -> list[RepositoryReport]:
        return [r for r in self.repositories if r.status == FAILED]

    def stats(self) -> dict[str, Any]:
        count = {s: sum(r.status == s for r in self.repositories) for s in (SCANNED, UNCHANGED)}
        return {
            "repositories": len(self.repositories),
            "repositories_scanned": count[SCANNED],
            "repositories_unchanged": count[UNCHANGED],
            "repositories_failed": len(self.failed),
            "repositories_deleted": len(self.deleted),
            "blobs_scanned": sum(r.blobs_scanned for r in self.repositories),
            "blobs_skipped_known": sum(r.blobs_skipped_known for r in self.repositories),
            "new_findings": len(self.new_fingerprints),
            "bundles_verified": self.bundles_verified,
            "sources_failed": len(self.source_errors),
            "skipped_by_filter": dict(sorted(self.skipped_by_filter.items())),
            "skipped_by_reason": dict(
                sorted(Counter(s.reason for r in self.repositories for s in r.skipped).items())
            ),
            "disk_bytes": sum(r.disk_bytes for r in self.repositories),
            "duration_seconds": round(self.duration, 3),
            "run_id": self.run_id,
            "resumed": self.resumed,
            "ruleset": self.ruleset,
        }


def run_org(
    options: OrgOptions,
    store: Store,
    executor: Executor,
    on_event: Callable[[OrgEvent], None] = lambda _: None,
) -> OrgRun:
    """The whole pipeline of one org run over `executor`; the driver alone writes `store`.

    One driver per store at a time: a second one (a cron job that overlaps a slow night)
    would resume the same run and record repositories twice, so it is refused at once.
    """
    with _one_driver(store):
        return _Driver(options, store, executor, on_event).run()


@contextmanager
def _one_driver(store: Store) -> Iterator[None]:
    """An exclusive lock on `<store>.org-lock`, released by the kernel even on SIGKILL."""
    import fcntl
    import os

    path = f"{store.path}.org-lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"another devtoken org run is using the store {safe_text(str(store.path))}: "
                "wait for it to finish (it resumes where a killed run stopped)"
            ) from None
        yield
    finally:
        os.close(fd)


class _Driver:
    def __init__(
        self,
        options: OrgOptions,
        store: Store,
        executor: Executor,
        on_event: Callable[[OrgEvent], None],
    ) -> None:
        from scanner.store.org import OrgStore

        self.options = options
        self.store = store
        self.org: OrgStore = OrgStore(store)
        self.executor = executor
        self.on_event = on_event
        self.engine = EngineSpec(
            options.rules,
            options.ruleset,
            options.config.scan.engine,
            options.config.scan.rule_timeout,
        )
        self.review_config = dataclasses.replace(options.config, verify=False)
        self.baseline = _baseline(options.config)  # applied in the scan tasks
        self.verified: dict[frozenset[str], Any] = {}  # member fingerprints -> verification
        self.auths: tuple[HttpAuth, ...] = ()
        self.reports: dict[str, RepositoryReport] = {}
        self.mirrors = MirrorCache(options.cache, options.timeout)  # the driver's view of it
        self.refs: dict[str, RepositoryRef] = {}
        self.old_tips: dict[str, dict[str, str]] = {}
        self.fetched: dict[str, FetchOutcome] = {}
        self.resumed: dict[str, int] = {}  # key -> blobs the interrupted run recorded
        self.secrets: dict[str, str] = {}  # fingerprint -> clear value (revoke only)
        self.done = 0
        self.outcome = OrgRun(0, options.ruleset, resumed=False)

    def run(self) -> OrgRun:
        started = time.monotonic()
        state = self.org.open_run(self.options.ruleset)
        run_id = int(state.run_id)
        journal = self.org.journal(run_id)
        outcome = OrgRun(run_id, self.options.ruleset, resumed=state.resumed)
        self.outcome = outcome
        listings = self._enumerate()
        for ref in self.refs.values():
            self.org.upsert_repository(
                ref.key, ref.full_name, ref.clone_url, ref.source, ref.stable_id
            )
        rows = {row.key: row for row in self.org.repositories()}
        todo = []
        for key, ref in self.refs.items():
            entry = journal.get(key)
            if entry is not None and entry.phase == "recorded":
                self._resumed(ref, entry, rows.get(key))
            else:
                self.org.set_phase(run_id, key, "discovered")
            todo.append(ref)  # a recorded one too: what was pushed since its record is new
        self._mark_deleted(listings)
        self._pipeline(run_id, todo)
        self._count_findings()
        if self.options.respond:
            self._respond()
        outcome.duration = time.monotonic() - started
        self.org.finish_run(run_id, outcome.stats())
        self._event("done", message=f"{len(outcome.failed)} failed")
        return outcome

    # enumerate -------------------------------------------------------------------------
    def _enumerate(self) -> list[Listing]:
        from scanner.org.listed import ListedSource, list_listed

        listings: list[Listing] = []
        api_specs = [s for s in self.options.sources if not isinstance(s, ListedSource)]
        budget = self.options.budget
        if api_specs:
            from scanner.org.ratelimit import RateBudget
            from scanner.org.sources import git_auths

            budget = budget or RateBudget(self.options.rate_limit_budget)
            self.auths = tuple(git_auths(api_specs, self.options.env))
        for spec in self.options.sources:
            self._event("listing", message=_label(spec))
            if isinstance(spec, ListedSource):
                listing = list_listed(spec, self.options.filters)
            else:
                from scanner.org.sources import enumerate_source

                listing = enumerate_source(
                    spec, self.options.filters, self.options.env, budget, self.options.pace
                )
            listings.append(listing)
            if listing.error:
                self.outcome.source_errors.append((listing.source, listing.error))
            for reason, count in listing.skipped.items():
                skipped = self.outcome.skipped_by_filter
                skipped[reason] = skipped.get(reason, 0) + count
            for ref in listing.refs:
                self.refs.setdefault(ref.key, ref)
        for key, ref in self.refs.items():
            report = RepositoryReport(key, ref.full_name, ref.clone_url, _name_of(ref))
            report.aliases = self._aliases(ref, self.mirrors.read_meta(key), None)
            self.reports[key] = report
        self.outcome.repositories = list(self.reports.values())
        return listings

    def _mark_deleted(self, listings: Sequence[Listing]) -> None:
        for listing in listings:
            self.outcome.deleted += self.mirrors.mark_missing(listing)

    @staticmethod
    def _aliases(
        ref: RepositoryRef,
        meta: Mapping[str, Any] | None,
        renamed_from: str | None,
        known: Sequence[str] = (),
    ) -> tuple[str, ...]:
        """The names a renamed repository's findings were recorded under: the mirror's
        previous names (the driver's cache) and the rename this fetch saw (a worker's)."""
        if ref.host_kind == "listed":  # named by URL: another URL is another repository
            return ()
        names = set(known) | set((meta or {}).get("previous_names") or ())
        names |= {str((meta or {}).get("full_name") or ""), renamed_from or ""}
        return tuple(sorted(names - {"", ref.full_name}))

    def _resumed(self, ref: RepositoryRef, entry: JournalEntry, row: RepositoryRow | None) -> None:
        """A repository the killed run had recorded: its report from the journal and store,
        until its fetch says whether anything was pushed since."""
        report = self.reports[ref.key]
        report.status = row.status if row and row.status in (SCANNED, UNCHANGED) else SCANNED
        report.blobs_scanned = int(entry.detail.get("blobs_scanned", 0))
        self.resumed[ref.key] = report.blobs_scanned

    # fetch and scan --------------------------------------------------------------------
    def _pipeline(self, run_id: int, todo: Sequence[RepositoryRef]) -> None:
        pending: dict[Future[Any], tuple[str, RepositoryRef]] = {}
        pinned: dict[Future[Any], _ScanCall] = {}  # scan tasks bound to their fetch's worker
        check = STRANDED_CHECK if getattr(self.executor, "distributed", False) else None
        for ref in todo:
            self.old_tips[ref.key] = self.org.tips(ref.key, self.options.ruleset)
            old = sorted(set(self.old_tips[ref.key].values()))
            args = (ref, str(self.options.cache), self.options.timeout, self.auths, tuple(old))
            key = _task_key("fetch", ref.key, old, [str(run_id)])
            pending[_submit(self.executor, fetch_task, args, key, git=True)] = ("fetch", ref)
        while pending:
            finished, _ = wait(list(pending), timeout=check, return_when=FIRST_COMPLETED)
            if not finished:
                self._move_stranded(pending, pinned)
                continue
            for future in finished:
                kind, ref = pending.pop(future)
                pinned.pop(future, None)
                try:
                    result = future.result()
                except Exception as exc:  # a worker died or a task raised: this repo only
                    self._fail(run_id, ref, f"{kind} task failed: {type(exc).__name__}: {exc}")
                    continue
                try:
                    if kind == "fetch":
                        call = self._fetched(run_id, ref, result)
                        if call is not None:
                            follow = _submit(
                                self.executor, scan_task, call.args, call.key, near=call.near
                            )
                            pending[follow] = ("scan", ref)
                            if call.near:
                                pinned[follow] = call
                    else:
                        self._scanned(run_id, ref, result)
                except StoreError:
                    raise  # the store itself is unusable: nothing more can be recorded
                except (DevtokenError, OSError) as exc:  # this repository's trouble only
                    self._fail(run_id, ref, f"{kind}: {type(exc).__name__}: {exc}")

    def _move_stranded(
        self,
        pending: dict[Future[Any], tuple[str, RepositoryRef]],
        pinned: dict[Future[Any], _ScanCall],
    ) -> None:
        """A scan task pinned to a worker that has left the cluster would wait for it forever:
        it is cancelled and submitted again for any worker (which fetches the repository into
        its own mirror first)."""
        from scanner.org.executor import TaskExecutor

        if not pinned or not isinstance(self.executor, TaskExecutor):
            return
        gone = self.executor.departed({call.near for call in pinned.values()})
        for future, call in list(pinned.items()):
            if call.near not in gone:
                continue
            kind, ref = pending.pop(future)
            del pinned[future]
            future.cancel()
            moved = _submit(self.executor, scan_task, call.args, f"{call.key}-moved")
            pending[moved] = (kind, ref)
            self._event("moved", ref, f"its fetch's worker {call.near} left: scanned elsewhere")

    def _fetched(self, run_id: int, ref: RepositoryRef, fetch: FetchOutcome) -> _ScanCall | None:
        report = self.reports[ref.key]
        mirror = fetch.mirror
        report.renamed_from = mirror.renamed_from
        report.aliases = self._aliases(ref, None, mirror.renamed_from, report.aliases)
        report.disk_bytes = mirror.disk_bytes
        report.seconds += fetch.seconds
        report.fetched_on = fetch.worker
        if fetch.error:
            self._fail(run_id, ref, fetch.error)
            return None
        self.fetched[ref.key] = fetch
        detail = {"tips": len(fetch.tips), "held": len(fetch.held), "blobs": len(fetch.candidates)}
        self.org.set_phase(run_id, ref.key, "fetched", detail)
        self._event("fetched", ref, f"{len(fetch.candidates)} new blob(s)")
        old = set(self.old_tips[ref.key].values())
        if not fetch.held and set(fetch.tips.values()) <= old:
            if ref.key in self.resumed:  # nothing pushed since the interrupted run recorded it
                self._finished(report, "recorded", RECORDED_BEFORE)
            else:
                self._record(run_id, ref, ScanOutcome(self._empty(ref)), UNCHANGED)
            return None
        skip = self.org.clean_blobs(self.options.ruleset, fetch.candidates)
        self.fetched[ref.key] = dataclasses.replace(fetch, candidates=[])  # done with them
        new_tips = sorted(set(fetch.tips.values()))
        # a held (rewritten-away) tip's history is scanned again: it is no longer a branch's
        old_tips = sorted(old - set(fetch.held))
        args = (
            ref,
            str(self.options.cache),
            self.options.timeout,
            self.auths,
            tuple(old_tips),
            tuple(new_tips),
            tuple(fetch.held),
            skip,
            self.engine,
            self.options.reveal,
            self.options.max_blob_size,
            self.options.config.scan.scan_binary,
            self.baseline,
        )
        key = _task_key(
            "scan",
            ref.key,
            old_tips,
            new_tips,
            fetch.held,
            [self.options.ruleset],
            sorted(b.decode() for b in skip),
        )
        # where its mirror was just filled: another worker would clone it all again
        return _ScanCall(args, key, fetch.worker)

    def _scanned(self, run_id: int, ref: RepositoryRef, scan: ScanOutcome) -> None:
        self.reports[ref.key].seconds += scan.seconds
        self.reports[ref.key].scanned_on = scan.worker
        if scan.error or scan.result is None:
            self._fail(run_id, ref, scan.error or "the scan returned nothing")
            return
        detail = {"blobs_scanned": len(scan.scanned), "blobs_skipped_known": scan.skipped_known}
        self.org.set_phase(run_id, ref.key, "scanned", detail)
        self._record(run_id, ref, scan, SCANNED)

    def _record(self, run_id: int, ref: RepositoryRef, scan: ScanOutcome, status: str) -> None:
        assert scan.result is not None
        report = self.reports[ref.key]
        result = scan.result
        result.extra_stats.update(repo=report.repository, remote_url=ref.clone_url)
        # the target is the mirror: a .devtokenignore where the driver runs is not this
        # repository's (a mirror has no work tree, so only --ignore-file applies)
        target = str(self.mirrors.path_of(ref.key))
        reviewed = api.review(result, self.review_config, "git", target)
        if self.options.config.verify and result.bundles:
            self._verify(result)
        if "revoke" in self.options.respond:
            self.secrets.update(api.revocable_secrets(reviewed))
        fetch = self.fetched[ref.key]
        recorded = self.org.record_repository(
            run_id,
            ref.key,
            report.repository,
            result,
            self.options.ruleset,
            dict(fetch.tips),
            list(scan.scanned),
            previous_names=report.aliases,  # never the current name (see _aliases)
        )
        report.status = status
        report.blobs_scanned = self.resumed.get(ref.key, 0) + len(scan.scanned)
        report.blobs_skipped_known = scan.skipped_known
        report.skipped = list(result.skipped)
        report.new = len(recorded.new)
        self.outcome.new_fingerprints |= set(recorded.new)
        self.outcome.found[report.repository] = list(result.findings)
        if fetch.held:
            self._release(ref, fetch.held, report.scanned_on or report.fetched_on)
        since = f"{RECORDED_BEFORE}, then what was pushed since" if ref.key in self.resumed else ""
        self._finished(report, status if status == UNCHANGED else "recorded", since)

    def _release(self, ref: RepositoryRef, held: Sequence[str], worker: str) -> None:
        """Scanned rewritten-away tips may go now (on the cluster: in the mirror of `worker`,
        which holds them)."""
        if getattr(self.executor, "distributed", False):
            args = (str(self.options.cache), ref.key, tuple(held), self.options.timeout)
            key = _task_key("release", ref.key, list(held))
            _submit(self.executor, release_task, args, key, near=worker, pinned=False).result()
        else:
            self.mirrors.release(ref.key, list(held))

    def _empty(self, ref: RepositoryRef) -> ScanResult:
        return ScanResult(rules=self.options.rules, engine=self.engine.backend)

    def _fail(self, run_id: int, ref: RepositoryRef, error: str) -> None:
        report = self.reports[ref.key]
        report.status, report.error = FAILED, _one_line(error)
        self.org.mark_failed(run_id, ref.key, report.error)
        self._finished(report, FAILED, report.error)

    def _finished(self, report: RepositoryReport, phase: str, message: str = "") -> None:
        self.done += 1
        self._event(phase, report.repository, message)

    def _event(self, phase: str, repository: Any = "", message: str = "") -> None:
        name = _name_of(repository) if isinstance(repository, RepositoryRef) else repository
        self.on_event(OrgEvent(phase, self.done, len(self.reports), str(name), message))

    # verify and respond ----------------------------------------------------------------
    def _verify(self, result: ScanResult) -> None:
        """Each credential set once per run, and only when its stored check may have changed
        (never checked, or last seen live, unknown or skipped); a new member makes a new
        bundle id, so it is checked too."""
        due = []
        for bundle in result.bundles:
            members = frozenset(f.fingerprint for f in bundle.members)
            if members in self.verified:
                result.verifications[bundle.id] = self.verified[members]
                continue
            before = self._stored_status(bundle.id)
            if before is not None and before not in _RECHECK:
                continue
            due.append((bundle, members, before))
        if not due:
            return
        self._event("verify", message=f"{len(due)} bundle(s)")
        checked = api.verify_bundles([b for b, _, _ in due], self.options.config.settings)
        for bundle, members, before in due:
            verification = checked.get(bundle.id)
            if verification is None:
                continue
            self.verified[members] = verification
            result.verifications[bundle.id] = verification
            self.outcome.bundles_verified += 1
            if verification.outcome.status == "live" and before != "live":
                self.outcome.newly_live.add(bundle.id)

    def _stored_status(self, bundle_id: str) -> str | None:
        rows = self.store.rows(
            "SELECT status FROM verifications WHERE bundle_id = ? AND fingerprint IS NULL "
            "ORDER BY checked_at DESC, id DESC LIMIT 1",
            bundle_id,
        )
        return str(rows[0]["status"]) if rows else None

    def _respond(self) -> None:
        """Only new or newly-live incidents of the organisation (one per Cloud project or
        credential set, however many repositories hold it); the actions table makes a rerun
        after a kill send nothing twice."""
        from scanner.org.incidents import org_incidents

        joined = org_incidents(
            incidents_of_run(self.store, self.outcome), self.outcome.new_fingerprints
        )
        wanted = [
            o for o in joined if o.new or any(i.id in self.outcome.newly_live for i in o.incidents)
        ]
        self._event("respond", message=f"{len(wanted)} incident(s)")
        if not wanted:
            return
        outcome = api.respond(
            self.store,
            [merged_incident(o) for o in wanted],
            self.options.respond,
            self.options.config.settings,
            send=self.options.send,
            only_live=self.options.only_live,
            secrets=self.secrets,
            confirm=self.options.confirm,
        )
        self.outcome.respond_log = list(outcome.log)
        self.outcome.respond_failures = list(outcome.failures)
        self.outcome.respond_all_failed = outcome.all_failed

    def _count_findings(self) -> None:
        """Open findings per repository after the run; and, for a resumed run, the findings
        the interrupted process had recorded as new (the journal keeps them)."""
        names = [name for r in self.reports.values() for name in r.names]
        per: dict[str, set[str]] = {}
        for row in self.org.open_findings(names):
            per.setdefault(str(row["repo"]), set()).add(str(row["fingerprint"]))
        for report in self.reports.values():
            report.findings = len(set().union(*(per.get(name, set()) for name in report.names)))
        if self.outcome.resumed:
            self.outcome.new_fingerprints |= self.org.new_fingerprints(self.outcome.run_id)


@dataclass(frozen=True)
class _ScanCall:
    """A scan task to submit: its arguments, its key, and the worker it must run on ("" for
    any: a local pool, or a fetch whose worker is not known)."""

    args: tuple[Any, ...]
    key: str
    near: str


def merged_incident(joined: OrgIncident) -> Incident:
    """An organisation incident as the one store incident the responders notify: every
    credential with every place it was seen, the most urgent verification.

    Its id is the org incident's and its credential set's: the same incident is never
    notified twice to one target, and a credential newly joining a project's incident is."""
    from scanner.render.incidents import OUTCOME_ORDER

    first = joined.incidents[0]
    if len(joined.incidents) == 1:
        members = first.members
    else:
        by_fingerprint: dict[str, IncidentMember] = {}
        for incident in joined.incidents:
            for member in incident.members:
                known = by_fingerprint.get(member.fingerprint)
                if known is None:
                    by_fingerprint[member.fingerprint] = member
                    continue
                places = {_place(o): o for o in (*known.occurrences, *member.occurrences)}
                occurrences = tuple(places[k] for k in sorted(places))
                by_fingerprint[member.fingerprint] = dataclasses.replace(
                    known, occurrences=occurrences
                )
        members = tuple(by_fingerprint[fp] for fp in sorted(by_fingerprint))
    urgent = max(joined.incidents, key=lambda i: OUTCOME_ORDER.get(i.verification["status"], 0))
    digest = sha256("\n".join(joined.fingerprints).encode()).hexdigest()[:8]
    repositories = joined.repositories
    where = first.location
    if len(joined.incidents) > 1:
        shown = ", ".join(repositories[:3]) + (", ..." if len(repositories) > 3 else "")
        where = f"{len(joined.incidents)} places in {len(repositories)} repositories ({shown})"
    if joined.project:
        where = f"Google Cloud project {joined.project}: {where}"
    merged: Incident = dataclasses.replace(
        first,
        id=f"{joined.id}.{digest}",
        location=where,
        roles=tuple(sorted({r for i in joined.incidents for r in i.roles})),
        members=members,
        verification=urgent.verification,
        first_seen=min(i.first_seen for i in joined.incidents),
        project=joined.project,
    )
    return merged


def _place(occurrence: StoredOccurrence) -> tuple[str, str, str, int, int]:
    return (occurrence.repo, occurrence.commit, occurrence.path, occurrence.line, occurrence.column)


def _baseline(config: api.Config) -> frozenset[BaselineEntry]:
    """The baseline's entries: they hash clear secrets, which only the scan tasks hold."""
    chosen, _ = config.effective_baseline()
    if not chosen:
        return frozenset()
    from scanner.baseline import load_baseline

    return frozenset(load_baseline(Path(chosen)))


def release_task(cache_root: str, key: str, held: Sequence[str], timeout: float) -> None:
    """Drop the hold on scanned rewritten-away tips in this worker's mirror (cluster runs)."""
    from scanner.org.mirror import MirrorCache

    MirrorCache(Path(cache_root), timeout).release(key, list(held))


def incidents_of_run(store: Store, run: OrgRun) -> list[Any]:
    """The store's incidents with an occurrence in one of the run's repositories."""
    names = {name for r in run.repositories for name in r.names}
    return [i for i in api.incidents_of(store) if names & set(i.repositories)]


def _submit(
    executor: Executor,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    key: str,
    git: bool = False,
    near: str = "",
    pinned: bool = True,
) -> Future[Any]:
    from scanner.org.executor import TaskExecutor

    if isinstance(executor, TaskExecutor):
        return executor.submit_task(fn, args, key, git=git, near=near, pinned=pinned)
    return executor.submit(fn, *args)


def _task_key(kind: str, repo_key: str, *parts: Sequence[str]) -> str:
    """Deterministic: the same repository, tips and rules make the same task."""
    material = json.dumps([repo_key, *[list(p) for p in parts]])
    return f"devtoken-{kind}-{sha256(material.encode()).hexdigest()[:32]}"


def _name_of(ref: RepositoryRef) -> str:
    """What findings name a repository by: `org/name` from an API, the URL for a listed one."""
    return ref.clone_url if ref.host_kind == "listed" else ref.full_name


def _label(spec: Any) -> str:
    label = getattr(spec, "label", None)
    return str(label() if callable(label) else label or type(spec).__name__)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:2000]
