"""`devtoken git`: scan every blob of a repository's history once, then attribute.

Pipeline: GitPython describes the repository (refs, stashes, shallow) ->
`git log --raw` streams what each commit added -> new blobs go to worker
processes that read them with `cat-file --batch` and scan them in batches ->
matches are grouped per (rule, secret, path) and given the commit that
introduced them, the commit that removed them and the branches that still
hold them.

`scan_plan` is that pipeline for any walk: `devtoken git` (`scan_git`) and the org scan's
delta (`scanner.git.delta.scan_delta`: new tips and held rewritten-away tips, `--not` the
old tips, less a ledger's known-clean blobs) both run it.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanner.engine import Engine
from scanner.engine.chunks import ScanNotes
from scanner.git.attribution import (
    Occurrence,
    SecretKey,
    check_tips,
    commit_infos,
    exposure,
    occurrences,
    secrets_by_blob,
    trace_paths,
)
from scanner.git.blobscan import BlobMatch, BlobScanResult
from scanner.git.dates import iso, window_args
from scanner.git.discover import (
    Phases,
    Plan,
    Revisions,
    Standing,
    Unreached,
    batches,
    commits,
    discover,
    standing,
)
from scanner.git.history import History
from scanner.git.messages import MessageOccurrence, message_occurrences, redact_messages
from scanner.git.mirror import HELD_PREFIX
from scanner.git.parallel import scan_blobs
from scanner.git.repo import RepoInfo, open_repo
from scanner.git.tags import Tag, tags_for, unreached_tags
from scanner.models import (
    CommitInfo,
    Exposure,
    Finding,
    GitProvenance,
    Match,
    Skipped,
    Suppressed,
)
from scanner.rules import Rule
from scanner.scan import ScanResult
from scanner.secret import Secret

if TYPE_CHECKING:
    from scanner.progress import OnProgress

EXCLUDE_HELD = f"--exclude={HELD_PREFIX}*"  # the next --all leaves the held tips out


@dataclass(frozen=True)
class GitOptions:
    repo: str = "."
    branches: tuple[str, ...] = ()
    revision_range: str | None = None
    since_commit: str | None = None
    max_commits: int | None = None
    include_stashes: bool = True
    jobs: int = 2
    max_blob_size: int = 256 << 20
    scan_binary: bool = False
    all_objects: bool = False  # also what no ref reaches: amended, deleted, dangling
    since: int | None = None  # only commits dated (committer date, epoch) at or after this
    until: int | None = None  # ... and at or before this


def revisions_for(options: GitOptions, info: RepoInfo) -> list[str]:
    if options.revision_range:
        revisions = [options.revision_range]
    elif options.branches:
        revisions = list(options.branches)
    else:
        revisions = ["--all"]
        if options.include_stashes:
            revisions += list(info.stashes)
    if options.since_commit:
        revisions.append(f"^{options.since_commit}")
    return revisions


def plan_for(options: GitOptions, info: RepoInfo, revisions: list[str]) -> Plan:
    """`revisions` as one walk; with `--all` over a mirror holding rewritten-away tips, the
    held tips apart, after the rest, so what only they reach is known as such."""
    window = window_args(options.since, options.until)
    if not info.held or options.revision_range or options.branches:
        return Plan(Revisions(tuple(revisions)), None, options.max_commits, window)
    rest = ["--all", *(info.stashes if options.include_stashes else ())]
    since = [f"^{options.since_commit}"] if options.since_commit else []
    live = Revisions((EXCLUDE_HELD, *revisions))
    held = Revisions((*(sha for _, sha in info.held), *since, "--not", EXCLUDE_HELD, *rest))
    return Plan(live, held, options.max_commits, window)


def scan_git(
    options: GitOptions, engine: Engine, on_progress: OnProgress | None = None
) -> ScanResult:
    started = time.perf_counter()
    info = open_repo(options.repo)
    # Every git call runs at the top level, even when started from a subdirectory.
    options = dataclasses.replace(options, repo=info.path)
    revisions = revisions_for(options, info)
    unreached = Unreached() if options.all_objects else None
    tags = tags_for(info.path, revisions, options.since, options.until, options.since_commit)
    if unreached is not None:  # a deleted tag's object stays until gc: read it too
        lost = unreached_tags(info.path, tags)
        unreached.tags, tags = len(lost), (*tags, *lost)
    plan = dataclasses.replace(plan_for(options, info, revisions), tags=tags)
    walked = scan_plan(
        info,
        plan,
        engine,
        Reading(options.jobs, options.max_blob_size, options.scan_binary),
        unreached=unreached,
        reached=revisions,
        on_progress=on_progress,
    )
    history, result = walked.history, walked.result
    result.extra_stats = {
        "commits": len(history.commits),
        "blobs": len(history),
        "blobs_scanned": walked.blobs.blobs_scanned,
        "messages_scanned": walked.blobs.messages_scanned,
        "tags": len(plan.tags),
        "tag_messages_scanned": walked.blobs.tag_messages_scanned,
        **(unreached.stats(len(history.commits)) if unreached else {}),
        **({"rewritten_commits": walked.phases.rewritten_commits()} if plan.held else {}),
        "shallow": info.shallow,
        "revisions": revisions,
        **({"since": iso(options.since)} if options.since is not None else {}),
        **({"until": iso(options.until)} if options.until is not None else {}),
        "repo": options.repo,
        "remote_url": info.remote_url or "",
        "head_commit": info.head,
        "head_branch": info.head_branch,
    }
    return result.finish(started)


@dataclass(frozen=True)
class Reading:
    """How blobs are read: worker processes, the size past which a blob is skipped, and
    whether binary-looking content is scanned anyway."""

    jobs: int = 2
    max_blob_size: int = 256 << 20
    scan_binary: bool = False


@dataclass
class Walked:
    """One history scan, attributed: the result (stats not yet set) and what it read."""

    result: ScanResult
    history: History
    blobs: BlobScanResult
    scanned: list[tuple[bytes, int]]  # (blob id, matches) per blob read whole; with ledger=True
    skipped_known: int
    phases: Phases


def scan_plan(
    info: RepoInfo,
    plan: Plan,
    engine: Engine,
    reading: Reading,
    *,
    skip: frozenset[bytes] = frozenset(),
    ledger: bool = False,
    unreached: Unreached | None = None,
    reached: Sequence[str] = (),
    on_progress: OnProgress | None = None,
) -> Walked:
    """Walk `plan` in `info.path`, read every new blob not in `skip`, every walked commit's
    message and each of `plan.tags`' message, and attribute what matched; `info.branches`
    are the tips checked for what is still present. `ledger`: also list each blob read
    and its number of matches."""
    history = History()
    phases = Phases()
    names = discover(info.path, plan, history, phases, unreached, reached)
    known = _Skip(skip)
    if skip:
        names = known.filter(names)
    read: list[bytes] = []
    if ledger:
        names = _recorded(names, read)

    work: Iterable[list[bytes]] = batches(names)
    progress = None
    if on_progress is not None:
        progress = _WalkProgress(history, on_progress)
        work = progress.count(work)
    blobs = scan_blobs(
        info.path,
        engine,
        work,
        reading.jobs,
        reading.scan_binary,
        reading.max_blob_size,
        progress,
        tail=lambda: commits(history, plan.tags),
    )
    if progress is not None:
        progress.read()
    result = ScanResult(rules=engine.rules, engine=engine.backend)
    _attribute(info, plan, history, blobs, engine, standing(phases, unreached), unreached, result)
    result.skipped.extend(_skipped(history, blobs, info, plan.tags))
    result.bytes_scanned = blobs.bytes_scanned
    result.files_scanned = blobs.blobs_scanned
    scanned = _ledger(read, blobs) if ledger else []
    return Walked(result, history, blobs, scanned, known.count, phases)


class _WalkProgress:
    """Counts the batches the walk hands out, and reports the readers' progress: blobs found
    so far while the walk runs (WALK, a growing total), then done of the final total (SCAN)."""

    def __init__(self, history: History, emit: OnProgress) -> None:
        from scanner import progress  # only when a bar is shown

        self.history, self.emit, self.kinds = history, emit, progress
        self.found, self.phase = 0, progress.WALK

    def count(self, work: Iterable[list[bytes]]) -> Iterator[list[bytes]]:
        for batch in work:
            self.found += len(batch)
            yield batch
        self.phase = self.kinds.SCAN

    def __call__(self, done: int) -> None:
        commits = len(self.history.commits)
        done = min(done, self.found)
        self.emit(self.kinds.ProgressEvent(self.phase, "blobs", done, self.found, commits=commits))

    def read(self) -> None:
        """Every blob read: what follows is attribution."""
        self.phase = self.kinds.FINISH
        self(self.found)


class _Skip:
    """Drops the names of `skip` from a stream of blob ids, counting them."""

    def __init__(self, skip: frozenset[bytes]) -> None:
        self.skip = skip
        self.count = 0

    def filter(self, names: Iterable[bytes]) -> Iterator[bytes]:
        for name in names:
            if name in self.skip:
                self.count += 1
            else:
                yield name


def _recorded(names: Iterable[bytes], into: list[bytes]) -> Iterator[bytes]:
    for name in names:
        into.append(name)
        yield name


def _ledger(read: list[bytes], blobs: BlobScanResult) -> list[tuple[bytes, int]]:
    """(blob id, matches incl. suppressed) per blob read whole, sorted by id.

    A blob not read whole (missing, too large, binary, a rule timed out...) is left out,
    so no ledger ever calls it clean.
    """
    partial = {sha for sha, _, _ in blobs.skipped}
    counts = Counter(m.blob for m in blobs.matches if not m.in_message)
    return sorted((sha, counts[sha]) for sha in set(read) if sha not in partial)


def _attribute(
    info: RepoInfo,
    plan: Plan,
    history: History,
    blobs: BlobScanResult,
    engine: Engine,
    standing: Callable[[int], Standing],
    unreached: Unreached | None,
    result: ScanResult,
) -> None:
    rules = {rule.id: rule for rule in engine.rules}
    in_blobs = [m for m in blobs.matches if not m.in_message]
    findings = [m for m in in_blobs if m.reason is None]
    found = occurrences(history, findings, standing)
    by_blob = secrets_by_blob(findings)
    _trace(info.path, plan, found, by_blob)
    check_tips(info.path, info.branches, found, by_blob)
    suppressed = occurrences(history, [m for m in in_blobs if m.reason], standing)
    tags = {tag.sha.encode(): tag for tag in plan.tags}
    in_commits = [m for m in blobs.matches if m.blob not in tags]
    messages = _only_in_messages(history, in_commits, findings, standing)
    in_tags = _only_in_tag_messages(plan.tags, blobs.matches, findings)
    shas = [o.first_commit for o in [*found.values(), *suppressed.values()]]
    shas += [sha for o in found.values() for _, sha in o.added + o.removed]
    shas += [o.commit for o in messages]
    known = {m.secret.reveal(): m.secret.redacted for m in blobs.matches}
    notes = ScanNotes()
    shown = commit_infos(info.path, shas)
    shown.update((o.commit, tags[o.match.blob].commit_info()) for o, _ in in_tags)
    infos = redact_messages(engine, shown, known, notes)
    result.skipped.extend(
        Skipped("", "rule-timeout", f"{t.describe()} (masking commit messages)")
        for t in notes.timeouts
    )
    for occurrence in found.values():
        window = exposure(occurrence, infos)
        provenance = _provenance(occurrence, window.introduced)
        provenance = dataclasses.replace(provenance, exposure=window)
        result.findings.append(Finding(_match(rules, occurrence.match), provenance))
    for occurrence in suppressed.values():
        commit = infos.get(occurrence.first_commit, _unknown(occurrence.first_commit))
        _add(result, rules, occurrence.match, _provenance(occurrence, commit))
    for message in messages:
        commit = infos.get(message.commit, _unknown(message.commit))
        _add(result, rules, message.match, _in_message(message, commit))
    for message, refs in in_tags:
        tag = tags[message.match.blob]
        where = _in_tag_message(message, tag, infos.get(message.commit, tag.commit_info()), refs)
        _add(result, rules, message.match, where)
    if unreached:
        for match in _first_per_secret(m for m in in_blobs if m.blob in unreached.loose):
            _add(result, rules, match, _loose(match))


def _trace(
    repo: str,
    plan: Plan,
    found: dict[SecretKey, Occurrence],
    by_blob: dict[bytes, set[tuple[str, Secret]]],
) -> None:
    """Each occurrence's window within the commits of its kind: a rewritten-away one over
    the commits only held tips reach, the others over the live revisions."""
    for revisions, rewritten in ((plan.live, False), (plan.held, True)):
        group = {key: o for key, o in found.items() if o.rewritten == rewritten}
        if revisions is not None and group:
            trace_paths(repo, revisions, group, by_blob)


def _only_in_messages(
    history: History,
    matches: list[BlobMatch],
    findings: list[BlobMatch],
    standing: Callable[[int], Standing],
) -> list[MessageOccurrence]:
    """Secrets found in commit messages and in no blob: a finding each (or a suppression)."""
    in_files = {(m.rule_id, m.secret) for m in findings}
    only = [m for m in matches if m.in_message and (m.rule_id, m.secret) not in in_files]
    found = message_occurrences(history.commits, [m for m in only if not m.reason], standing)
    dropped = message_occurrences(
        history.commits,
        [m for m in only if m.reason and (m.rule_id, m.secret) not in found],
        standing,
    )
    return [*found.values(), *dropped.values()]


def _only_in_tag_messages(
    tags: Sequence[Tag], matches: list[BlobMatch], findings: list[BlobMatch]
) -> list[tuple[MessageOccurrence, tuple[str, ...]]]:
    """Secrets found in tag messages and in no blob, as `_only_in_messages` takes commit
    messages: a finding each (or a suppression), with every ref that reaches a tag holding
    it (a tag a ref reaches first, then the earliest by tagger date, names it; one only
    unreachable tags hold is unreachable)."""
    by_sha = {tag.sha.encode(): tag for tag in tags}
    in_files = {(m.rule_id, m.secret) for m in findings}
    only = [m for m in matches if m.blob in by_sha and (m.rule_id, m.secret) not in in_files]
    order = [(tag.sha.encode(), tag.time or 0) for tag in tags]

    def standing(index: int) -> Standing:
        return tags[index].unreachable, False

    found = message_occurrences(order, [m for m in only if not m.reason], standing)
    dropped = message_occurrences(
        order, [m for m in only if m.reason and (m.rule_id, m.secret) not in found], standing
    )
    refs: dict[tuple[str, Secret], set[str]] = {}
    for m in only:
        refs.setdefault((m.rule_id, m.secret), set()).update(by_sha[m.blob].refs)
    return [
        (occurrence, tuple(sorted(refs[key])))
        for key, occurrence in [*found.items(), *dropped.items()]
    ]


def _first_per_secret(matches: Iterable[BlobMatch]) -> list[BlobMatch]:
    """One match per (rule, secret, suppressed or not): the one in the lowest blob id."""
    first: dict[tuple[str, Secret, bool], BlobMatch] = {}
    for match in sorted(matches, key=lambda m: (m.blob, m.line, m.column)):
        first.setdefault((match.rule_id, match.secret, match.reason is None), match)
    return list(first.values())


def _add(
    result: ScanResult, rules: dict[str, Rule], match: BlobMatch, where: GitProvenance
) -> None:
    """A finding, or what --explain lists when a filter dropped the match."""
    if match.reason is None:
        result.findings.append(Finding(_match(rules, match), where))
    else:
        result.suppressed.append(Suppressed(_match(rules, match), where, match.reason))


def _unknown(sha: str) -> CommitInfo:
    return CommitInfo(sha, "", "", "", "")


def _in_message(occurrence: MessageOccurrence, commit: CommitInfo) -> GitProvenance:
    """A secret in commit messages: no path, `in: commit-message`, its earliest commit."""
    return GitProvenance(
        path="",
        source="git-history",
        commit=commit,
        exposure=Exposure(commit, None, (), occurrence.commits, occurrence.rewritten),
        location="commit-message",
        unreachable=occurrence.unreachable,
    )


def _in_tag_message(
    occurrence: MessageOccurrence, tag: Tag, shown: CommitInfo, refs: tuple[str, ...]
) -> GitProvenance:
    """A secret in annotated tag messages: no path, `in: tag-message`, the earliest tag
    holding it (as `commit`, its message redacted) and the refs that still reach one: it
    stays exposed while a tag ref does (no commit removes it). One only tags no ref reaches
    hold (`--all-objects`) is unreachable, with no ref holding it."""
    return GitProvenance(
        path="",
        source="git-history",
        commit=shown,
        exposure=Exposure(shown, None, refs, occurrence.commits, tag=tag.info()),
        location="tag-message",
        unreachable=occurrence.unreachable,
        tag=tag.info(),
    )


def _loose(match: BlobMatch) -> GitProvenance:
    """A blob no commit reaches (`--all-objects`): its id is all the provenance there is."""
    return GitProvenance(path="", source="git-history", blob=match.blob.decode(), unreachable=True)


def _provenance(occurrence: Occurrence, commit: CommitInfo) -> GitProvenance:
    return GitProvenance(
        path=occurrence.key[2].decode("utf-8", "replace"),
        source="git-history",
        blob=occurrence.match.blob.decode(),
        commit=commit,
        unreachable=occurrence.unreachable,
    )


def _match(rules: dict[str, Rule], blob_match: BlobMatch) -> Match:
    rule = rules[blob_match.rule_id]
    return Match(
        rule=rule,
        secret=blob_match.secret,
        offset=0,
        line=blob_match.line,
        column=blob_match.column,
        before="",
        after="",
        lines="",
        attributes=blob_match.attributes,
    )


def _skipped(
    history: History, blobs: BlobScanResult, info: RepoInfo, plan_tags: Sequence[Tag] = ()
) -> list[Skipped]:
    skipped = []
    if info.shallow:
        skipped.append(
            Skipped(info.path, "shallow", "shallow clone: older history is not in this repository")
        )
    if history.submodules:
        skipped.append(
            Skipped(info.path, "submodule", f"{history.submodules} submodule commit(s) not scanned")
        )
    commits: set[bytes] = set()  # filled only when a skipped object has no path
    tags = {tag.sha.encode() for tag in plan_tags}
    for sha, reason, detail in blobs.skipped:
        seen = history.first_seen(sha)
        if seen is not None:
            path, commit = seen[1].decode("utf-8", "replace"), history.commits[seen[0]][0]
            where = f"blob {sha.decode()[:12]}, commit {commit.decode()[:12]}"
            skipped.append(Skipped(path, reason, f"{detail} ({where})"))
            continue
        commits = commits or {c for c, _ in history.commits}
        what = "message of commit" if sha in commits else "unreachable blob"
        what = "message of tag" if sha in tags else what
        skipped.append(Skipped("", reason, f"{detail} ({what} {sha.decode()})"))
    return skipped


__all__ = ["GitOptions", "Occurrence", "Reading", "Walked", "scan_git", "scan_plan"]
