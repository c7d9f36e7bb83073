"""The mirror cache: one bare mirror per repository, keyed by its stable id.

Layout: `<root>/<key>/repo.git` and `<root>/<key>/meta.json` (url, name, id, source, last
fetch, status). The key is the host's id, so a renamed or transferred repository finds its
mirror and only the URL is updated; one missing from an exhaustive listing is marked
deleted, never removed. Failures come back as results; one bad repository stops no other.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scanner.git import mirror as git_mirror
from scanner.git.mirror import HttpAuth, RefChange
from scanner.git.runner import GitError
from scanner.org.repositories import Listing, RepositoryRef
from scanner.urls import without_credentials

Status = Literal["cloned", "updated", "unchanged", "failed", "deleted"]
# Sources that come from an API answer may not point git at local files.
_API_PROTOCOLS = "https:http:git:ssh"
_LISTED_PROTOCOLS = "https:http:git:ssh:file"


def default_root(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    cache = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "devtoken" / "mirrors"


@dataclass(frozen=True)
class MirrorResult:
    """One repository after a sync. `before`/`after` are ref -> sha (empty when no git ran);
    `held` are rewritten-away tips kept under refs/devtoken/rewritten/ until released;
    `disk_bytes` is the whole entry (mirror and metadata)."""

    key: str
    full_name: str
    url: str
    status: Status
    path: str
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    changes: tuple[RefChange, ...] = ()
    held: tuple[str, ...] = ()
    renamed_from: str | None = None
    error: str | None = None
    disk_bytes: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class DiskUsage:
    total: int
    by_key: dict[str, int]


class MirrorCache:
    """`timeout` bounds each repository's sync as a whole; `auths` are per-URL-prefix
    tokens handed to git in its environment only."""

    def __init__(
        self,
        root: Path | None = None,
        timeout: float = 900.0,
        auths: Sequence[HttpAuth] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root if root is not None else default_root()
        self.timeout = timeout
        self.auths = tuple(auths)
        self.clock = clock
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)

    def path_of(self, key: str) -> Path:
        return self.root / key / "repo.git"

    def sync(
        self, refs: Iterable[RepositoryRef], jobs: int = 1, force: bool = False
    ) -> list[MirrorResult]:
        """Clone or fetch each ref (once per key), `jobs` at a time, in the order given."""
        unique = list({ref.key: ref for ref in refs}.values())
        if jobs <= 1:
            return [self.sync_one(ref, force) for ref in unique]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(lambda ref: self.sync_one(ref, force), unique))

    def sync_one(self, ref: RepositoryRef, force: bool = False) -> MirrorResult:
        """Never raises for one repository's trouble: a failure is a result with its error.
        A lock per mirror makes a retried or duplicated call wait rather than race."""
        started = self.clock()
        url = without_credentials(ref.clone_url)
        try:
            folder = self.root / ref.key
            folder.mkdir(mode=0o700, exist_ok=True)
            with open(folder / ".lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                return self._sync_locked(ref, url, force, started)
        except OSError as exc:
            error = self._redact(f"{type(exc).__name__}: {exc.strerror or exc}")
            return self._result(ref, url, "failed", started, error=error)

    def _sync_locked(
        self, ref: RepositoryRef, url: str, force: bool, started: float
    ) -> MirrorResult:
        meta = self.read_meta(ref.key)
        renamed_from = _renamed_from(meta, ref, url)
        if not force and meta and _untouched(meta, ref, url):
            return self._result(ref, url, "unchanged", started)
        env = git_mirror.mirror_env(
            self.auths, _LISTED_PROTOCOLS if ref.host_kind == "listed" else _API_PROTOCOLS
        )
        git_dir = self.path_of(ref.key)
        deadline = git_mirror.Deadline(self.timeout)
        try:
            if git_dir.is_dir():
                if meta is None or meta.get("url") != url:
                    git_mirror.set_origin(git_dir, url, env, deadline)
                outcome = git_mirror.fetch_mirror(git_dir, env, deadline)
                status: Status = "updated"
            else:
                outcome = git_mirror.create_mirror(git_dir, url, env, deadline, ref.default_branch)
                status = "cloned"
        except GitError as exc:
            error = self._redact(str(exc))
            self._write_meta(ref, url, meta, "failed", error)
            return self._result(ref, url, "failed", started, renamed_from, error=error)
        self._write_meta(ref, url, meta, status, None)
        return MirrorResult(
            ref.key,
            ref.full_name,
            url,
            status,
            str(git_dir),
            outcome.before,
            outcome.after,
            outcome.changes,
            outcome.held,
            renamed_from,
            None,
            disk_bytes(git_dir.parent),
            self.clock() - started,
        )

    def mark_missing(self, listing: Listing) -> list[MirrorResult]:
        """Mark deleted every mirror of `listing.source` the listing did not see. Only an
        exhaustive, error-free listing can tell; a partial one marks nothing."""
        if not listing.exhaustive or listing.error:
            return []
        marked = []
        for key, meta in self.entries().items():
            if meta.get("source") != listing.source or key in listing.seen_keys:
                continue
            if meta.get("status") != "deleted":
                meta.update(status="deleted", deleted_at=self.clock())
                self._store_meta(key, meta)
            marked.append(
                MirrorResult(
                    key,
                    str(meta.get("full_name", "")),
                    str(meta.get("url", "")),
                    "deleted",
                    str(self.path_of(key)),
                    disk_bytes=disk_bytes(self.root / key),
                )
            )
        return marked

    def release(self, key: str, shas: Sequence[str]) -> None:
        """Drop the hold on rewritten-away tips once the caller has scanned them."""
        env = git_mirror.mirror_env()
        git_mirror.release_held(self.path_of(key), shas, env, git_mirror.Deadline(self.timeout))

    def entries(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for child in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            meta = self.read_meta(child.name)
            if meta is not None:
                found[child.name] = meta
        return found

    def disk_usage(self) -> DiskUsage:
        by_key = {key: disk_bytes(self.root / key) for key in self.entries()}
        return DiskUsage(sum(by_key.values()), by_key)

    def read_meta(self, key: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.root / key / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _write_meta(
        self,
        ref: RepositoryRef,
        url: str,
        old: dict[str, Any] | None,
        status: Status,
        error: str | None,
    ) -> None:
        meta = dict(old or {})
        names = list(meta.get("previous_names", []))
        if old and old.get("full_name") not in (None, ref.full_name):
            names.append(old["full_name"])
        now = self.clock()
        meta.update(
            key=ref.key,
            host_kind=ref.host_kind,
            host=ref.host,
            stable_id=ref.stable_id,
            full_name=ref.full_name,
            url=url,
            source=ref.source,
            default_branch=ref.default_branch,
            previous_names=names,
            status=status,
            error=error,
            last_attempt=now,
            deleted_at=None,
        )
        if status != "failed":
            meta.update(last_fetch=now, pushed_at=_iso(ref))
        self._store_meta(ref.key, meta)

    def _store_meta(self, key: str, meta: Mapping[str, Any]) -> None:
        folder = self.root / key
        folder.mkdir(mode=0o700, exist_ok=True)
        partial = folder / "meta.json.partial"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(meta, handle, indent=1, sort_keys=True)
        os.replace(partial, folder / "meta.json")

    def _result(
        self,
        ref: RepositoryRef,
        url: str,
        status: Status,
        started: float,
        renamed_from: str | None = None,
        error: str | None = None,
    ) -> MirrorResult:
        path = self.path_of(ref.key)
        return MirrorResult(
            ref.key,
            ref.full_name,
            url,
            status,
            str(path),
            renamed_from=renamed_from,
            error=error,
            disk_bytes=disk_bytes(path.parent),
            seconds=self.clock() - started,
        )

    def _redact(self, text: str) -> str:
        for auth in self.auths:
            if auth.token:
                text = text.replace(auth.token, "[redacted]")
        return text


def sync_repository(
    root: str,
    ref: RepositoryRef,
    timeout: float = 900.0,
    auths: Sequence[HttpAuth] = (),
    force: bool = False,
) -> MirrorResult:
    """`MirrorCache(root).sync_one(ref)` from plain, picklable values: what a worker runs.
    Idempotent: a retried call fetches again and finds the same tips."""
    return MirrorCache(Path(root), timeout, auths).sync_one(ref, force)


def _renamed_from(meta: Mapping[str, Any] | None, ref: RepositoryRef, url: str) -> str | None:
    if meta and meta.get("full_name") not in (None, ref.full_name):
        return str(meta["full_name"])
    return None


def _untouched(meta: Mapping[str, Any], ref: RepositoryRef, url: str) -> bool:
    """Not pushed since the last good fetch of the same URL: no git needed at all."""
    return (
        ref.pushed_at is not None
        and ref.pushed_at_lag == 0
        and meta.get("status") in ("cloned", "updated", "unchanged")
        and meta.get("url") == url
        and meta.get("pushed_at") == _iso(ref)
    )


def _iso(ref: RepositoryRef) -> str | None:
    return ref.pushed_at.isoformat() if ref.pushed_at else None


def disk_bytes(path: Path) -> int:
    """Bytes allocated under `path` (0 if absent), counting each hard-linked file once."""
    total, seen = 0, set()
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
    return total
