"""Hyperscan prefilter: every rule pattern at once, in one native pass.

Patterns are compiled with HS_FLAG_PREFILTER, which accepts lookarounds and
named groups by widening them, so the database reports a superset of the real
matches (end offsets only). Compiling takes ~100 ms, which the pre-commit
hook cannot afford, so the serialized database is cached on disk keyed by the
patterns and the extension file that compiled them.

The cache entry is signed and checked as scanner.signedcache says: garbage, a
database compiled from other patterns or another user's file is ignored and
replaced by a fresh compile, so it costs speed, never results.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from scanner.digests import sha256
from scanner.engine.extension import extension_origin, load_extension
from scanner.rules import RuleError
from scanner.signedcache import (
    cache_dir,
    prune,
    read_signed,
    signed_cache,
    state_dir,
    write_signed,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    import hyperscan
else:  # the extension alone: the package's __init__ only adds import time
    hyperscan = load_extension("hyperscan", "_hs_ext")

__all__ = ["HyperscanPrefilter", "cache_dir", "state_dir"]

_MODE = hyperscan.HS_MODE_BLOCK
_MAGIC = b"devtoken hyperscan cache 3\n"


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
    """The cached database for exactly these patterns, or a fresh compile (then cached)."""
    origin = "\0".join(extension_origin("hyperscan", "_hs_ext")).encode("utf-8", "surrogateescape")
    digest = sha256(b"\0".join([origin, *patterns])).digest()
    cache = signed_cache()
    if cache is None:
        return _compile(patterns)
    directory, key = cache
    path = directory / f"hs-{digest.hex()[:32]}.db"
    header = _MAGIC + digest
    blob = read_signed(path, header, key)
    if blob is not None:
        try:
            return hyperscan.loadb(blob, _MODE)
        except hyperscan.error:
            pass
    database = _compile(patterns)
    write_signed(path, header, key, hyperscan.dumpb(database))
    prune(directory, "hs-*.db")
    return database
