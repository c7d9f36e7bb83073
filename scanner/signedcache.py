"""Signed cache files: what the engine compiled once, reused by every later run.

A cache entry changes what is scanned (a compiled database, the rules that run),
so it is trusted only when it proves it is ours: it carries a header naming its
format and the digest of what it was built from, and a MAC (with a per-user
key kept outside the cache directory) over that header and its body; the cache
directory must be owned by us and not writable by others. Anything else
(garbage, an entry built from other inputs, another user's file, an entry
signed under another key) is ignored and replaced by a fresh build, so a bad
cache costs speed, never results.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from scanner.digests import MAC_SIZE, mac, same_mac

KEY_SIZE = 32
# Entries of one kind (Hyperscan databases, parsed rule sets) kept when another is written:
# each rule edit or upgrade makes a new one, and a rule set still in use that falls out
# is rebuilt once on its next run.
KEEP_PER_KIND = 8


def cache_dir() -> Path:
    """Where compiled entries are kept (DEVTOKEN_CACHE_DIR, else XDG cache)."""
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


def cache_key(create: bool = True) -> bytes | None:
    """This user's cache key, kept outside the cache directory (made on first use if `create`).

    A restored or shared cache directory (a CI cache, DEVTOKEN_CACHE_DIR on a
    shared disk) cannot carry a valid signature without this key.
    """
    directory = state_dir()
    if not private_dir(directory, create):
        return None
    path = directory / "cache.key"
    key = read_own_file(path, forbidden=0o077)
    if key is None and create:
        _create_key(path)
        key = read_own_file(path, forbidden=0o077)
    return key if key is not None and len(key) == KEY_SIZE else None


def signed_cache(create: bool = True) -> tuple[Path, bytes] | None:
    """The cache directory and the key to sign its entries, if both are private to us.

    With `create` false nothing is made: a reader that only looks (at import
    time) leaves a machine without a cache as it found it.
    """
    key = cache_key(create)
    directory = cache_dir()
    if key is None or not private_dir(directory, create):
        return None
    return directory, key


def read_signed(path: Path, header: bytes, key: bytes) -> bytes | None:
    """The body of the entry at `path` if `key` signed it under `header`; else None."""
    data = read_own_file(path, forbidden=0o022)
    if data is None or not data.startswith(header):
        return None
    signature = data[len(header) : len(header) + MAC_SIZE]
    body = data[len(header) + MAC_SIZE :]
    if not same_mac(signature, mac(key, header + body)):
        return None
    return body


def write_signed(path: Path, header: bytes, key: bytes, body: bytes) -> None:
    """Sign and store an entry (mode 0600, atomically); a read-only cache only costs speed."""
    signature = mac(key, header + body)
    try:
        import tempfile  # only on a cache miss: the hook path never pays for it

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".entry-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(header + signature + body)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def prune(directory: Path, pattern: str, keep: int = KEEP_PER_KIND) -> None:
    """Delete all but the `keep` newest entries matching `pattern` (a glob) in `directory`.

    Called after writing an entry (a rare event: a rule change, an upgrade), never on a
    run that only reads; an entry another process is reading stays readable (unlinked,
    its open file lives on), and one that cannot be removed is left.
    """
    entries = []
    for path in directory.glob(pattern):
        try:
            entries.append((path.lstat().st_mtime_ns, path))
        except OSError:
            continue
    for _, path in sorted(entries, reverse=True)[keep:]:
        with contextlib.suppress(OSError):
            path.unlink()


def _create_key(path: Path) -> None:
    try:
        import tempfile  # only when a key is made

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(KEY_SIZE))
            os.link(tmp, path)  # atomic, and never replaces a key another process made
        finally:
            os.unlink(tmp)
    except OSError:
        pass


def private_dir(path: Path, create: bool = True) -> bool:
    """`path` (created 0700 if `create`) is usable only if it is ours and nobody else may write."""
    try:
        if create:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.stat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def read_own_file(path: Path, forbidden: int) -> bytes | None:
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
