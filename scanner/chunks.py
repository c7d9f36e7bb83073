"""Drive the engine over a stream of bytes in bounded memory.

Blocks from a source are joined into chunks of `chunk_size`; consecutive
chunks overlap by more than the longest rule match plus the context the
filters read. Each chunk *owns* the matches that end inside its own range
(its last `MARGIN` bytes belong to the next chunk), so a match that spans a
chunk boundary is reported exactly once and results do not depend on the
chunk size. Lines and columns are computed only for hits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from scanner.engine import Engine, RawMatch
from scanner.models import Match
from scanner.secret import Secret

MARGIN = 64  # bytes after a match that lookaheads may need
CONTEXT = 512  # bytes of same-line context kept on each side of a secret
DEFAULT_CHUNK = 16 << 20


@dataclass
class _Position:
    """Where the current chunk starts in the whole stream."""

    offset: int = 0
    lines: int = 0  # newlines before `offset`
    last_newline: int = -1  # absolute offset of the last newline before `offset`


def scan_blocks(
    engine: Engine, blocks: Iterable[bytes], chunk_size: int = DEFAULT_CHUNK
) -> Iterator[Match]:
    """Yield every match in the concatenation of `blocks`, in stream order."""
    overlap = engine.max_length + MARGIN + CONTEXT
    chunk_size = max(chunk_size, 2 * overlap)
    position = _Position()
    pending: list[bytes] = []
    pending_size = 0
    carry = b""
    owned_from = 0
    for block in blocks:
        if not block:
            continue
        pending.append(block)
        pending_size += len(block)
        if len(carry) + pending_size < chunk_size:
            continue
        buf = carry + b"".join(pending)
        pending, pending_size = [], 0
        yield from _scan_chunk(engine, buf, position, owned_from, final=False)
        keep = min(overlap, len(buf))
        owned_from = position.offset + len(buf) - MARGIN
        _advance(position, buf, len(buf) - keep)
        carry = buf[len(buf) - keep :]
    buf = carry + b"".join(pending)
    if buf:
        yield from _scan_chunk(engine, buf, position, owned_from, final=True)


def _advance(position: _Position, buf: bytes, consumed: int) -> None:
    newline = buf.rfind(b"\n", 0, consumed)
    if newline >= 0:
        position.lines += buf.count(b"\n", 0, consumed)
        position.last_newline = position.offset + newline
    position.offset += consumed


def _scan_chunk(
    engine: Engine, buf: bytes, position: _Position, owned_from: int, final: bool
) -> Iterator[Match]:
    owned_to = position.offset + len(buf) - (0 if final else MARGIN)
    lines = position.lines
    counted_to = 0
    for raw in engine.find(buf):
        absolute_end = position.offset + raw.end
        if not owned_from < absolute_end <= owned_to and not (owned_from == 0 == position.offset):
            continue
        if not final and absolute_end > owned_to:
            continue
        lines += buf.count(b"\n", counted_to, raw.secret_start)
        counted_to = raw.secret_start
        yield _locate(raw, buf, position, lines)


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
    )


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")
