"""Open one input and hand out its readings: UTF-8 blocks with provenance.

An input is peeled layer by layer: compression (every stream of it), then an
archive (each member is its own reading, `archive.zip!member`), then text,
up to `Limits.max_depth` layers. A text input is usually one reading; when
its decode is a guess it is two (decoded, and as-is), and the scan keeps
what either finds once. A read error half-way (a truncated .gz, an I/O
error, the decompression bound) ends the blocks early and is recorded, so
everything read before it is still scanned.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import BinaryIO

from scanner.models import Skipped
from scanner.sources.compressed import (
    Budget,
    Limits,
    UnreadableInput,
    compression_of,
    decompress_blocks,
    unsupported_compression,
)
from scanner.sources.decode import (
    BLOCK,
    SNIFF,
    binary_reading,
    decoded_reading,
    read_blocks,
    sniff,
    utf8_fixups,
)
from scanner.sources.files import Input

GUESS_BUFFER = 16 << 20  # a guessed decode is read both ways from memory up to this size
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass
class Reading:
    """One reading of one input (or archive member) and what the reader learned."""

    display: str
    source: str  # file | compressed-file | stdin | archive
    encoding: str | None  # None: binary
    blocks: Iterator[bytes] = field(default_factory=lambda: iter(()))
    errors: list[tuple[str, str]] = field(default_factory=list)  # (reason, detail)
    bytes_read: int = 0
    alternate: bool = False  # a second reading: what it shares with the first is dropped


@dataclass(frozen=True)
class _Layer:
    """One decoding layer of an input (a file, a decompressed stream, a member)."""

    display: str
    source: str
    blocks: Iterator[bytes]
    depth: int
    file: BinaryIO | None  # the seekable file itself (zip needs it), top layer only


def open_readings(
    item: Input, stack: ExitStack, limits: Limits | None = None, block_size: int = BLOCK
) -> Iterator[Reading | Skipped]:
    """Readings of `item` (closed by `stack`); raises OSError if it cannot be opened."""
    raw: BinaryIO = item.open()
    seekable: BinaryIO | None = None
    if not item.is_stdin:
        stack.enter_context(raw)
        if item.path is not None and os.path.isfile(item.path):
            seekable = raw
    budget = Budget(limits or Limits(), raw=item.size or 0)
    blocks = read_blocks(raw, block_size)
    if seekable is None:
        blocks = _counted(blocks, budget)
    source = "stdin" if item.is_stdin else "file"
    layer = _Layer(item.display, source, blocks, 0, seekable)
    return _readings(layer, budget, block_size)


def _readings(layer: _Layer, budget: Budget, block_size: int) -> Iterator[Reading | Skipped]:
    head, blocks = _peek(layer.blocks, SNIFF)
    kind = compression_of(head)
    container = kind or archive_kind(head)
    if container and layer.depth >= budget.limits.max_depth:
        yield Skipped(
            layer.display,
            "archive-depth",
            f"{container} nested deeper than {budget.limits.max_depth} layers is not opened",
        )
        return
    if kind:
        source = "compressed-file" if layer.source == "file" else layer.source
        inner = decompress_blocks(blocks, kind, budget)
        yield from _readings(
            _Layer(layer.display, source, inner, layer.depth + 1, None), budget, block_size
        )
        return
    other = unsupported_compression(head)
    if other:
        yield Skipped(layer.display, "unsupported-compression", f"{other} data is not decompressed")
        return
    if container:
        from scanner.sources.archives import members  # zipfile/tarfile: only when needed

        file = layer.file if layer.depth == 0 else None  # zipfile seeks on its own
        for member in members(container, layer.display, blocks, file, budget, block_size):
            if isinstance(member, Skipped):
                yield member
            else:
                inner_layer = _Layer(
                    member.display, "archive", member.blocks, layer.depth + 1, None
                )
                yield from _readings(inner_layer, budget, block_size)
        return
    yield from _text_readings(layer, head, blocks)


def archive_kind(head: bytes) -> str | None:
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head[257:262] == b"ustar":
        return "tar"
    return None


def _text_readings(
    layer: _Layer, head: bytes, blocks: Iterator[bytes]
) -> Iterator[Reading | Skipped]:
    sniffed = sniff(head)
    encoding = sniffed.encoding
    if encoding is None:
        yield _reading(layer, None, blocks, binary_reading)
    elif encoding == "utf-8":
        yield _reading(layer, encoding, blocks, utf8_fixups)
    elif sniffed.certain:
        yield _reading(layer, encoding, blocks, lambda b: decoded_reading(b, encoding))
    else:
        yield from _both_readings(layer, encoding, blocks)


def _both_readings(
    layer: _Layer, encoding: str, blocks: Iterator[bytes]
) -> Iterator[Reading | Skipped]:
    """A guessed decode: the decoded reading, then the as-is one (from memory)."""
    buffered: list[bytes] = []
    size = 0
    error: UnreadableInput | None = None
    try:
        for block in blocks:
            buffered.append(block)
            size += len(block)
            if size > GUESS_BUFFER:
                break
    except UnreadableInput as exc:
        error = exc
    if size > GUESS_BUFFER and layer.file is not None:  # a file on disk: read it again
        rest = itertools.chain(buffered, blocks)
        yield _reading(layer, encoding, rest, lambda b: decoded_reading(b, encoding))
        again = _reading(layer, "utf-8", _reread(layer.file), utf8_fixups)
        again.alternate = True
        yield again
        return
    if size > GUESS_BUFFER:
        yield Skipped(
            layer.display,
            "encoding-guess",
            f"read as {encoding} by its byte pattern; its as-is (UTF-8) reading was not "
            f"scanned (over {GUESS_BUFFER} bytes)",
        )
        rest = itertools.chain(buffered, blocks)
        yield _reading(layer, encoding, rest, lambda b: decoded_reading(b, encoding))
        return
    first = _reading(layer, encoding, iter(buffered), lambda b: decoded_reading(b, encoding))
    if error is not None:
        first.errors.append((error.reason, str(error)))
    yield first
    second = _reading(layer, "utf-8", iter(buffered), utf8_fixups)
    second.alternate = True
    yield second


def _reread(file: BinaryIO) -> Iterator[bytes]:
    try:
        file.seek(0)
    except OSError as exc:
        raise UnreadableInput(f"read error: {exc.strerror or exc}") from None
    yield from read_blocks(file)


def _reading(
    layer: _Layer,
    encoding: str | None,
    blocks: Iterator[bytes],
    transform: Callable[[Iterator[bytes]], Iterator[bytes]],
) -> Reading:
    reading = Reading(layer.display, layer.source, encoding)
    reading.blocks = transform(_guarded(blocks, reading))
    return reading


def _guarded(blocks: Iterator[bytes], reading: Reading) -> Iterator[bytes]:
    try:
        for block in blocks:
            reading.bytes_read += len(block)
            yield block
    except UnreadableInput as exc:
        reading.errors.append((exc.reason, str(exc)))


def _counted(blocks: Iterator[bytes], budget: Budget) -> Iterator[bytes]:
    """Raw bytes of an input of unknown size (stdin) count towards its ratio bound."""
    for block in blocks:
        budget.raw += len(block)
        yield block


def _peek(blocks: Iterator[bytes], need: int) -> tuple[bytes, Iterator[bytes]]:
    """The first `need` bytes (or all there are) and the whole stream again."""
    taken: list[bytes] = []
    size = 0
    try:
        for block in blocks:
            taken.append(block)
            size += len(block)
            if size >= need:
                break
    except UnreadableInput as exc:
        head = b"".join(taken)
        return head, _then_raise(head, exc)
    head = b"".join(taken)
    return head, itertools.chain([head] if head else [], blocks)


def _then_raise(head: bytes, exc: UnreadableInput) -> Iterator[bytes]:
    if head:
        yield head
    raise exc
