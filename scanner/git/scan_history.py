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
from collections.abc import Callable, Iterator
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
from scanner.git.history import History, walk_log
from scanner.git.messages import MessageOccurrence, message_occurrences, redact_messages
from scanner.git.parallel import BATCH, scan_blobs
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
    discovered = _discover(options.repo, revisions, options.max_commits, history)

    def progress(done: int) -> None:
        if on_progress:
            on_progress(f"{len(history.commits):,} commits, {done:,}/{len(history):,} blobs")

    blobs = scan_blobs(
        options.repo,
        engine,
        discovered,
        options.jobs,
        options.scan_binary,
        options.max_blob_size,
        progress,
    )
    result = ScanResult(rules=engine.rules, engine=engine.backend)
    _attribute(options, info, revisions, history, blobs, engine, result)
    result.skipped.extend(_skipped(history, blobs, info))
    result.bytes_scanned = blobs.bytes_scanned
    result.files_scanned = blobs.blobs_scanned
    result.extra_stats = {
        "commits": len(history.commits),
        "blobs": len(history),
        "blobs_scanned": blobs.blobs_scanned,
        "messages_scanned": blobs.messages_scanned,
        "shallow": info.shallow,
        "revisions": revisions,
        "repo": options.repo,
        "remote_url": info.remote_url or "",
    }
    return result.finish(started)


def _discover(
    repo: str, revisions: list[str], max_commits: int | None, history: History
) -> Iterator[list[bytes]]:
    """Walk history once, yielding batches of blobs not seen before and of every commit.

    A commit goes in for its message: the workers read it like a blob.
    """
    batch: list[bytes] = []
    sent = 0  # commits already queued
    for change in walk_log(repo, revisions, history, max_commits):
        if history.add(change):
            batch.append(change.new_blob)
        if len(batch) + len(history.commits) - sent >= BATCH:
            batch += [sha for sha, _ in history.commits[sent:]]
            sent = len(history.commits)
            yield batch
            batch = []
    batch += [sha for sha, _ in history.commits[sent:]]
    for start in range(0, len(batch), BATCH):
        yield batch[start : start + BATCH]


def _attribute(
    options: GitOptions,
    info: RepoInfo,
    revisions: list[str],
    history: History,
    blobs: BlobScanResult,
    engine: Engine,
    result: ScanResult,
) -> None:
    rules = {rule.id: rule for rule in engine.rules}
    in_blobs = [m for m in blobs.matches if not m.in_message]
    in_messages = [m for m in blobs.matches if m.in_message]
    findings = [m for m in in_blobs if m.reason is None]
    found = occurrences(history, findings)
    by_blob = secrets_by_blob(findings)
    trace_paths(options.repo, revisions, found, by_blob)
    check_tips(options.repo, info.branches, found, by_blob)
    suppressed = _first_suppressed(history, in_blobs)
    in_files = {(m.rule_id, m.secret) for m in findings}
    only_in_messages = [m for m in in_messages if (m.rule_id, m.secret) not in in_files]
    messages = message_occurrences(history.commits, [m for m in only_in_messages if not m.reason])
    messages_suppressed = message_occurrences(
        history.commits,
        [m for m in only_in_messages if m.reason and (m.rule_id, m.secret) not in messages],
    )
    shas = [o.first_commit for o in found.values()]
    shas += [sha for o in found.values() for _, sha in o.added + o.removed]
    shas += [sha for sha, _ in suppressed.values()]
    shas += [o.commit for o in [*messages.values(), *messages_suppressed.values()]]
    known = {
        m.secret: Secret(m.secret, rules[m.rule_id].redact_keep).redacted for m in blobs.matches
    }
    infos = redact_messages(engine, commit_infos(options.repo, shas), known)
    for occurrence in found.values():
        window = exposure(occurrence, infos)
        provenance = _provenance(occurrence.key[2], occurrence.match, window.introduced)
        provenance = dataclasses.replace(provenance, exposure=window)
        result.findings.append(Finding(_match(rules, occurrence.match), provenance))
    for sha, match in suppressed.values():
        commit = infos.get(sha, CommitInfo(sha, "", "", "", ""))
        seen = history.first_seen(match.blob)
        path = seen[1] if seen else b"?"
        assert match.reason is not None
        result.suppressed.append(
            Suppressed(_match(rules, match), _provenance(path, match, commit), match.reason)
        )
    _attribute_messages([*messages.values(), *messages_suppressed.values()], infos, rules, result)


def _attribute_messages(
    messages: list[MessageOccurrence],
    infos: dict[str, CommitInfo],
    rules: dict[str, Rule],
    result: ScanResult,
) -> None:
    """A secret only in commit messages: path "", `in: commit-message`, its earliest commit."""
    for occurrence in messages:
        commit = infos.get(occurrence.commit, CommitInfo(occurrence.commit, "", "", "", ""))
        provenance = GitProvenance(
            path="",
            source="git-history",
            commit=commit,
            exposure=Exposure(commit, None, (), occurrence.commits),
            location="commit-message",
        )
        match = occurrence.match
        if match.reason is None:
            result.findings.append(Finding(_match(rules, match), provenance))
        else:
            result.suppressed.append(Suppressed(_match(rules, match), provenance, match.reason))


def _first_suppressed(
    history: History, matches: list[BlobMatch]
) -> dict[tuple[str, str, bytes], tuple[str, BlobMatch]]:
    earliest: dict[tuple[str, str, bytes], tuple[int, str, BlobMatch]] = {}
    for match in matches:
        seen = history.first_seen(match.blob)
        if match.reason is None or seen is None:
            continue
        index, path = seen
        sha, when = history.commits[index]
        key = (match.rule_id, match.secret, path)
        if key not in earliest or when < earliest[key][0]:
            earliest[key] = (when, sha.decode(), match)
    return {key: (sha, match) for key, (_, sha, match) in earliest.items()}


def _provenance(path: bytes, match: BlobMatch, commit: CommitInfo) -> GitProvenance:
    return GitProvenance(
        path=path.decode("utf-8", "replace"),
        source="git-history",
        blob=match.blob.decode(),
        commit=commit,
    )


def _match(rules: dict[str, Rule], blob_match: BlobMatch) -> Match:
    rule = rules[blob_match.rule_id]
    return Match(
        rule=rule,
        secret=Secret(blob_match.secret, rule.redact_keep),
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
        if seen is None and not commits:
            commits = {c for c, _ in history.commits}
        if seen is None and sha in commits:
            skipped.append(Skipped("", reason, f"{detail} (message of commit {sha.decode()})"))
            continue
        path = seen[1].decode("utf-8", "replace") if seen else "?"
        commit = history.commits[seen[0]][0].decode()[:12] if seen else "?"
        skipped.append(
            Skipped(path, reason, f"{detail} (blob {sha.decode()[:12]}, commit {commit})")
        )
    return skipped


__all__ = ["GitOptions", "Occurrence", "scan_git"]
