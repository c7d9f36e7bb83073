"""Hyperscan prefilter: every rule pattern at once, in one native pass.

Patterns are compiled with HS_FLAG_PREFILTER, which accepts lookarounds and
named groups by widening them, so the database reports a superset of the real
matches (end offsets only). Compiling takes ~100 ms, which the pre-commit
hook cannot afford, so the serialized database is cached on disk keyed by the
patterns' hash.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import hyperscan

from scanner.rules import RuleError

_MODE = hyperscan.HS_MODE_BLOCK


def cache_dir() -> Path:
    """Where compiled databases are kept (DEVTOKEN_CACHE_DIR, else XDG cache)."""
    explicit = os.environ.get("DEVTOKEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "devtoken"


class HyperscanPrefilter:
    """Candidate (pattern index, end offset) pairs from a Hyperscan block scan."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.database = _load_or_compile([p.encode() for p in patterns])
        self._local = threading.local()

    def _scratch(self) -> hyperscan.Scratch:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self.database)
        return scratch

    def candidates(self, buf: bytes) -> list[tuple[int, int]]:
        hits: list[tuple[int, int]] = []
        append = hits.append

        def on_match(pattern_id: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            append((pattern_id, end))

        self.database.scan(buf, match_event_handler=on_match, scratch=self._scratch())
        return hits


def _compile(patterns: list[bytes]) -> hyperscan.Database:
    database = hyperscan.Database(mode=_MODE)
    try:
        database.compile(
            expressions=patterns,
            ids=list(range(len(patterns))),
            flags=[hyperscan.HS_FLAG_PREFILTER] * len(patterns),
        )
    except hyperscan.error as exc:
        raise RuleError(f"a rule pattern does not compile for Hyperscan: {exc}") from None
    return database


def _load_or_compile(patterns: list[bytes]) -> hyperscan.Database:
    digest = hashlib.sha256(
        b"\0".join([str(getattr(hyperscan, "__version__", "")).encode(), *patterns])
    ).hexdigest()
    path = cache_dir() / f"hs-{digest[:32]}.db"
    try:
        return hyperscan.loadb(path.read_bytes(), _MODE)
    except (OSError, hyperscan.error):
        pass
    database = _compile(patterns)
    _store(path, hyperscan.dumpb(database))
    return database


def _store(path: Path, blob: bytes) -> None:
    """Atomically write the cache; a read-only cache directory only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".hs-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
        os.replace(tmp, path)
    except OSError:
        pass
