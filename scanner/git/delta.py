"""The org scan's history delta: what new tips add over the tips scanned last time.

One walk shape for the three steps a repository goes through: `read_tips` says what the
mirror holds, `delta_blobs` names the blobs of the commits reachable from the new tips
(and the rewritten-away tips the mirror holds) but not from the old ones, and
`scan_delta` scans them (less those a ledger already knows clean) with the same pipeline
and the same provenance as `devtoken git`. Tips are refs' object ids unpeeled, so an
annotated tag's tip is its tag object: the delta reads the messages of the tag objects the
new tips reach (a tag of a tag too) and the old tips do not, so a tag pushed onto an old
commit is read once, and a tag seen last time is not read again. Old tips the repository
no longer has are dropped: the delta is then everything reachable, never an error and
never a gap.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from scanner.engine import Engine
from scanner.git.discover import Phases, Plan, Revisions, discover
from scanner.git.history import History
from scanner.git.mirror import HELD_PREFIX
from scanner.git.repo import RepoInfo
from scanner.git.runner import GitError, run_git
from scanner.git.scan_history import Reading, scan_plan
from scanner.git.tags import reached_tags
from scanner.scan import ScanResult
from scanner.urls import public_url

_BRANCHES = ("refs/heads/", "refs/remotes/")
_OBJECT_ID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # sha-1 or sha-256, full length


def read_tips(repo: str) -> tuple[dict[str, str], dict[str, str]]:
    """(tips, held): every ref -> the object it names; held = refs under
    refs/devtoken/rewritten/ (force-pushed-away tips the mirror cache keeps)."""
    out = run_git(repo, ["for-each-ref", "--format=%(objectname) %(refname)"])
    tips: dict[str, str] = {}
    held: dict[str, str] = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        sha, _, ref = line.partition(" ")
        (held if ref.startswith(HELD_PREFIX) else tips)[ref] = sha
    return tips, held


@dataclass(frozen=True)
class Delta:
    """A repository's delta as git walks it, and the branches presence is checked on."""

    info: RepoInfo
    plan: Plan
    new_tips: int  # commits walked from (peeled, deduplicated)
    held_tips: int
    old_tips: int  # old tips still in the repository (the walk stops at them)
    old_tips_gone: int  # old tips the repository no longer has (ignored)


def plan_delta(
    repo: str,
    new_tips: Sequence[str],
    old_tips: Sequence[str],
    held: Sequence[str] | None = None,
) -> Delta:
    """The walk `new + held --not old`, the held part apart (see discover.Plan).

    `held` None: the repository's refs/devtoken/rewritten/ refs, less any sha a live ref
    also names. Given (a FetchOutcome's, when another machine fetched), exactly those. A
    held sha among `new_tips` stays held. Tips that name no commit (a tag on a tree) are
    left out, as `git log --all` leaves them out. Raises GitError for a new or held tip
    the repository does not have: it would be a silent gap.
    """
    for sha in (*new_tips, *old_tips, *(held or ())):
        if not _OBJECT_ID.fullmatch(sha):
            raise GitError(f"not a full object id: {sha[:80]!r}")
    tips, held_refs = read_tips(repo)
    kept = set(held) if held is not None else set(held_refs.values()) - set(tips.values())
    peeled, missing = _peel(repo, sorted({*new_tips, *kept, *old_tips}))
    for what, shas in (("held tip", kept), ("tip", new_tips)):
        absent = sorted(missing.intersection(shas))
        if absent:
            raise GitError(f"{what} {absent[0]} is not in the repository {repo}")
    live = sorted({peeled[sha] for sha in new_tips if sha in peeled and sha not in kept})
    walked = sorted({peeled[sha] for sha in kept if sha in peeled} - set(live))
    old = sorted({peeled[sha] for sha in old_tips if sha in peeled})
    named: dict[str, list[str]] = {}
    for ref, sha in tips.items():
        named.setdefault(sha, []).append(ref)
    seen = {tag.sha for tag in reached_tags(repo, old_tips, named)}
    tags = tuple(t for t in reached_tags(repo, new_tips, named) if t.sha not in seen)
    plan = Plan(
        Revisions(lines=(*live, *_not(old))) if live else None,
        Revisions(lines=(*walked, *_not(sorted({*live, *old})))) if walked else None,
        tags=tags,
    )
    branches = tuple(
        sorted(
            (ref, sha)
            for ref, sha in tips.items()
            if ref.startswith(_BRANCHES) and not ref.endswith("/HEAD")
        )
    )
    gone = len(missing.intersection(old_tips))
    return Delta(_describe(repo, branches), plan, len(live), len(walked), len(old), gone)


