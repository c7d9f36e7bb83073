"""Open one input and hand out its text as UTF-8 blocks, noting what went wrong.

A read error half-way (a truncated .gz, an I/O error) ends the blocks early
and is recorded, so everything read before it is still scanned.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import BinaryIO

from scanner.sources.decode import (
    BLOCK,
    UnreadableInput,
    compression_of,
    decompress_blocks,
    read_blocks,
    reencode_utf8,
    sniff_encoding,
)
from scanner.sources.files import Input


@dataclass
class OpenedInput:
    """An input's text blocks plus what the reader learned about it."""

    source: str  # file | compressed-file | stdin
    encoding: str | None  # None: binary
    blocks: Iterator[bytes]
    errors: list[str] = field(default_factory=list)
    bytes_read: int = 0


def open_text(item: Input, stack: ExitStack, block_size: int = BLOCK) -> OpenedInput:
    """Open `item` (closed by `stack`); raises OSError if it cannot be opened."""
    raw: BinaryIO = item.open()
    if not item.is_stdin:
        stack.enter_context(raw)
    source = "stdin" if item.is_stdin else "file"
    compression = compression_of(_peek(raw))
    raw_blocks = read_blocks(raw, block_size)
    if compression:
        raw_blocks = decompress_blocks(raw_blocks, compression)
        source = "stdin" if item.is_stdin else "compressed-file"
    opened = OpenedInput(source=source, encoding="utf-8", blocks=iter(()))
    blocks = _guarded(raw_blocks, opened)
    first = next(blocks, b"")
    opened.encoding = sniff_encoding(first)
    rest: Iterator[bytes] = itertools.chain([first], blocks)
    if opened.encoding and opened.encoding.startswith("utf-16"):
        rest = reencode_utf8(rest, opened.encoding)
    opened.blocks = rest
    return opened


def _peek(raw: BinaryIO) -> bytes:
    peek = getattr(raw, "peek", None)
    return bytes(peek(8)[:8]) if peek else b""


def _guarded(blocks: Iterator[bytes], opened: OpenedInput) -> Iterator[bytes]:
    try:
        for block in blocks:
            opened.bytes_read += len(block)
            yield block
    except UnreadableInput as exc:
        opened.errors.append(str(exc))
