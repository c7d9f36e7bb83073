"""Streamed decompression (.gz, .bz2, .xz) with a bound on what it may produce.

Every stream of a multi-stream file is read: concatenated gzip members,
pbzip2/lbzip2 output and `cat a.bz2 b.bz2`, multi-stream and padded xz. What a
decompressor may produce is bounded per input (`Budget`): a total size and a
ratio to the input's own size, so a small bomb cannot make the scan inflate
gigabytes; past the bound the rest is skipped and said (`decompression-limit`).
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

INFLATE_LIMIT = 4 << 20  # largest single decompressor output held in memory
RATIO_GRACE = 1 << 20  # the ratio bound applies only once this much was inflated
DEFAULT_MAX_DECOMPRESSED = 8 << 30
DEFAULT_MAX_RATIO = 1000
DEFAULT_MAX_DEPTH = 6
COMPRESSED_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
}
UNSUPPORTED_MAGIC = {b"\x28\xb5\x2f\xfd": "zstd", b"\x04\x22\x4d\x18": "lz4"}
# Errors a decompressor raises on a truncated or corrupt stream (and, once lzma is loaded,
# lzma.LZMAError: see stream_errors). bz2 and lzma are imported only when a .bz2 or .xz
# stream is met, so the pre-commit hook does not load them.
STREAM_ERRORS: tuple[type[Exception], ...] = (EOFError, OSError, zlib.error, ValueError)


def stream_errors() -> tuple[type[Exception], ...]:
    """STREAM_ERRORS, plus lzma.LZMAError when lzma is loaded (nothing else raises it).

    Called in `except` clauses, which Python evaluates only when an exception is raised.
    """
    lzma = sys.modules.get("lzma")
    return (*STREAM_ERRORS, lzma.LZMAError) if lzma is not None else STREAM_ERRORS


class UnreadableInput(Exception):
    """The rest of an input could not be read; the message says why."""

    reason = "partial"


class DecompressionLimit(UnreadableInput):
    """The input inflated past its budget; the rest of it is not scanned."""

    reason = "decompression-limit"


@dataclass(frozen=True)
class Limits:
    """Per-input bounds on decompression and archive nesting (0: no bound)."""

    max_decompressed_size: int = DEFAULT_MAX_DECOMPRESSED
    max_decompression_ratio: int = DEFAULT_MAX_RATIO
    max_depth: int = DEFAULT_MAX_DEPTH


@dataclass
class Budget:
    """What one input (with every layer and member inside it) may still inflate."""

    limits: Limits
    raw: int = 0  # bytes of the input itself (file size, or bytes read from stdin)
    inflated: int = 0  # bytes produced by every decompressor inside this input

    def allowed(self) -> float:
        limits = self.limits
        cap = float(limits.max_decompressed_size or "inf")
        if limits.max_decompression_ratio:
            cap = min(cap, max(RATIO_GRACE, limits.max_decompression_ratio * self.raw))
        return cap

    @property
    def exhausted(self) -> bool:
        return self.inflated >= self.allowed()

    def take(self, data: bytes) -> bytes:
        """Count `data`; the part within the budget (all of it, unless it is exceeded)."""
        self.inflated += len(data)
        over = self.inflated - self.allowed()
        if over > 0:
            self.inflated -= int(over)
            return data[: len(data) - int(over)]
        return data

    def describe(self) -> str:
        limits = self.limits
        return (
            f"stopped after {self.inflated} decompressed bytes (limits: "
            f"max_decompressed_size {limits.max_decompressed_size or 'none'}, "
            f"max_decompression_ratio {limits.max_decompression_ratio or 'none'} "
            f"of {self.raw} input bytes)"
        )


def compression_of(head: bytes) -> str | None:
    for magic, name in COMPRESSED_MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def unsupported_compression(head: bytes) -> str | None:
    for magic, name in UNSUPPORTED_MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def decompress_blocks(
    blocks: Iterator[bytes], kind: str, budget: Budget | None = None
) -> Iterator[bytes]:
    """Decompress every stream of `blocks`, yielding everything that can be recovered.

    A truncated or corrupt stream raises UnreadableInput only after every byte
    that decompressed cleanly has been yielded (the library file objects lose
    the whole last read instead). Zero padding between streams is skipped.
    """
    decompressor: Any = _decompressor(kind)
    streams = 0
    for block in blocks:
        data = block
        while data:
            if decompressor is None:  # between two streams
                data = data.lstrip(b"\0")
                if not data:
                    break
                decompressor = _decompressor(kind)
            try:
                for out in _drain(decompressor, data):
                    kept = budget.take(out) if budget else out
                    if kept:
                        yield kept
                    if len(kept) < len(out):
                        raise DecompressionLimit(budget.describe() if budget else "")
            except stream_errors() as exc:
                where = f" after stream {streams}" if streams else ""
                raise UnreadableInput(f"corrupt {kind} stream{where}: {exc}") from None
            if not decompressor.eof:
                break
            streams += 1
            data = decompressor.unused_data
            decompressor = None
    if decompressor is not None:
        raise UnreadableInput(f"truncated {kind} stream (ended before its end marker)")


def _drain(decompressor: Any, data: bytes) -> Iterator[bytes]:
    """Decompress `data` in outputs of at most INFLATE_LIMIT bytes (no zip bombs in RAM)."""
    if isinstance(decompressor, type(zlib.decompressobj())):
        out = decompressor.decompress(data, INFLATE_LIMIT)
        while True:
            if out:
                yield out
            if not decompressor.unconsumed_tail:
                return
            out = decompressor.decompress(decompressor.unconsumed_tail, INFLATE_LIMIT)
    out = decompressor.decompress(data, max_length=INFLATE_LIMIT)
    while True:
        if out:
            yield out
        if decompressor.eof or decompressor.needs_input:
            return
        out = decompressor.decompress(b"", max_length=INFLATE_LIMIT)


def _decompressor(kind: str) -> Any:
    if kind == "gzip":
        return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    if kind == "bzip2":
        import bz2

        return bz2.BZ2Decompressor()
    import lzma

    return lzma.LZMADecompressor()
