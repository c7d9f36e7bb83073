"""Byte streams into UTF-8 text blocks: compression, encodings, binary sniffing.

Compressed logs (.gz, .bz2, .xz) are decompressed as a stream; UTF-16 text is
re-encoded to UTF-8 incrementally so line numbers and patterns work; binary
content is recognised from its first block. Invalid UTF-8 is scanned as is:
every pattern is ASCII, so broken bytes elsewhere on a line do not hide a token.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import zlib
from collections.abc import Iterator
from typing import BinaryIO

BLOCK = 1 << 20
SNIFF = 8192
COMPRESSED_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
}
COMPRESSED_SUFFIXES = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
# Errors a decompressor raises on a truncated or corrupt stream.
STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)
_TEXT_CONTROL = frozenset(b"\t\n\r\f\b\x1b")


class UnreadableInput(Exception):
    """The rest of an input could not be read; the message says why."""


def compression_of(head: bytes) -> str | None:
    for magic, name in COMPRESSED_MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def decompressing(raw: BinaryIO, kind: str) -> BinaryIO:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(raw, mode="rb")
    return lzma.LZMAFile(raw, mode="rb")


def read_blocks(stream: BinaryIO, size: int = BLOCK) -> Iterator[bytes]:
    """Blocks until EOF; a broken stream raises UnreadableInput after what was read."""
    while True:
        try:
            block = stream.read(size)
        except STREAM_ERRORS as exc:
            raise UnreadableInput(_describe(exc)) from None
        if not block:
            return
        yield block


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "truncated compressed stream (ended before its end marker)"
    message = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"read error: {message}"


def sniff_encoding(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' for UTF-16 text, 'utf-8' for other text, None for binary."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    sample = head[:SNIFF]
    if not sample:
        return "utf-8"
    even, odd = sample[0::2], sample[1::2]
    if b"\0" in sample:
        if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.05:
            return "utf-16-le"
        if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.05:
            return "utf-16-be"
    control = sum(1 for byte in sample if byte < 32 and byte not in _TEXT_CONTROL)
    if control > len(sample) * 0.10:
        return None
    return "utf-8"


def reencode_utf8(blocks: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    """Incrementally decode `encoding` and yield UTF-8 blocks."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    for block in blocks:
        text = decoder.decode(block)
        if text:
            yield text.encode("utf-8", "surrogatepass")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8", "surrogatepass")
