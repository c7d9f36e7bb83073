"""`devtoken git`: scan every blob of a repository's history once, then attribute.

Pipeline: GitPython describes the repository (refs, stashes, shallow) ->
`git log --raw` streams what each commit added -> new blobs go to worker
processes that read them with `cat-file --batch` and scan them in batches ->
matches are grouped per (rule, secret, path) and given the commit that
introduced them, the commit that removed them and the branches that still
hold them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scanner.engine import Engine
from scanner.git.attribution import (
    Occurrence,
    check_tips,
    commit_infos,
    exposure,
    occurrences,
    secrets_by_blob,
    trace_paths,
)
from scanner.git.blobscan import BlobMatch, BlobScanResult
from scanner.git.discover import Unreached, batches, commits, discover
from scanner.git.history import History
from scanner.git.messages import MessageOccurrence, message_occurrences, redact_messages
from scanner.git.parallel import scan_blobs
from scanner.git.repo import RepoInfo, open_repo
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


def scan_git(
    options: GitOptions, engine: Engine, on_progress: Callable[[str], None] | None = None
) -> ScanResult:
    started = time.perf_counter()
    info = open_repo(options.repo)
    # Every git call runs at the top level, even when started from a subdirectory.
    options = dataclasses.replace(options, repo=info.path)
    revisions = revisions_for(options, info)
    history = History()
    unreached = Unreached() if options.all_objects else None
    names = discover(options.repo, revisions, options.max_commits, history, unreached)

    def progress(done: int) -> None:
        if on_progress:
            on_progress(f"{len(history.commits):,} commits, {done:,}/{len(history):,} blobs")

    blobs = scan_blobs(
        options.repo,
        engine,
        batches(names),
        options.jobs,
        options.scan_binary,
        options.max_blob_size,
        progress,
        tail=lambda: commits(history),
    )
    result = ScanResult(rules=engine.rules, engine=engine.backend)
    _attribute(options, info, revisions, history, blobs, engine, unreached, result)
    result.skipped.extend(_skipped(history, blobs, info))
    result.bytes_scanned = blobs.bytes_scanned
    result.files_scanned = blobs.blobs_scanned
    result.extra_stats = {
        "commits": len(history.commits),
        "blobs": len(history),
        "blobs_scanned": blobs.blobs_scanned,
        "messages_scanned": blobs.messages_scanned,
        **(unreached.stats(len(history.commits)) if unreached else {}),
        "shallow": info.shallow,
        "revisions": revisions,
        "repo": options.repo,
        "remote_url": info.remote_url or "",
    }
    return result.finish(started)


def _attribute(
    options: GitOptions,
    info: RepoInfo,
    revisions: list[str],
    history: History,
    blobs: BlobScanResult,
    engine: Engine,
    unreached: Unreached | None,
    result: ScanResult,
) -> None:
    rules = {rule.id: rule for rule in engine.rules}
    in_blobs = [m for m in blobs.matches if not m.in_message]
    findings = [m for m in in_blobs if m.reason is None]
    lost = unreached.commit_unreachable if unreached else (lambda index: False)
    found = occurrences(history, findings, lost)
    by_blob = secrets_by_blob(findings)
    trace_paths(options.repo, revisions, found, by_blob)
    check_tips(options.repo, info.branches, found, by_blob)
    suppressed = occurrences(history, [m for m in in_blobs if m.reason], lost)
    messages = _only_in_messages(history, blobs.matches, findings, lost)
    shas = [o.first_commit for o in [*found.values(), *suppressed.values()]]
    shas += [sha for o in found.values() for _, sha in o.added + o.removed]
    shas += [o.commit for o in messages]
    known = {m.secret.reveal(): m.secret.redacted for m in blobs.matches}
    infos = redact_messages(engine, commit_infos(options.repo, shas), known)
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
    if unreached:
        for match in _first_per_secret(m for m in in_blobs if m.blob in unreached.loose):
            _add(result, rules, match, _loose(match))


def _only_in_messages(
    history: History,
    matches: list[BlobMatch],
    findings: list[BlobMatch],
    lost: Callable[[int], bool],
) -> list[MessageOccurrence]:
    """Secrets found in commit messages and in no blob: a finding each (or a suppression)."""
    in_files = {(m.rule_id, m.secret) for m in findings}
    only = [m for m in matches if m.in_message and (m.rule_id, m.secret) not in in_files]
    found = message_occurrences(history.commits, [m for m in only if not m.reason], lost)
    dropped = message_occurrences(
        history.commits, [m for m in only if m.reason and (m.rule_id, m.secret) not in found], lost
    )
    return [*found.values(), *dropped.values()]


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
        exposure=Exposure(commit, None, (), occurrence.commits),
        location="commit-message",
        unreachable=occurrence.unreachable,
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


def _skipped(history: History, blobs: BlobScanResult, info: RepoInfo) -> list[Skipped]:
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
    for sha, reason, detail in blobs.skipped:
        seen = history.first_seen(sha)
        if seen is not None:
            path, commit = seen[1].decode("utf-8", "replace"), history.commits[seen[0]][0]
            where = f"blob {sha.decode()[:12]}, commit {commit.decode()[:12]}"
            skipped.append(Skipped(path, reason, f"{detail} ({where})"))
            continue
        commits = commits or {c for c, _ in history.commits}
        what = "message of commit" if sha in commits else "unreachable blob"
        skipped.append(Skipped("", reason, f"{detail} ({what} {sha.decode()})"))
    return skipped


__all__ = ["GitOptions", "Occurrence", "scan_git"]
