"""Turn per-blob matches into findings with provenance and an exposure window.

After every blob was scanned once, only the few paths that held a secret are
walked again (`git log -- <paths>`) to find every commit that added or
removed each secret there, and each branch tip is checked for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanner.git.blobscan import BlobMatch
from scanner.git.history import History
from scanner.git.objects import TREE_LISTING, blobs_at
from scanner.git.runner import argument_groups, run_git
from scanner.models import CommitInfo, Exposure
from scanner.secret import Secret

if TYPE_CHECKING:
    from scanner.git.discover import Revisions, Standing

SecretKey = tuple[str, Secret, bytes]  # (rule id, secret, path)


@dataclass
class Occurrence:
    """One secret at one path: its first blob, and the commits that added/removed it."""

    key: SecretKey
    match: BlobMatch
    first_commit: str
    first_time: int
    added: list[tuple[int, str]] = field(default_factory=list)  # (time, commit)
    removed: list[tuple[int, str]] = field(default_factory=list)
    present_in: list[str] = field(default_factory=list)
    unreachable: bool = False  # only commits no scanned ref reaches hold it here
    rewritten: bool = False  # only commits rewritten-away tips reach hold it here

    def removal(self) -> str | None:
        """The first commit that removed it after it was last (re)added."""
        last_added = max((when for when, _ in self.added), default=self.first_time)
        later = sorted(r for r in self.removed if r[0] >= last_added)
        return later[0][1] if later else None


def occurrences(
    history: History,
    matches: Iterable[BlobMatch],
    standing: Callable[[int], Standing] = lambda index: (False, False),
) -> dict[SecretKey, Occurrence]:
    """Group matches by (rule, secret, path), over every path their blob lived at.

    The earliest commit wins: a live one before a rewritten-away one, either before an
    unreachable one (`standing` by commit index).
    """
    found: dict[SecretKey, Occurrence] = {}
    for match in matches:
        for commit_index, path in history.places(match.blob):
            sha, when = history.commits[commit_index]
            lost, rewritten = standing(commit_index)
            key = (match.rule_id, match.secret, path)
            current = found.get(key)
            rank = (current.unreachable, current.rewritten, current.first_time) if current else None
            if rank is None or (lost, rewritten, when) < rank:
                found[key] = Occurrence(
                    key, match, sha.decode(), when, unreachable=lost, rewritten=rewritten
                )
    return found


def secrets_by_blob(matches: Iterable[BlobMatch]) -> dict[bytes, set[tuple[str, Secret]]]:
    by_blob: dict[bytes, set[tuple[str, Secret]]] = defaultdict(set)
    for match in matches:
        by_blob[match.blob.lower()].add((match.rule_id, match.secret))
    return by_blob


def trace_paths(
    repo: str,
    revisions: Revisions,
    found: dict[SecretKey, Occurrence],
    by_blob: dict[bytes, set[tuple[str, Secret]]],
) -> None:
    """Record every commit that added or removed each secret at its path.

    Few paths: `git log -- <paths>`. Many: one walk of the whole history is
    cheaper than git matching every entry against thousands of pathspecs.
    """
    paths = sorted({key[2] for key in found})
    if len(paths) > TREE_LISTING:
        _trace(repo, revisions, (), found, by_blob)
        return
    for group in argument_groups(paths):
        _trace(repo, revisions, group, found, by_blob)


def _trace(
    repo: str,
    revisions: Revisions,
    paths: Sequence[bytes],
    found: dict[SecretKey, Occurrence],
    by_blob: dict[bytes, set[tuple[str, Secret]]],
) -> None:
    history = History()
    for change in revisions.walk(repo, history, paths=paths):
        sha, when = history.commits[change.commit]
        before = by_blob.get(change.old_blob, set())
        after = by_blob.get(change.new_blob, set())
        for rule_id, secret in after - before:
            occurrence = found.get((rule_id, secret, change.path))
            if occurrence:
                occurrence.added.append((when, sha.decode()))
        for rule_id, secret in before - after:
            occurrence = found.get((rule_id, secret, change.path))
            if occurrence:
                occurrence.removed.append((when, sha.decode()))


def check_tips(
    repo: str,
    branches: Sequence[tuple[str, str]],
    found: dict[SecretKey, Occurrence],
    by_blob: dict[bytes, set[tuple[str, Secret]]],
) -> None:
    """Mark, per occurrence, the branches whose tip still holds the secret at its path."""
    paths = sorted({key[2] for key in found})
    if not paths:
        return
    names: dict[str, list[str]] = defaultdict(list)  # tip commit -> branches at it
    for branch, sha in branches:
        names[sha].append(branch)
    for (sha, path), blob in blobs_at(repo, sorted(names), paths).items():
        for rule_id, secret in by_blob.get(blob.lower(), set()):
            occurrence = found.get((rule_id, secret, path))
            if occurrence:
                occurrence.present_in.extend(names[sha])


def commit_infos(repo: str, shas: Iterable[str]) -> dict[str, CommitInfo]:
    fmt = "--format=%x01%H%x00%an%x00%ae%x00%aI%x00%s"
    out = b"".join(
        run_git(repo, ["log", "--no-walk=unsorted", "--encoding=UTF-8", fmt, *group])
        for group in argument_groups(sorted(set(shas)))
    )
    infos: dict[str, CommitInfo] = {}
    for record in out.split(b"\x01")[1:]:
        fields = record.rstrip(b"\n").split(b"\0")
        if len(fields) >= 5:
            sha, author, email, date, message = (f.decode("utf-8", "replace") for f in fields[:5])
            infos[sha] = CommitInfo(sha, author, email, date, message)
    return infos


def exposure(occurrence: Occurrence, infos: dict[str, CommitInfo]) -> Exposure:
    introduced_sha = occurrence.first_commit
    if occurrence.added:
        introduced_sha = min(occurrence.added)[1]
    removed_sha = occurrence.removal()
    unknown = CommitInfo(introduced_sha, "", "", "", "")
    return Exposure(
        introduced=infos.get(introduced_sha, unknown),
        removed=infos.get(removed_sha) if removed_sha else None,
        present_in=tuple(sorted(set(occurrence.present_in))),
        added_in_commits=len({sha for _, sha in occurrence.added}) or 1,
        # still at a live branch tip: not only in rewritten-away history
        rewritten=occurrence.rewritten and not occurrence.present_in,
    )
