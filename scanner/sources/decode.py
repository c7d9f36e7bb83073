"""Byte streams into UTF-8 readings: encodings, binary sniffing, the fix-ups of `text`.

UTF-16 and UTF-32 text (with or without a BOM) is re-encoded to UTF-8
incrementally so line numbers and patterns work. A decode is *certain* only
when a BOM and the byte pattern after it agree; otherwise it is a guess (a
file that merely starts with FF FE, BOM-less wide text) and the input is read
both ways: decoded, and as the bytes it is (whose wide runs `text` compacts).
Invalid UTF-8 is scanned as is: every pattern is ASCII, so broken bytes
elsewhere on a line do not hide a token.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from scanner.sources.text import _WIDE_RUN, compact_wide_runs, lone_cr_lines, strip_bom

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import BinaryIO

BLOCK = 1 << 20
SNIFF = 8192
# Bytes that text may contain freely; what is left after deleting them is "control".
_TEXT_BYTES = bytes(range(32, 256)) + b"\t\n\r\f\b\x1b"
_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32", "le32"),
    (codecs.BOM_UTF32_BE, "utf-32", "be32"),
    (codecs.BOM_UTF16_LE, "utf-16", "le16"),
    (codecs.BOM_UTF16_BE, "utf-16", "be16"),
)
_CODEC = {"le32": "utf-32-le", "be32": "utf-32-be", "le16": "utf-16-le", "be16": "utf-16-be"}


@dataclass(frozen=True)
class Sniffed:
    """How to read an input: `encoding` None is binary, 'utf-8' the bytes as they are."""

    encoding: str | None
    certain: bool = True


def sniff(head: bytes) -> Sniffed:
    if head.startswith(codecs.BOM_UTF8):
        return Sniffed("utf-8")
    for bom, codec, bom_layout in _BOMS:
        if head.startswith(bom):
            return Sniffed(codec, certain=_layout_of(head[len(bom) : SNIFF]) == bom_layout)
    sample = head[:SNIFF]
    if not sample:
        return Sniffed("utf-8")
    layout = _layout_of(sample)
    if layout:
        return Sniffed(_CODEC[layout], certain=False)
    text = _WIDE_RUN.sub(b"", sample) if b"\0" in sample else sample
    control = len(text.translate(None, _TEXT_BYTES))
    if control > len(sample) * 0.10:
        return Sniffed(None)
    return Sniffed("utf-8")


def _layout_of(sample: bytes) -> str | None:
    """Which wide encoding the NUL pattern of `sample` shows, if any."""
    if len(sample) < 4 or b"\0" not in sample:
        return None
    zeros = [_zero_share(sample[i::4]) for i in range(4)]
    if zeros[2] > 0.9 and zeros[3] > 0.9 and zeros[0] < 0.5:
        return "le32"
    if zeros[0] > 0.9 and zeros[1] > 0.9 and zeros[3] < 0.5:
        return "be32"
    even, odd = _zero_share(sample[0::2]), _zero_share(sample[1::2])
    if odd > 0.4 and even < 0.05:
        return "le16"
    if even > 0.4 and odd < 0.05:
        return "be16"
    return None


def _zero_share(data: bytes) -> float:
    return data.count(0) / len(data) if data else 0.0


def utf8_fixups(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The UTF-8 (as-is) reading: no BOM column, CR line ends, wide runs compacted."""
    return lone_cr_lines(compact_wide_runs(strip_bom(blocks)))


def binary_reading(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Binary content scanned on request: wide strings in it are compacted too."""
    return compact_wide_runs(blocks)


def decoded_reading(blocks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    return lone_cr_lines(reencode_utf8(blocks, encoding))


def utf8_readings(data: bytes) -> list[tuple[str | None, bytes]]:
    """Every reading of an in-memory input as (encoding, UTF-8 text); None: binary."""
    sniffed = sniff(data[:SNIFF])
    if sniffed.encoding is None:
        return [(None, b"".join(binary_reading([data])))]
    plain = b"".join(utf8_fixups([data]))
    if sniffed.encoding == "utf-8":
        return [("utf-8", plain)]
    decoded = b"".join(decoded_reading([data], sniffed.encoding))
    if sniffed.certain:
        return [(sniffed.encoding, decoded)]
    return [(sniffed.encoding, decoded), ("utf-8", plain)]


def as_utf8(data: bytes) -> tuple[str | None, bytes]:
    """(encoding, UTF-8 text) of the first reading of an in-memory input."""
    return utf8_readings(data)[0]


def reencode_utf8(blocks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """Incrementally decode `encoding` and yield UTF-8 blocks."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    for block in blocks:
        text = decoder.decode(block)
        if text:
            yield text.encode("utf-8", "surrogatepass")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8", "surrogatepass")


def read_blocks(stream: BinaryIO, size: int = BLOCK) -> Iterator[bytes]:
    """Blocks until EOF; a broken stream raises UnreadableInput after what was read."""
    from scanner.sources.compressed import UnreadableInput, stream_errors  # not for the hook

    while True:
        try:
            block = stream.read(size)
        except stream_errors() as exc:
            raise UnreadableInput(_describe(exc)) from None
        if not block:
            return
        yield block


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "truncated compressed stream (ended before its end marker)"
    message = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"read error: {message}"
