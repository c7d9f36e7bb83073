"""The org scan's two tasks, run in worker processes (or on Dask workers on other machines).

Both are module-level functions of plain, picklable values, so any `concurrent.futures`
executor can run them and a resubmitted task is the same task. Neither writes the store:
they return small results to the driver, which alone records. A finding crosses back with
its secret in clear only when the driver asked for it (`reveal`: verification or a revoke
responder); otherwise only its redacted form and its fingerprint (computed here) travel.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.errors import DevtokenError
from scanner.models import Finding, Suppressed
from scanner.org.executor import this_worker
from scanner.org.mirror import MirrorCache, MirrorResult
from scanner.org.repositories import RepositoryRef
from scanner.scan import ScanResult
from scanner.secret import Secret

if TYPE_CHECKING:
    from scanner.baseline import BaselineEntry
    from scanner.engine import Engine
    from scanner.git.mirror import HttpAuth
    from scanner.rules import Rule


@dataclass(frozen=True)
class FetchOutcome:
    """One repository after its fetch: the mirror's state and what is new since `old_tips`.

    `tips` excludes held (rewritten-away) tips, which are in `held`; `candidates` are the
    hex blob ids (bytes) of commits reachable from tips + held and not from the old tips.
    A held tip is never an old tip: its history is walked again, so what was scanned while
    it was a branch is recorded once more as rewritten-away history, not as still present.
    """

    mirror: MirrorResult
    tips: dict[str, str] = field(default_factory=dict)
    held: tuple[str, ...] = ()
    candidates: list[bytes] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""  # the Dask worker whose mirror it filled ("" in a local pool)


@dataclass
class ScanOutcome:
    """One repository's delta scan: findings (redacted unless revealed), the blobs read with
    their match counts (for the ledger), and how many known-clean blobs were not read."""

    result: ScanResult | None
    scanned: list[tuple[bytes, int]] = field(default_factory=list)
    skipped_known: int = 0
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""  # the Dask worker that scanned ("" in a local pool)


@dataclass(frozen=True)
class EngineSpec:
    """How the worker builds its engine: the rules as data and the ruleset key that names them."""

    rules: tuple[Rule, ...]
    ruleset: str
    backend: str = "auto"
    rule_timeout: float | None = 1.0


class RedactedSecret(Secret):
    """A secret whose clear text stayed in the worker: `_value` holds the redacted form."""

    def reveal(self) -> str:
        return self._value

    @property
    def redacted(self) -> str:
        return self._value

    def __reduce__(self) -> tuple[type[Secret], tuple[str, int]]:
        return RedactedSecret, (self._value, self.keep)


@dataclass(frozen=True)
class RedactedFinding(Finding):
    """A finding whose fingerprint was computed where the clear secret was."""

    known_fingerprint: str = ""

    @property
    def fingerprint(self) -> str:
        return self.known_fingerprint


def fetch_task(
    ref: RepositoryRef,
    cache_root: str,
    timeout: float,
    auths: Sequence[HttpAuth],
    old_tips: Sequence[str],
) -> FetchOutcome:
    """Clone or fetch `ref` into this worker's mirror cache, then list the new blobs.
    A repository's own trouble (clone error, timeout, corrupt pack) is a result, not a raise."""
    from scanner.git.delta import delta_blobs, read_tips

    started, here = time.monotonic(), this_worker()
    cache = MirrorCache(Path(cache_root), timeout, auths)
    mirror = cache.sync_one(ref)
    if mirror.status == "failed":
        seconds = time.monotonic() - started
        return FetchOutcome(mirror, error=mirror.error, seconds=seconds, worker=here)
    try:
        tips, held_refs = read_tips(mirror.path)
        held = tuple(sorted(set(held_refs.values()) - set(tips.values())))
        old = [sha for sha in old_tips if sha not in held]
        candidates = delta_blobs(mirror.path, sorted(set(tips.values())), old, held=held)
    except (DevtokenError, OSError) as exc:
        error = cache._redact(f"{type(exc).__name__}: {exc}")
        return FetchOutcome(mirror, error=error, seconds=time.monotonic() - started, worker=here)
    seconds = time.monotonic() - started
    return FetchOutcome(mirror, tips, held, candidates, None, seconds, here)


