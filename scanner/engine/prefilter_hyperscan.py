"""Hyperscan prefilter: every rule pattern at once, in one native pass.

Patterns are compiled with HS_FLAG_PREFILTER, which accepts lookarounds and
named groups by widening them, so the database reports a superset of the real
matches (end offsets only). Compiling takes ~100 ms, which the pre-commit
hook cannot afford, so the serialized database is cached on disk keyed by the
patterns' hash.

A cache entry changes what is scanned, so it is trusted only when it proves
it is ours: it carries the rule set's digest and an HMAC (with a per-user key
kept outside the cache directory) over that digest and the database; the
cache directory must be owned by us and not writable by others. Anything else
(garbage, a database compiled from other patterns, another user's file) is
ignored and replaced by a fresh compile, so it costs speed, never results.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import threading
from collections.abc import Sequence
from pathlib import Path

import hyperscan

from scanner.rules import RuleError

_MODE = hyperscan.HS_MODE_BLOCK
_MAGIC = b"devtoken hyperscan cache 2\n"
_KEY_SIZE = _MAC_SIZE = 32


def cache_dir() -> Path:
    """Where compiled databases are kept (DEVTOKEN_CACHE_DIR, else XDG cache)."""
    explicit = os.environ.get("DEVTOKEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "devtoken"


def state_dir() -> Path:
    """Where the cache key lives: XDG state, not the cache (caches get shared and restored)."""
    base = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
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
    """The cached database for exactly these patterns, or a fresh compile (then cached)."""
    digest = hashlib.sha256(
        b"\0".join([str(getattr(hyperscan, "__version__", "")).encode(), *patterns])
    ).digest()
    key = _cache_key()
    directory = cache_dir()
    if key is None or not _private_dir(directory):
        return _compile(patterns)
    path = directory / f"hs-{digest.hex()[:32]}.db"
    cached = _read_entry(path, digest, key)
    if cached is not None:
        return cached
    database = _compile(patterns)
    _store(path, _entry(digest, key, hyperscan.dumpb(database)))
    return database


def _entry(digest: bytes, key: bytes, blob: bytes) -> bytes:
    """Header (format, rule-set digest), HMAC of header and database, then the database."""
    header = _MAGIC + digest
    return header + hmac.new(key, header + blob, hashlib.sha256).digest() + blob


def _read_entry(path: Path, digest: bytes, key: bytes) -> hyperscan.Database | None:
    """The database only if this process's key signed it for this rule set; else None."""
    data = _read_own_file(path, forbidden=0o022)
    header = _MAGIC + digest
    if data is None or not data.startswith(header):
        return None
    mac, blob = data[len(header) : len(header) + _MAC_SIZE], data[len(header) + _MAC_SIZE :]
    expected = hmac.new(key, header + blob, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        return hyperscan.loadb(blob, _MODE)
    except hyperscan.error:
        return None


def _cache_key() -> bytes | None:
    """This user's cache key, kept outside the cache directory (created on first use).

    A restored or shared cache directory (a CI cache, DEVTOKEN_CACHE_DIR on a
    shared disk) cannot carry a valid signature without this key.
    """
    directory = state_dir()
    if not _private_dir(directory):
        return None
    path = directory / "cache.key"
    key = _read_own_file(path, forbidden=0o077)
    if key is None:
        _create_key(path)
        key = _read_own_file(path, forbidden=0o077)
    return key if key is not None and len(key) == _KEY_SIZE else None


def _create_key(path: Path) -> None:
    try:
        import tempfile  # only when a key is made: the hook path never pays for it

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(_KEY_SIZE))
            os.link(tmp, path)  # atomic, and never replaces a key another process made
        finally:
            os.unlink(tmp)
    except OSError:
        pass


def _private_dir(path: Path) -> bool:
    """Create `path` 0700; usable only if it is ours and nobody else may write into it."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.stat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _read_own_file(path: Path, forbidden: int) -> bytes | None:
    """A regular file we own with none of the `forbidden` mode bits; no symlinks followed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            return None
        if info.st_mode & forbidden:
            return None
        return handle.read()


def _store(path: Path, blob: bytes) -> None:
    """Atomically write the cache (mode 0600); a read-only cache directory only costs speed."""
    try:
        import tempfile  # only on a cache miss

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".hs-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
        os.replace(tmp, path)
    except OSError:
        pass
