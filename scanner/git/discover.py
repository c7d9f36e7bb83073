"""Name every object the history pass reads: new blobs as history is walked, then every commit.

Blobs are named the first time the walk meets them (each is read once);
commits are named after the walk, for their messages. A plan may add the commits only
rewritten-away tips reach (held under refs/devtoken/rewritten/ by the mirror cache): they
are walked after the live history, so a blob they share with it keeps its live place and
only what a force-push dropped counts as rewritten-away. With `--all-objects` the object store
itself is listed afterwards: commits no scanned ref reaches (amended, rebased,
deleted branches, still kept until gc) are walked too, so their blobs keep a
commit and a path, and the blobs no commit reaches at all (dangling) follow
with their id only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from scanner.git.history import Change, History, walk_log
from scanner.git.objects import store_objects
from scanner.git.tags import Tag

BATCH = 512  # object names per message to a worker
Standing = tuple[bool, bool]  # (unreachable, rewritten): False, False is live history


@dataclass(frozen=True)
class Revisions:
    """What one `git log` walks: `args` on its command line, `lines` ("sha" or "^sha") on
    its stdin, so thousands of tips never meet the argument limit."""

    args: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()

    def walk(
        self,
        repo: str,
        history: History,
        max_commits: int | None = None,
        paths: Sequence[bytes] = (),
        window: Sequence[str] = (),
    ) -> Iterator[Change]:
        """`window`: options that keep only some commits (dates.window_args)."""
        stdin = [line.encode() for line in self.lines] if self.lines else None
        args = [*window, *self.args, *(["--stdin"] if self.lines else [])]
        return walk_log(repo, args, history, max_commits, paths, stdin)


@dataclass(frozen=True)
class Plan:
    """The live revisions, and those only rewritten-away tips reach (None: no such tips).

    `max_commits` and `window` (by date) narrow which commits' blobs are read, not the
    walk that traces each found secret's exposure: that covers the whole revisions.
    `tags`: the annotated tag objects whose messages are read with the commits' (tags.py)."""

    live: Revisions | None
    held: Revisions | None = None
    max_commits: int | None = None
    window: tuple[str, ...] = ()
    tags: tuple[Tag, ...] = ()


@dataclass
class Phases:
    """Where the rewritten-away commits start and end in History.commits (-1: not walked)."""

    rewritten: int = -1
    rewritten_end: int = -1

    def rewritten_commits(self) -> int:
        return self.rewritten_end - self.rewritten if self.rewritten >= 0 else 0


@dataclass
class Unreached:
    """What `--all-objects` found beyond the scanned refs."""

    boundary: int = -1  # index in History.commits of the first unreachable commit; -1: none
    loose: set[bytes] = field(default_factory=set)  # blob ids (hex) that no commit reaches
    tags: int = 0  # tag objects no scanned ref reaches, read for their messages (tags.py)

    def commit_unreachable(self, index: int) -> bool:
        return 0 <= self.boundary <= index

    def stats(self, commits: int) -> dict[str, int]:
        walked = commits - self.boundary if self.boundary >= 0 else 0
        return {
            "unreachable_commits": walked,
            "unreachable_blobs": len(self.loose),
            "unreachable_tags": self.tags,
        }


def batches(names: Iterable[bytes]) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for name in names:
        batch.append(name)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def discover(
    repo: str,
    plan: Plan,
    history: History,
    phases: Phases,
    unreached: Unreached | None = None,
    reached: Sequence[str] = (),
) -> Iterator[bytes]:
    """Walk the plan's live revisions, then its rewritten-away ones (marking where they
    start in `phases`), then, given `unreached`, what no ref of `reached` reaches."""
    if plan.live is not None:
        yield from _walk(
            plan.live.walk(repo, history, plan.max_commits, window=plan.window), history
        )
    if plan.held is not None:
        boundary = phases.rewritten = len(history.commits)
        changes = plan.held.walk(repo, history, plan.max_commits, window=plan.window)
        yield from _walk((c for c in changes if not _reached(history, c, boundary)), history)
        phases.rewritten_end = len(history.commits)
    if unreached is not None:
        yield from _unreached(repo, reached, history, unreached)


def standing(phases: Phases, unreached: Unreached | None) -> Callable[[int], Standing]:
    """Per commit index: whether only unreachable or only rewritten-away commits hold it."""
    lost = unreached.commit_unreachable if unreached else (lambda index: False)
    start = phases.rewritten

    def of(index: int) -> Standing:
        gone = lost(index)
        return gone, not gone and 0 <= start <= index

    return of


def _walk(changes: Iterable[Change], history: History) -> Iterator[bytes]:
    for change in changes:
        if history.add(change):
            yield change.new_blob


def commits(history: History, tags: Sequence[Tag] = ()) -> list[bytes]:
    """Every commit walked, then every tag object of `tags`: read once the walk is over,
    for their messages."""
    return [*(sha for sha, _ in history.commits), *(tag.sha.encode() for tag in tags)]


def _unreached(
    repo: str, revisions: Sequence[str], history: History, found: Unreached
) -> Iterator[bytes]:
    walked = {sha for sha, _ in history.commits}
    commits: list[bytes] = []
    blobs: list[bytes] = []
    for sha, kind in store_objects(repo):
        if kind == b"commit" and sha not in walked:
            commits.append(sha)
        elif kind == b"blob" and sha not in history:
            blobs.append(sha)
    del walked
    found.boundary = len(history.commits)
    if commits:
        changes = walk_log(repo, ["--stdin", "--not", *revisions], history, stdin=commits)
        boundary = found.boundary
        yield from _walk((c for c in changes if not _reached(history, c, boundary)), history)
    found.loose = {sha for sha in blobs if sha not in history}
    yield from sorted(found.loose)


def _reached(history: History, change: Change, boundary: int) -> bool:
    """The blob is known from a reachable commit: an unreachable copy adds no place to it."""
    return any(index < boundary for index, _ in history.places(change.new_blob))
