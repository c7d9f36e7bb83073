"""SHA-256 and a keyed MAC without loading OpenSSL: ~5 ms of every pre-commit hook run.

`import hashlib` (or `hmac`) loads OpenSSL's libcrypto through `_hashlib`,
which costs the hook more than all the hashing it does: fingerprints of a few
secrets, the digest of the rule patterns, the signatures of three cache
entries. CPython's own implementations give the same SHA-256 digests, and
keyed BLAKE2b (RFC 7693; hashlib documents it as the simpler replacement for
HMAC) signs the cache. Both come from the modules hashlib itself falls back
to, and from hashlib on an interpreter without them.
"""

from __future__ import annotations

__all__ = ["MAC_SIZE", "blake2b", "mac", "same_mac", "sha256"]

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from hashlib import blake2b, sha256
    from hmac import compare_digest as same_mac
else:
    try:
        from _sha2 import sha256  # CPython 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # CPython 3.11
        except ImportError:
            from hashlib import sha256
    try:
        from _blake2 import blake2b
    except ImportError:
        from hashlib import blake2b
    try:  # what hmac.compare_digest is when OpenSSL is not loaded
        from _operator import _compare_digest as same_mac
    except ImportError:
        from hmac import compare_digest as same_mac

MAC_SIZE = 32


def mac(key: bytes, message: bytes) -> bytes:
    """The MAC of `message` under `key` (keyed BLAKE2b, 32 bytes); `key` is at most 64 bytes."""
    return blake2b(message, key=key, digest_size=MAC_SIZE).digest()
