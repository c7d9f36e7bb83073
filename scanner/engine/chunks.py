"""Drive the engine over a stream of bytes in bounded memory.

Blocks from a source are joined into chunks of `chunk_size`; consecutive
chunks overlap by more than the longest rule match plus the context the
filters read. Each chunk *owns* the matches that end inside its own range
(its last `MARGIN` bytes belong to the next chunk), so a match that spans a
chunk boundary is reported exactly once and results do not depend on the
chunk size.

Lines and columns are computed only for hits, by a cursor that moves forward
through the chunk: each byte is read a bounded number of times however many
matches share a line. Columns count characters (code points of the text as a
UTF-8 decoder with replacement reads it), also on a line that began in an
earlier chunk: the chunk reader carries the character count of the line in
progress across chunk edges.

Inputs longer than one chunk are pipelined: a reader thread assembles the
next chunks and counts their newlines while the engine (which releases the
GIL inside Hyperscan) scans the current one.
"""

from __future__ import annotations

import codecs
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from scanner.engine import Engine, RawMatch, TimeoutBudget
from scanner.engine.newlines import count_newlines
from scanner.models import Match
from scanner.secret import Secret, redaction_label

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    import regex

MARGIN = 64  # bytes after a match that lookaheads may need
CONTEXT = 512  # bytes of same-line context kept on each side of a secret
DEFAULT_CHUNK = 4 << 20
_UTF8 = codecs.getincrementaldecoder("utf-8")


@dataclass(frozen=True)
class Timeout:
    """A rule that did not finish searching bytes [start, end) of an input."""

    rule_id: str
    start: int  # absolute byte offsets
    end: int | None  # None: to the end of the input (the rule was stopped)
    lines: tuple[int, int | None]  # lines of `start` and `end`
    seconds: float | None

    def describe(self) -> str:
        limit = f" after {self.seconds:g}s" if self.seconds else ""
        first, last = self.lines
        if self.end is None:
            return (
                f"rule {self.rule_id} timed out{limit} too often and was stopped; "
                f"not searched from line {first} (byte {self.start}) to the end"
            )
        where = f"line {first}" if first == last else f"lines {first}-{last}"
        return (
            f"rule {self.rule_id} timed out{limit}; "
            f"not searched in {where} (bytes {self.start}-{self.end})"
        )


@dataclass
class ScanNotes:
    """What `scan_blocks` could not do in one input, for the caller to report."""

    timeouts: list[Timeout] = field(default_factory=list)
    budget: TimeoutBudget = field(default_factory=TimeoutBudget)


@dataclass(frozen=True)
class _Chunk:
    """One piece of a stream, with what the next piece will see again."""

    data: bytes
    final: bool
    consumed: int  # bytes at the front that the next chunk will not see again
    consumed_newlines: int
    # The line in progress at `consumed`: characters since its start, and the
    # bytes of a character that the edge cut (an incremental decoder's state).
    line_chars: int = 0
    line_pending: bytes = b""


@dataclass
class _Position:
    """Where the current chunk starts in the whole stream."""

    offset: int = 0
    lines: int = 0  # newlines before `offset`
    line_chars: int = 0  # characters of the line in progress before `offset`
    line_pending: bytes = b""  # its cut-off character's bytes, if any
    owned_from: int = 0  # matches must end after this absolute offset


def overlap_for(engine: Engine) -> int:
    return engine.max_length + MARGIN + CONTEXT


def scan_blocks(
    engine: Engine,
    blocks: Iterable[bytes],
    chunk_size: int = DEFAULT_CHUNK,
    *,
    wanted: Callable[[RawMatch], bool] | None = None,
    notes: ScanNotes | None = None,
) -> Iterator[Match]:
    """Yield every match in the concatenation of `blocks`, in stream order.

    `wanted` sees each raw match first; a match it refuses is neither located
    nor yielded (the caller counts it). Rule timeouts go to `notes`; without
    one they are written to stderr, never dropped.
    """
    own_notes = notes is None
    notes = notes or ScanNotes()
    try:
        yield from _scan_stream(engine, blocks, chunk_size, wanted, notes)
    finally:
        if own_notes:
            for timeout in notes.timeouts:
                print(f"devtoken: warning: {timeout.describe()}", file=sys.stderr)


