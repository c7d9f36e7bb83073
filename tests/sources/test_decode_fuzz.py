"""Property: whatever the encoding, BOM, line ends, compression, read block and chunk
size, every planted token is found exactly once at its line and column, by both
engine backends alike, and nothing raises."""

from __future__ import annotations

import bz2
import gzip
import itertools
import lzma
import os
import random
import string
import tempfile
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.config import ScanConfig
from scanner.engine import Engine
from scanner.rules import load_rules
from scanner.scan import scan_input, scan_text
from scanner.sources.files import Input

B64URL = string.ascii_letters + string.digits + "-_"
ASCII_FILLER = string.ascii_letters + string.digits + " .,;:#=()<>\"'"
WIDE_FILLER = ASCII_FILLER + "éüß中文😀"  # only where a BOM says what the bytes are
LATIN_FILLER = ASCII_FILLER + "éüß"  # BOM-less wide text is recognised by its NULs
SOUP = bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))  # no NUL, CR or LF
# (codec, BOM written): the BOM-less wide ones are found by sniffing.
ENCODINGS = [
    ("utf-8", b""),
    ("utf-8", b"\xef\xbb\xbf"),
    ("utf-16-le", b"\xff\xfe"),
    ("utf-16-be", b"\xfe\xff"),
    ("utf-16-le", b""),
    ("utf-16-be", b""),
    ("utf-32-le", b"\xff\xfe\x00\x00"),
    ("utf-32-be", b"\x00\x00\xfe\xff"),
    ("utf-32-le", b""),
    ("utf-32-be", b""),
]
COMPRESSORS: dict[str, Any] = {
    "none": None,
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
}
ENGINES = {backend: Engine(load_rules(), backend=backend) for backend in ("hyperscan", "regex")}


def _token_pool() -> list[str]:
    """Random developer tokens that the rule (with its filters) reports as they are."""
    rng = random.Random(8)
    pool: list[str] = []
    while len(pool) < 12:
        value = "".join(rng.choice(B64URL) for _ in range(22))
        found = scan_text(f"developer_token: {value}\n", ENGINES["regex"]).findings
        if [f.match.secret.reveal() for f in found] == [value]:
            pool.append(value)
    return pool


TOKENS = _token_pool()


@st.composite
def documents(draw: Any) -> dict[str, Any]:
    codec, bom = draw(st.sampled_from(ENCODINGS))
    alphabet = ASCII_FILLER if codec == "utf-8" else (WIDE_FILLER if bom else LATIN_FILLER)
    filler = st.text(alphabet=alphabet, max_size=60)
    count = draw(st.integers(min_value=1, max_value=40))
    planted = draw(st.sets(st.integers(min_value=0, max_value=count - 1), min_size=1, max_size=4))
    tokens = iter(TOKENS)
    lines: list[tuple[str, str | None, str]] = []  # (before, token, after)
    for index in range(count):
        before = draw(filler)
        if index in planted:
            lines.append((before + " developer_token: ", next(tokens), " " + draw(filler)))
        else:
            lines.append((before, None, ""))
    return {
        "codec": codec,
        "bom": bom,
        "lines": lines,
        "newline": draw(st.sampled_from(["\n", "\r\n", "\r"])),
        "soup": codec == "utf-8" and draw(st.booleans()),
        "seed": draw(st.integers(min_value=0, max_value=2**32)),
        "compress": draw(st.sampled_from(sorted(COMPRESSORS))),
        "streams": draw(st.integers(min_value=1, max_value=3)),
        "block": draw(st.sampled_from([1, 3, 7, 64, 1000, 1 << 20])),
        "chunk": draw(st.sampled_from([1, 3000, 1 << 22])),
    }


def _render(doc: dict[str, Any]) -> tuple[bytes, list[tuple[int, int, str]]]:
    """The file's bytes and the (line, column, token) of every planted token."""
    rng = random.Random(doc["seed"])
    expected: list[tuple[int, int, str]] = []
    parts: list[bytes] = []
    codec, newline = doc["codec"], doc["newline"]
    for number, (before, token, after) in enumerate(doc["lines"], start=1):
        if doc["soup"]:  # random bytes (invalid UTF-8 too) around the planted text
            junk = bytes(rng.choice(SOUP) for _ in range(rng.randrange(0, 40)))
            prefix = junk + b" " + before.encode()
            column = len(prefix.decode("utf-8", "replace")) + 1
        else:
            prefix = before.encode(codec)
            column = len(before) + 1
        if token is not None:
            expected.append((number, column, token))
            parts.append(prefix + (token + after + newline).encode(codec))
        else:
            parts.append(prefix + newline.encode(codec))
    return doc["bom"] + b"".join(parts), expected


def _compress(data: bytes, doc: dict[str, Any]) -> bytes:
    compress = COMPRESSORS[doc["compress"]]
    if compress is None:
        return data
    cuts = sorted(random.Random(doc["seed"]).sample(range(len(data) + 1), doc["streams"] - 1))
    edges = [0, *cuts, len(data)]
    return b"".join(compress(data[a:b]) for a, b in itertools.pairwise(edges))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_every_planted_token_is_found_once_in_place(doc: dict[str, Any]) -> None:
    data, expected = _render(doc)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "input")
        with open(path, "wb") as handle:
            handle.write(_compress(data, doc))
        item = Input(display="input", path=path, size=os.path.getsize(path))
        seen = {}
        for backend, engine in ENGINES.items():
            config = ScanConfig(paths=(path,), chunk_size=doc["chunk"], engine=backend)
            result = scan_input(item, engine, config, block_size=doc["block"])
            assert result.skipped == []
            matches = [f.match for f in result.findings] + [s.match for s in result.suppressed]
            seen[backend] = sorted((m.line, m.column, m.secret.reveal()) for m in matches)
    assert seen["hyperscan"] == seen["regex"]
    assert seen["regex"] == sorted(expected)


@settings(max_examples=150, deadline=None)
@given(
    soup=st.binary(max_size=3000),
    at=st.floats(0, 1),
    block=st.sampled_from([1, 5, 64, 1 << 20]),
    scan_binary=st.booleans(),
)
def test_any_bytes_scan_alike_on_both_backends(
    soup: bytes, at: float, block: int, scan_binary: bool
) -> None:
    """Random bytes (NULs, lone CRs, stray BOMs, wide-looking runs) never raise, and the
    backends agree on what is in them, wherever a token line is dropped in."""
    cut = int(at * len(soup))
    data = soup[:cut] + f"\ndeveloper_token: {TOKENS[0]}\n".encode() + soup[cut:]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "soup")
        with open(path, "wb") as handle:
            handle.write(data)
        item = Input(display="soup", path=path, size=len(data))
        seen = []
        for backend, engine in ENGINES.items():
            config = ScanConfig(paths=(path,), engine=backend, scan_binary=scan_binary)
            result = scan_input(item, engine, config, block_size=block)
            matches = [f.match for f in result.findings] + [s.match for s in result.suppressed]
            seen.append(sorted((m.line, m.column, m.secret.reveal()) for m in matches))
    assert seen[0] == seen[1]
