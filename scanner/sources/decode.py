"""Byte streams into UTF-8 text blocks: compression, encodings, binary sniffing.

Compressed logs (.gz, .bz2, .xz) are decompressed as a stream; UTF-16 text is
re-encoded to UTF-8 incrementally so line numbers and patterns work; binary
content is recognised from its first block. Invalid UTF-8 is scanned as is:
every pattern is ASCII, so broken bytes elsewhere on a line do not hide a token.
"""

from __future__ import annotations

import bz2
import codecs
import lzma
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

BLOCK = 1 << 20
SNIFF = 8192
INFLATE_LIMIT = 4 << 20
COMPRESSED_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
}
# Errors a decompressor raises on a truncated or corrupt stream.
STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)
# Bytes that text may contain freely; what is left after deleting them is "control".
_TEXT_BYTES = bytes(range(32, 256)) + b"\t\n\r\f\b\x1b"


class UnreadableInput(Exception):
    """The rest of an input could not be read; the message says why."""


def compression_of(head: bytes) -> str | None:
    for magic, name in COMPRESSED_MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def decompress_blocks(blocks: Iterator[bytes], kind: str) -> Iterator[bytes]:
    """Decompress a stream block by block, yielding everything that can be recovered.

    A truncated or corrupt stream raises UnreadableInput only after every byte
    that decompressed cleanly has been yielded (the library file objects lose
    the whole last read instead). Concatenated gzip members are all read.
    """
    decompressor = _decompressor(kind)
    for block in blocks:
        data = block
        while data:
            try:
                yield from _drain(decompressor, data)
            except STREAM_ERRORS as exc:
                raise UnreadableInput(f"corrupt {kind} stream: {exc}") from None
            if not decompressor.eof:
                break
            data = decompressor.unused_data
            if kind != "gzip" or not data.strip(b"\0"):
                return  # bzip2/xz end at their end marker; gzip may hold more members
            decompressor = _decompressor(kind)
    if not decompressor.eof:
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
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor()


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
    control = len(sample.translate(None, _TEXT_BYTES))
    if control > len(sample) * 0.10:
        return None
    return "utf-8"


def as_utf8(data: bytes) -> tuple[str | None, bytes]:
    """(encoding, UTF-8 text) of a whole in-memory input; encoding None means binary."""
    encoding = sniff_encoding(data[:SNIFF])
    if encoding and encoding.startswith("utf-16"):
        return encoding, data.decode(encoding, "replace").encode("utf-8", "surrogatepass")
    return encoding, data


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