def delta_blobs(
    repo: str,
    new_tips: Sequence[str],
    old_tips: Sequence[str],
    held: Sequence[str] | None = None,
) -> list[bytes]:
    """Hex blob ids (bytes, as History keeps them) that commits reachable from `new_tips`
    and the held tips, and not from `old_tips`, added or changed; in walk order, once each.
    Exactly the blobs `scan_delta` reads with an empty `skip` (and the same `held`)."""
    delta = plan_delta(repo, new_tips, old_tips, held)
    return list(discover(delta.info.path, delta.plan, History(), Phases()))


@dataclass
class DeltaResult:
    result: ScanResult  # findings with GitProvenance exactly as `devtoken git` gives them
    scanned: list[tuple[bytes, int]]  # (blob id, matches incl. suppressed) per blob read whole
    skipped_known: int  # candidates not read because `skip` had them


def scan_delta(
    repo: str,
    engine: Engine,
    new_tips: Sequence[str],
    old_tips: Sequence[str],
    skip: frozenset[bytes] = frozenset(),
    jobs: int = 1,
    max_blob_size: int = 256 << 20,
    scan_binary: bool = False,
    held: Sequence[str] | None = None,
) -> DeltaResult:
    """Scan the delta's blobs (less `skip`) and the messages of its commits and new tags.

    Exposure windows are computed within the delta's commits; "still present in" checks
    the repository's branches now. Findings only the held tips reach are marked
    `rewritten` (`held` as for `plan_delta`). `scanned` leaves out blobs not read whole
    (missing, too large, binary, a rule timed out): a ledger must never call them clean.
    """
    started = time.perf_counter()
    delta = plan_delta(repo, new_tips, old_tips, held)
    reading = Reading(jobs, max_blob_size, scan_binary)
    walked = scan_plan(delta.info, delta.plan, engine, reading, skip=skip, ledger=True)
    result = walked.result
    result.extra_stats = {
        "commits": len(walked.history.commits),
        "rewritten_commits": walked.phases.rewritten_commits(),
        "blobs": len(walked.history),
        "blobs_scanned": walked.blobs.blobs_scanned,
        "blobs_skipped_known": walked.skipped_known,
        "messages_scanned": walked.blobs.messages_scanned,
        "tags": len(delta.plan.tags),
        "tag_messages_scanned": walked.blobs.tag_messages_scanned,
        "new_tips": delta.new_tips,
        "held_tips": delta.held_tips,
        "old_tips": delta.old_tips,
        "old_tips_gone": delta.old_tips_gone,
        "shallow": delta.info.shallow,
        "repo": delta.info.path,
        "remote_url": delta.info.remote_url or "",
    }
    return DeltaResult(result.finish(started), walked.scanned, walked.skipped_known)


def _not(shas: Sequence[str]) -> list[str]:
    return [f"^{sha}" for sha in shas]


def _peel(repo: str, shas: Sequence[str]) -> tuple[dict[str, str], set[str]]:
    """(sha -> the commit it names, shas the repository does not have)."""
    if not shas:
        return {}, set()
    text = "".join(f"{sha}\n{sha}^{{commit}}\n" for sha in shas).encode()
    out = run_git(repo, ["cat-file", "--batch-check=%(objectname) %(objecttype)"], input=text)
    lines = out.decode().splitlines()
    peeled: dict[str, str] = {}
    missing: set[str] = set()
    for index, sha in enumerate(shas):
        plain, commit = lines[2 * index], lines[2 * index + 1]
        if plain.endswith((" missing", " ambiguous")):
            missing.add(sha)
        elif commit.endswith(" commit"):
            peeled[sha] = commit.partition(" ")[0]
    return peeled, missing


def _describe(repo: str, branches: tuple[tuple[str, str], ...]) -> RepoInfo:
    """What scan_plan needs of the repository, from git itself (no GitPython: a mirror
    may have tens of thousands of refs)."""
    args = ["rev-parse", "--is-bare-repository", "--is-shallow-repository"]
    bare, shallow = run_git(repo, args).decode().split()[:2]
    url = run_git(repo, ["config", "--get", "remote.origin.url"], check=False).decode().strip()
    return RepoInfo(
        path=os.path.abspath(repo),
        bare=bare == "true",
        shallow=shallow == "true",
        branches=branches,
        tags=(),
        remote_url=public_url(url) if url else None,
    )


__all__ = ["DeltaResult", "delta_blobs", "plan_delta", "read_tips", "scan_delta"]