def _scan_stream(
    engine: Engine,
    blocks: Iterable[bytes],
    chunk_size: int,
    wanted: Callable[[RawMatch], bool] | None,
    notes: ScanNotes,
) -> Iterator[Match]:
    overlap = overlap_for(engine)
    chunks = _chunks(blocks, max(chunk_size, 2 * overlap), overlap)
    first = next(chunks, None)
    if first is None:
        return
    position = _Position()
    if first.final:
        yield from _scan_chunk(engine, first, position, wanted, notes)
        return
    from scanner.engine.prefetch import prefetched  # a thread and a queue: big inputs only

    with prefetched(chunks, depth=2) as rest:
        for chunk in itertools.chain([first], rest):
            yield from _scan_chunk(engine, chunk, position, wanted, notes)


def _chunks(blocks: Iterable[bytes], chunk_size: int, overlap: int) -> Iterator[_Chunk]:
    pending: list[bytes] = []
    pending_size = 0
    carry = b""
    decoder = _UTF8("replace")  # decodes the consumed part of the line in progress
    line_chars = 0
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
        last_newline = data.rfind(b"\n", 0, consumed)
        if last_newline >= 0:
            decoder.reset()
            line_chars = 0
        # Only the tail after the last newline is decoded: data[0] continues
        # where the previous chunk's consumed part ended.
        line_chars += len(decoder.decode(memoryview(data)[last_newline + 1 : consumed]))
        yield _Chunk(
            data,
            final=False,
            consumed=consumed,
            consumed_newlines=count_newlines(data, consumed),
            line_chars=line_chars,
            line_pending=decoder.getstate()[0],
        )
        carry = data[consumed:]
    data = carry + b"".join(pending)
    if data:
        yield _Chunk(data, final=True, consumed=len(data), consumed_newlines=0)


class _Cursor:
    """Line and column of increasing offsets in one chunk.

    It moves forward only: the bytes between two hits are counted for
    newlines and decoded once, so many hits on one long line cost time
    linear in the line, not in hits x line.
    """

    def __init__(self, buf: bytes, position: _Position) -> None:
        self.buf = buf
        self.pos = 0
        self.newlines = position.lines  # before self.pos
        self.chars = position.line_chars  # of the current line, before self.pos
        self.decoder = _UTF8("replace")
        if position.line_pending:
            self.decoder.setstate((position.line_pending, 0))

    def locate(self, offset: int) -> tuple[int, int]:
        """(line, column), both 1-based, of byte `offset` (>= the previous one)."""
        buf = self.buf
        newlines = buf.count(b"\n", self.pos, offset)
        if newlines:
            self.newlines += newlines
            self.pos = buf.rfind(b"\n", self.pos, offset) + 1
            self.decoder.reset()
            self.chars = 0
        self.chars += len(self.decoder.decode(memoryview(buf)[self.pos : offset]))
        self.pos = offset
        cut = 1 if self.decoder.getstate()[0] else 0  # a partial character ends the prefix
        return self.newlines + 1, self.chars + cut + 1


def _scan_chunk(
    engine: Engine,
    chunk: _Chunk,
    position: _Position,
    wanted: Callable[[RawMatch], bool] | None,
    notes: ScanNotes,
) -> Iterator[Match]:
    buf = chunk.data
    owned_to = position.offset + len(buf) - (0 if chunk.final else MARGIN)
    owned_from = position.owned_from if position.offset else -1
    found = engine.find(buf, notes.budget)
    cursor = _Cursor(buf, position)
    for raw in found.matches:
        absolute_end = position.offset + raw.end
        if absolute_end <= owned_from or absolute_end > owned_to:
            continue
        if wanted is not None and not wanted(raw):
            continue
        where = cursor.locate(raw.secret_start)
        yield _locate(raw, buf, position.offset, where, engine.timeout)
    for timeout in found.timeouts:
        # Windows in the overlap are searched by both chunks: report owned bytes only.
        start = max(position.offset + timeout.start, owned_from + 1)
        end = min(position.offset + timeout.end, owned_to)
        if start < end or timeout.stopped:
            notes.timeouts.append(
                Timeout(
                    timeout.rule.id,
                    start,
                    None if timeout.stopped else end,
                    (
                        _line_at(buf, position, start),
                        None if timeout.stopped else _line_at(buf, position, end - 1),
                    ),
                    engine.timeout,
                )
            )
    if not chunk.final:
        position.owned_from = position.offset + len(buf) - MARGIN
        position.lines += chunk.consumed_newlines
        position.line_chars = chunk.line_chars
        position.line_pending = chunk.line_pending
        position.offset += chunk.consumed


