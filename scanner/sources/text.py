"""Byte-level fix-ups of a UTF-8 reading that keep every token findable and placed.

Each stage is a generator over blocks and costs one `memchr` per block when it
has nothing to do (the hot path: a plain LF log):

- `strip_bom`: a UTF-8 BOM is not a character of line 1 (columns start after it).
- `lone_cr_lines`: a file whose lines end in a lone CR (classic Mac) gets them
  as line breaks; same length, so offsets do not move.
- `compact_wide_runs`: a UTF-16/UTF-32 section inside UTF-8 text (a Windows
  tool appending to a log) is `t\\0o\\0k\\0...`, which no pattern matches. Each
  such run is rewritten in place, at the same length, into its characters with
  the NULs moved to the end of each of its lines: the token becomes contiguous,
  its line and column are those of the wide text, and nothing outside the run
  moves. A run is left alone when a token character touches its edge, so the
  raw reading of the bytes around it cannot change.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator

_WIDE_RUN = re.compile(
    rb"(?P<le32>(?:[^\x00]\x00\x00\x00){4,})"
    rb"|(?P<be32>(?:\x00\x00\x00[^\x00]){4,})"
    rb"|(?P<le16>(?:[^\x00]\x00){4,})"
    rb"|(?P<be16>(?:\x00[^\x00]){4,})"
)
_LAYOUT = {"le32": (4, 0), "be32": (4, 3), "le16": (2, 0), "be16": (2, 1)}  # width, char at
# Bytes that can be part of a secret or of the escapes around one (JSON "\n" in keys).
_TOKEN_BYTES = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./+=~\\%"
)
SNIFF_LINES = 8192  # how far the first line break is looked for
HOLD = 64  # bytes kept back at a block end where a run may continue
CARRY_MAX = 1 << 20  # a longer run is cut at a line of its own (or at this size)


def strip_bom(blocks: Iterable[bytes]) -> Iterator[bytes]:
    it = iter(blocks)
    head = b""
    for block in it:
        head += block
        if len(head) >= 3:
            break
    yield head[3:] if head.startswith(codecs.BOM_UTF8) else head
    yield from it


def lone_cr_lines(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """CR line ends become LF when the input's first line break is a lone CR and
    its head has no LF (a file with mixed ends keeps LF-only lines, like grep -n)."""
    it = iter(blocks)
    first = b""
    for block in it:
        first += block
        cr = first.find(b"\r")
        if b"\n" in first or 0 <= cr < len(first) - 1 or len(first) >= SNIFF_LINES:
            break
    if b"\r" not in first or b"\n" in first:
        yield first
        yield from it
        return
    carry = b""
    for block in _chain_one(first, it):
        data = carry + block
        carry = b""
        if data.endswith(b"\r"):  # its LF, if any, is in the next block
            data, carry = data[:-1], b"\r"
        if b"\r" in data:
            data = data.replace(b"\r", b"\n") if b"\n" not in data else _LONE_CR.sub(b"\n", data)
        yield data
    if carry:
        yield b"\n"


_LONE_CR = re.compile(rb"\r(?!\n)")


def _chain_one(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def compact_wide_runs(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Rewrite UTF-16/32 runs into contiguous text in place (see the module doc)."""
    carry = b""
    before = -1  # the byte emitted just before `carry` (-1: start of input)
    for block in blocks:
        if not carry and b"\0" not in block:
            if block:
                before = block[-1]
            yield block
            continue
        buf = carry + block
        out, cut = _compact(buf, before, final=False)
        if out:
            before = out[-1]
            yield out
        carry = buf[cut:]
    if carry:
        yield _compact(carry, before, final=True)[0]


def compact_text(data: bytes) -> bytes:
    """`compact_wide_runs` over one in-memory buffer."""
    if b"\0" not in data:
        return data
    return _compact(data, -1, final=True)[0]


def _compact(buf: bytes, before: int, final: bool) -> tuple[bytes, int]:
    """(compacted prefix, its length): everything when final, else up to a safe cut."""
    limit = len(buf)
    if not final and b"\0" in buf[-HOLD:]:
        limit = max(0, len(buf) - HOLD)  # a run may be starting there
    pieces: list[bytes] = []
    done = 0
    for m in _runs(buf):
        start, end = m.span()
        forced = False
        if start >= limit:
            break
        if not final and end > limit:
            if start > 0 or len(buf) <= CARRY_MAX:
                limit = start  # the run may go on in the next block
                break
            end = limit = _forced_cut(buf, m, limit)  # a huge run: cut at one of its lines
            forced = True
        kind = m.lastgroup or "le16"
        width, at = _LAYOUT[kind]
        prev = buf[start - 1] if start else before
        nxt = buf[end] if end < len(buf) and not forced else -1
        if prev in _TOKEN_BYTES or (kind.startswith("be") and nxt in _TOKEN_BYTES):
            continue
        pieces.append(buf[done:start])
        pieces.append(_compact_run(buf[start:end], width, at))
        done = end
    if not pieces:
        return buf[:limit], limit
    pieces.append(buf[done:limit])
    return b"".join(pieces), limit


def _runs(buf: bytes) -> Iterator[re.Match[bytes]]:
    """Wide runs, looked for only next to NUL bytes (a regex over all text is slow)."""
    pos = 0
    while True:
        nul = buf.find(b"\0", pos)
        if nul < 0:
            return
        for start in range(max(pos, nul - 3), nul + 1):
            m = _WIDE_RUN.match(buf, start)
            if m:
                yield m
                pos = m.end()
                break
        else:
            pos = nul + 1


def _forced_cut(buf: bytes, m: re.Match[bytes], limit: int) -> int:
    width = _LAYOUT[m.lastgroup or "le16"][0]
    start = m.start()
    end = start + (limit - start) // width * width
    newline = buf.rfind(b"\n", start, end)
    if newline > start:
        end = start + ((newline - start) // width + 1) * width
    return end


def _compact_run(run: bytes, width: int, at: int) -> bytes:
    """The run's characters, each line's NULs after its text and before its newline."""
    chars = run[at::width]
    pad = width - 1
    lines = chars.split(b"\n")
    return (b"\0" * pad + b"\n").join(line + b"\0" * (pad * len(line)) for line in lines)
