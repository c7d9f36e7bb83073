"""Property: planted tokens in random text are found exactly once, at the right place.

Random surrounding text (random bytes, non-ASCII text, long lines, many tokens
on a line), random source block cuts and random chunk sizes; the Hyperscan and
the regex backend must agree on every field of every match, and each planted
token is reported once with the line and the column (in characters) that a
plain reading of the whole stream gives.
"""

from __future__ import annotations

import itertools
import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scanner.engine import Engine
from scanner.engine.chunks import overlap_for, scan_blocks
from scanner.models import Match
from scanner.rules import load_rules

RULES = load_rules()
ENGINES = {backend: Engine(RULES, backend) for backend in ("hyperscan", "regex")}
MIN_CHUNK = 2 * max(overlap_for(engine) for engine in ENGINES.values())
KEYWORDS = re.compile(
    b"|".join(re.escape(k.encode()) for rule in RULES for k in rule.keywords), re.IGNORECASE
)
TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
KEY = b"developer_token: "

tokens = st.text(TOKEN_CHARS, min_size=22, max_size=22).map(str.encode)
# Bytes that end a token: not a token character, and not "." (a dotted value
# such as a JWT is not a developer token).
ends = st.sampled_from([b" ", b"\n", b"\t", b",", b"\r\n", b'"', b"\xc3\xa9"])
text_pieces = st.text(st.characters(codec="utf-8"), max_size=12).map(str.encode)
byte_pieces = st.binary(max_size=12)
# Short pieces repeated into runs up to several chunks long (long lines, when
# the piece has no newline).
repeats = st.one_of(st.integers(1, 50), st.integers(2_000, 30_000))
BUDGET = 6 * MIN_CHUNK  # filler bytes per stream


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[tuple[int, bytes]]]:
    """(stream, [(offset of the secret, secret)]) built from random segments."""
    parts: list[bytes] = []
    planted: list[tuple[int, bytes]] = []
    size = filler = 0
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["filler", "newlines", "token", "tokens"]))
        segment: list[bytes] = []
        if kind == "filler":
            piece = draw(st.one_of(text_pieces, byte_pieces))
            count = min(draw(repeats), (BUDGET - filler) // max(1, len(piece)))
            segment.append(piece * count)
            filler += len(segment[0])
        elif kind == "newlines":
            segment.append(b"\n" * draw(st.integers(1, 3)))
        else:
            for _ in range(1 if kind == "token" else draw(st.integers(2, 60))):
                token = draw(tokens)
                prefix = draw(st.one_of(st.just(b""), text_pieces))
                at = size + sum(map(len, segment)) + len(prefix) + len(KEY)
                segment.append(prefix + KEY + token + draw(ends))
                planted.append((at, token))
        parts.extend(segment)
        size += sum(map(len, segment))
    return b"".join(parts), planted


def _expected(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, len(
        data[line_start:offset].decode("utf-8", "replace")
    ) + 1


def _scan(backend: str, blocks: list[bytes], chunk_size: int) -> list[Match]:
    return list(scan_blocks(ENGINES[backend], blocks, chunk_size))


@settings(
    max_examples=100,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    stream=streams(),
    chunk_size=st.integers(MIN_CHUNK, 4 * MIN_CHUNK),
    cuts=st.lists(st.floats(0, 1), max_size=20),
)
def test_planted_tokens_are_found_once_where_they_are(
    stream: tuple[bytes, list[tuple[int, bytes]]], chunk_size: int, cuts: list[float]
) -> None:
    data, planted = stream
    # Random filler must not hold a rule keyword of its own (it would be a real
    # candidate); each planted key holds exactly one.
    assume(len(KEYWORDS.findall(data)) == len(planted))
    points = sorted({int(c * len(data)) for c in cuts} | {0, len(data)})
    blocks = [data[a:b] for a, b in itertools.pairwise(points)]

    fast = _scan("hyperscan", blocks, chunk_size)
    slow = _scan("regex", blocks, chunk_size)

    assert fast == slow
    got = [(m.rule.id, m.offset, m.line, m.column, m.secret.reveal()) for m in fast]
    want = [
        ("google-ads-developer-token", offset, *_expected(data, offset), token.decode())
        for offset, token in planted
    ]
    assert got == want