def _line_at(buf: bytes, position: _Position, offset: int) -> int:
    """Line of absolute `offset` in this chunk (rare: only for timeouts)."""
    return position.lines + count_newlines(buf, offset - position.offset) + 1


def _locate(
    raw: RawMatch, buf: bytes, base: int, where: tuple[int, int], timeout: float | None
) -> Match:
    """The Match for `raw`, with bounded same-line context (never a whole long line)."""
    start = raw.secret_start
    before_from = _line_start_within(buf, start, CONTEXT)
    after_to = _line_end_within(buf, raw.secret_end, CONTEXT)
    lines_from = _line_start_within(buf, raw.start, CONTEXT)
    lines_to = _line_end_within(buf, raw.end, CONTEXT)
    rule = raw.rule
    value = raw.secret.decode("utf-8", "replace")
    attributes = _attributes(raw, buf, timeout)
    label = redaction_label(rule.redact_label, attributes, value)
    return Match(
        rule=rule,
        secret=Secret(value, rule.redact_keep, rule.redact_tail, label),
        offset=base + start,
        line=where[0],
        column=where[1],
        before=_text(buf[before_from:start]),
        after=_text(buf[raw.secret_end : after_to]),
        lines=_text(buf[lines_from:lines_to]),
        attributes=attributes,
    )


def _line_start_within(buf: bytes, offset: int, limit: int) -> int:
    """Start of the line holding `offset`, or `limit` bytes back if that is nearer."""
    lo = max(0, offset - limit)
    newline = buf.rfind(b"\n", lo, offset)
    return lo if newline < 0 else newline + 1


def _line_end_within(buf: bytes, offset: int, limit: int) -> int:
    hi = min(len(buf), offset + limit)
    newline = buf.find(b"\n", offset, hi)
    return hi if newline < 0 else newline


_ATTRIBUTE_PATTERNS: dict[str, regex.Pattern[bytes]] = {}


def _attribute_pattern(pattern: str) -> regex.Pattern[bytes]:
    """Compiled once per process: the regex module's own cache lookup is slow per match."""
    compiled = _ATTRIBUTE_PATTERNS.get(pattern)
    if compiled is None:
        from scanner.engine.rulecache import compile_pattern  # from the rule cache if it can

        compiled = _ATTRIBUTE_PATTERNS[pattern] = compile_pattern(pattern)
    return compiled


def _attributes(raw: RawMatch, buf: bytes, timeout: float | None) -> tuple[tuple[str, str], ...]:
    """Values the rule wants from around the match (nearest occurrence wins).

    An attribute pattern that runs out of time is left out: attributes only
    help verification, the match itself is kept.
    """
    rule = raw.rule
    if not rule.attributes:
        return ()
    lo = max(0, raw.start - rule.attribute_window)
    hi = min(len(buf), raw.end + rule.attribute_window)
    window = buf[lo:hi]
    found = []
    for name, pattern in rule.attributes:
        try:
            hits = list(_attribute_pattern(pattern).finditer(window, timeout=timeout))
        except TimeoutError:
            continue
        if hits:
            centre = raw.secret_start - lo
            best = min(hits, key=lambda m: abs(m.start() - centre))
            found.append((name, best.group("value").decode("utf-8", "replace")))
    return tuple(found)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")