def scan_task(
    ref: RepositoryRef,
    cache_root: str,
    timeout: float,
    auths: Sequence[HttpAuth],
    old_tips: Sequence[str],
    new_tips: Sequence[str],
    held: Sequence[str],
    skip: frozenset[bytes],
    engine: EngineSpec,
    reveal: bool = False,
    max_blob_size: int = 256 << 20,
    scan_binary: bool = False,
    baseline: frozenset[BaselineEntry] = frozenset(),
) -> ScanOutcome:
    """Scan what `new_tips` and the `held` (rewritten-away) tips the fetch saw add over
    `old_tips`, minus the blobs in `skip`.

    On a cluster the driver sends it to the worker that fetched; if that worker died, this one
    lacks the tips and syncs its own mirror first. The `baseline`'s known findings are set
    aside here, where the clear secrets its entries are hashes of still are.
    """
    from scanner.git.delta import scan_delta

    started, here = time.monotonic(), this_worker()
    cache = MirrorCache(Path(cache_root), timeout, auths)
    path = cache.path_of(ref.key)
    wanted = [*new_tips, *held]
    if not _has_commits(path, wanted):
        mirror = cache.sync_one(ref, force=True)
        if mirror.status == "failed" or not _has_commits(path, wanted):
            error = mirror.error or "the mirror lacks the fetched tips after a fetch"
            return ScanOutcome(None, error=error, seconds=time.monotonic() - started, worker=here)
    try:
        delta = scan_delta(
            str(path),
            engine_for(engine),
            list(new_tips),
            list(old_tips),
            skip=skip,
            jobs=1,
            max_blob_size=max_blob_size,
            scan_binary=scan_binary,
            held=list(held),
        )
    except (DevtokenError, OSError) as exc:
        error = cache._redact(f"{type(exc).__name__}: {exc}")
        return ScanOutcome(None, error=error, seconds=time.monotonic() - started, worker=here)
    result = delta.result
    if baseline:
        from scanner.baseline import split_known

        result.findings, known = split_known(result.findings, set(baseline), set())
        result.suppressed.extend(known)
    result = result if reveal else redacted(result)
    seconds = time.monotonic() - started
    return ScanOutcome(result, list(delta.scanned), delta.skipped_known, None, seconds, here)


_ENGINES: dict[tuple[str, str, float | None], Engine] = {}


def engine_for(spec: EngineSpec) -> Engine:
    """One engine per worker process and ruleset: compiling the rules is the costly part."""
    from scanner.engine import Engine

    key = (spec.ruleset, spec.backend, spec.rule_timeout)
    if key not in _ENGINES:
        _ENGINES.clear()  # a new ruleset replaces the old one: a run has one
        _ENGINES[key] = Engine(spec.rules, backend=spec.backend, timeout=spec.rule_timeout)
    return _ENGINES[key]


def redacted(result: ScanResult) -> ScanResult:
    """`result` with every secret replaced by its redacted form; fingerprints unchanged."""
    result.findings = [
        RedactedFinding(
            dataclasses.replace(f.match, secret=_redact(f.match.secret)),
            f.provenance,
            f.fingerprint,
        )
        for f in result.findings
    ]
    result.suppressed = [
        Suppressed(
            dataclasses.replace(s.match, secret=_redact(s.match.secret)), s.provenance, s.reason
        )
        for s in result.suppressed
    ]
    return result


def _redact(secret: Secret) -> Secret:
    return secret if isinstance(secret, RedactedSecret) else RedactedSecret(secret.redacted)


def _has_commits(git_dir: Path, shas: Sequence[str]) -> bool:
    """Whether the mirror at `git_dir` holds every one of `shas` (a missing mirror holds none)."""
    if not shas:
        return git_dir.is_dir()
    if not git_dir.is_dir():
        return False
    from scanner.git.runner import GitError, run_git

    query = "".join(f"{sha}\n" for sha in shas).encode()
    try:
        out = run_git(str(git_dir), ["cat-file", "--batch-check"], input=query)
    except GitError:
        return False
    return b"missing" not in out
