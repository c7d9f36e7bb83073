"""Drive the engine over a stream of bytes in bounded memory.

Blocks from a source are joined into chunks of `chunk_size`; consecutive
chunks overlap by more than the longest rule match plus the context the
filters read. Each chunk *owns* the matches that end inside its own range
(its last `MARGIN` bytes belong to the next chunk), so a match that spans a
chunk boundary is reported exactly once and results do not depend on the
chunk size. Lines and columns are computed only for hits.

Inputs longer than one chunk are pipelined: a reader thread assembles the
next chunks and counts their newlines while the engine (which releases the
GIL inside Hyperscan) scans the current one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from scanner.engine import Engine, RawMatch
from scanner.models import Match
from scanner.newlines import count_newlines
from scanner.prefetch import prefetched
from scanner.secret import Secret

MARGIN = 64  # bytes after a match that lookaheads may need
CONTEXT = 512  # bytes of same-line context kept on each side of a secret
DEFAULT_CHUNK = 4 << 20


@dataclass(frozen=True)
class _Chunk:
    data: bytes
    final: bool
    consumed: int  # bytes at the front that the next chunk will not see again
    consumed_newlines: int
    consumed_last_newline: int  # index in `data`, -1 when the consumed part has none


@dataclass
class _Position:
    """Where the current chunk starts in the whole stream."""

    offset: int = 0
    lines: int = 0  # newlines before `offset`
    last_newline: int = -1  # absolute offset of the last newline before `offset`
    owned_from: int = 0  # matches must end after this absolute offset


def overlap_for(engine: Engine) -> int:
    return engine.max_length + MARGIN + CONTEXT


def scan_blocks(
    engine: Engine, blocks: Iterable[bytes], chunk_size: int = DEFAULT_CHUNK
) -> Iterator[Match]:
    """Yield every match in the concatenation of `blocks`, in stream order."""
    overlap = overlap_for(engine)
    chunks = _chunks(blocks, max(chunk_size, 2 * overlap), overlap)
    first = next(chunks, None)
    if first is None:
        return
    position = _Position()
    if first.final:
        yield from _scan_chunk(engine, first, position)
        return
    with prefetched(chunks, depth=2) as rest:
        for chunk in itertools.chain([first], rest):
            yield from _scan_chunk(engine, chunk, position)


def _chunks(blocks: Iterable[bytes], chunk_size: int, overlap: int) -> Iterator[_Chunk]:
    pending: list[bytes] = []
    pending_size = 0
    carry = b""
    for block in blocks:
        if not block:
            continue
        pending.append(block)
        pending_size += len(block)
        if len(carry) + pending_size < chunk_size:
            continue
        data = carry + b"".join(pending)
        pending, pending_size = [], 0
        consumed = len(data) - overlap
        yield _Chunk(
            data,
            final=False,
            consumed=consumed,
            consumed_newlines=count_newlines(data, consumed),
            consumed_last_newline=data.rfind(b"\n", 0, consumed),
        )
        carry = data[consumed:]
    data = carry + b"".join(pending)
    if data:
        yield _Chunk(
            data, final=True, consumed=len(data), consumed_newlines=0, consumed_last_newline=-1
        )


def _scan_chunk(engine: Engine, chunk: _Chunk, position: _Position) -> Iterator[Match]:
    buf = chunk.data
    owned_to = position.offset + len(buf) - (0 if chunk.final else MARGIN)
    lines = position.lines
    counted_to = 0
    for raw in engine.find(buf):
        absolute_end = position.offset + raw.end
        first_chunk = position.offset == 0
        if not (first_chunk or absolute_end > position.owned_from) or absolute_end > owned_to:
            continue
        lines += buf.count(b"\n", counted_to, raw.secret_start)
        counted_to = raw.secret_start
        yield _locate(raw, buf, position, lines)
    if not chunk.final:
        position.owned_from = position.offset + len(buf) - MARGIN
        position.lines += chunk.consumed_newlines
        if chunk.consumed_last_newline >= 0:
            position.last_newline = position.offset + chunk.consumed_last_newline
        position.offset += chunk.consumed


def _locate(raw: RawMatch, buf: bytes, position: _Position, newlines_before: int) -> Match:
    start = raw.secret_start
    line_start = buf.rfind(b"\n", 0, start) + 1
    if line_start == 0 and position.offset > 0:
        # The line began in an earlier chunk: count its bytes from there.
        column = position.offset + start - position.last_newline
    else:
        column = len(buf[line_start:start].decode("utf-8", "replace")) + 1
    line_end = buf.find(b"\n", raw.secret_end)
    line_end = len(buf) if line_end < 0 else line_end
    match_first = buf.rfind(b"\n", max(0, raw.start - CONTEXT), raw.start) + 1
    match_last = buf.find(b"\n", raw.end, raw.end + CONTEXT)
    match_last = min(len(buf), raw.end + CONTEXT) if match_last < 0 else match_last
    return Match(
        rule=raw.rule,
        secret=Secret(raw.secret.decode("utf-8", "replace"), raw.rule.redact_keep),
        offset=position.offset + start,
        line=newlines_before + 1,
        column=column,
        before=_text(buf[max(line_start, start - CONTEXT) : start]),
        after=_text(buf[raw.secret_end : min(line_end, raw.secret_end + CONTEXT)]),
        lines=_text(buf[max(match_first, raw.start - CONTEXT) : match_last]),
        attributes=_attributes(raw, buf),
    )


def _attributes(raw: RawMatch, buf: bytes) -> tuple[tuple[str, str], ...]:
    """Values the rule wants from around the match (nearest occurrence wins)."""
    rule = raw.rule
    if not rule.attributes:
        return ()
    import regex

    lo = max(0, raw.start - rule.attribute_window)
    hi = min(len(buf), raw.end + rule.attribute_window)
    found = []
    for name, pattern in rule.attributes:
        hits = list(regex.finditer(pattern.encode(), buf[lo:hi]))
        if hits:
            centre = raw.secret_start - lo
            best = min(hits, key=lambda m: abs(m.start() - centre))
            found.append((name, best.group("value").decode("utf-8", "replace")))
    return tuple(found)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")
