"""Plain records every source returns: a repository reference, the filters, a listing."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from scanner.errors import SourceError as SourceError  # its old home

HostKind = Literal["github", "gitlab", "listed"]
Visibility = Literal["public", "private", "internal", "unknown"]


_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


@dataclass(frozen=True)
class RepositoryRef:
    """One repository as a source saw it; picklable, so a worker can be handed it.

    `stable_id` survives renames and transfers (GitHub repository id, GitLab project id,
    a hash of the URL for listed ones); the mirror is keyed by it, not by the name.
    """

    host_kind: HostKind
    host: str
    stable_id: str
    full_name: str
    clone_url: str
    default_branch: str | None = None
    pushed_at: datetime | None = None
    archived: bool = False
    fork: bool = False
    visibility: Visibility = "unknown"
    source: str = ""
    # How far `pushed_at` may trail the real last push, in seconds: GitLab updates
    # last_activity_at at most once an hour. Only an exact time (0) may skip a fetch.
    pushed_at_lag: float = 0.0

    @property
    def key(self) -> str:
        """A directory name unique per (kind, host, id), safe on every filesystem."""
        host = _UNSAFE.sub("_", self.host).strip("._") or "local"
        return f"{self.host_kind}-{host}-{_UNSAFE.sub('_', self.stable_id)}"

    @property
    def name(self) -> str:
        return self.full_name.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Filters:
    """Which repositories a run wants; everything defaults to "the sources' own repositories".

    A glob with a "/" matches the full name (`org/name`), one without matches the name.
    `visibility` empty means any. `pushed_since` must be timezone-aware.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    forks: bool = False
    archived: bool = False
    visibility: tuple[str, ...] = ()
    pushed_since: datetime | None = None

    def __post_init__(self) -> None:
        if self.pushed_since is not None and self.pushed_since.utcoffset() is None:
            raise ValueError("pushed_since needs a time zone (e.g. 2024-01-01T00:00:00Z)")

    def rejects(self, ref: RepositoryRef) -> str | None:
        """The reason `ref` is left out (a count key in `Listing.skipped`), or None."""
        if ref.fork and not self.forks:
            return "fork"
        if ref.archived and not self.archived:
            return "archived"
        if self.visibility and ref.visibility not in self.visibility:
            return "visibility"
        if self.include and not any(_glob(ref, pattern) for pattern in self.include):
            return "not_included"
        if any(_glob(ref, pattern) for pattern in self.exclude):
            return "excluded"
        if self.is_stale(ref):
            return "not_pushed_since"
        return None

    def is_stale(self, ref: RepositoryRef) -> bool:
        return (
            self.pushed_since is not None
            and ref.pushed_at is not None
            and ref.pushed_at + timedelta(seconds=ref.pushed_at_lag) < self.pushed_since
        )


def _glob(ref: RepositoryRef, pattern: str) -> bool:
    subject = ref.full_name if "/" in pattern else ref.name
    return fnmatch.fnmatchcase(subject.lower(), pattern.lower())


@dataclass(frozen=True)
class Listing:
    """What one source gave: the admitted refs, what was left out and why, and whether
    every repository of the source was seen (only then may missing mirrors be marked deleted).
    """

    source: str
    refs: tuple[RepositoryRef, ...] = ()
    skipped: dict[str, int] = field(default_factory=dict)
    seen_keys: frozenset[str] = frozenset()
    exhaustive: bool = True
    error: str | None = None


def collect(
    source: str, candidates: Iterable[RepositoryRef], filters: Filters, sorted_by_push: bool
) -> Listing:
    """Filter `candidates` into a Listing; stop at the first stale one when the source
    lists most recently pushed first, so untouched repositories cost no further pages.

    A SourceError part-way keeps what was listed so far and says the listing is partial.
    """
    admitted: list[RepositoryRef] = []
    skipped: dict[str, int] = {}
    seen: set[str] = set()
    exhaustive, error = True, None
    try:
        for ref in candidates:
            if sorted_by_push and filters.is_stale(ref):
                exhaustive = False
                skipped["not_pushed_since"] = skipped.get("not_pushed_since", 0) + 1
                break
            seen.add(ref.key)
            reason = filters.rejects(ref)
            if reason:
                skipped[reason] = skipped.get(reason, 0) + 1
            else:
                admitted.append(ref)
    except SourceError as exc:
        exhaustive, error = False, str(exc)
    return Listing(source, tuple(admitted), skipped, frozenset(seen), exhaustive, error)
