"""Engine and chunking: backends agree, and chunk edges never change results."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from scanner.engine import Engine
from scanner.engine.chunks import scan_blocks
from scanner.rules import Rule
from tests.conftest import SHARED_CORPUS, require

TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
REFRESH = "1//0" + "gAb3Cd5Ef7Gh9Ij1Kl3Mn5Op7Qr9St1Uv3Wx5Yz7" * 2 + "AbCdE"


def _located(
    engine: Engine, blocks: list[bytes], chunk_size: int
) -> list[tuple[str, int, int, int, str]]:
    return [
        (m.rule.id, m.offset, m.line, m.column, m.secret.reveal())
        for m in scan_blocks(engine, blocks, chunk_size)
    ]


PLANTS = [
    ("developer-token: ", TOKEN, "\n", "google-ads-developer-token"),
    ("refresh_token=", REFRESH, "\n", "google-oauth-refresh-token"),
    ("GOOGLE_ADS_DEVELOPER_TOKEN=\n", TOKEN, "\n", "google-ads-developer-token"),
]


def _haystack(rng: random.Random, size: int) -> tuple[bytes, list[tuple[str, int, str]]]:
    """Filler text with secrets planted at random offsets (some straddle any edge); each
    plant is (rule id, byte offset of the secret, secret)."""
    words = [b"lorem ", b"ipsum\n", b"dolor=", b"sit amet, ", b"x" * 300, b"\n"]
    parts: list[bytes] = []
    plants: list[tuple[str, int, str]] = []
    total = 0
    while total < size:
        if rng.random() < 0.02:
            before, secret, after, rule_id = rng.choice(PLANTS)
            line = f"\n{before}{secret}{after}".encode()
            plants.append((rule_id, total + 1 + len(before), secret))
        else:
            line = rng.choice(words)
        parts.append(line)
        total += len(line)
    return b"".join(parts), plants


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_results_do_not_depend_on_chunk_or_block_size(engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    data, plants = _haystack(rng, 400_000)
    whole = _located(engine, [data], chunk_size=1 << 30)
    assert len(plants) > 10
    assert [(rule_id, offset, secret) for rule_id, offset, _, _, secret in whole] == plants
    minimum = 2 * (engine.max_length + 64 + 512)
    for chunk_size in (minimum, minimum + 1, minimum * 3 + 7, 100_003):
        cuts = sorted(rng.sample(range(1, len(data)), 200))
        blocks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert _located(engine, blocks, chunk_size) == whole


def test_a_match_spanning_a_chunk_edge_is_found_exactly_once(engine: Engine) -> None:
    minimum = 2 * (engine.max_length + 64 + 512)
    line = f"developer-token: {TOKEN}\n".encode()
    for shift in range(-40, 41, 3):
        pad = minimum - len(line) // 2 + shift
        data = b"a" * pad + line + b"b" * minimum * 2
        found = _located(engine, [data], chunk_size=minimum)
        assert [f[4] for f in found] == [TOKEN], shift


def test_line_and_column_are_counted_only_where_needed_but_correctly(engine: Engine) -> None:
    data = "first line\nsecond ünïcode developer_token: " + TOKEN + "\nthird\n"
    (match,) = list(scan_blocks(engine, [data.encode()]))
    assert (match.line, match.column) == (2, len("second ünïcode developer_token: ") + 1)


def test_a_line_longer_than_a_chunk_keeps_line_1_and_a_byte_column(engine: Engine) -> None:
    minimum = 2 * (engine.max_length + 64 + 512)
    data = b"z" * (minimum * 5) + f" developer-token: {TOKEN}".encode()
    (match,) = list(scan_blocks(engine, [data], chunk_size=minimum))
    assert match.line == 1
    assert match.column == minimum * 5 + len(" developer-token: ") + 1


def test_backends_agree_on_the_corpus(rules: tuple[Rule, ...]) -> None:
    require(SHARED_CORPUS.is_dir(), "../shared/corpus")
    fast, slow = Engine(rules, "hyperscan"), Engine(rules, "regex")
    for path in sorted((SHARED_CORPUS / "files").rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            assert _located(fast, [data], 1 << 24) == _located(slow, [data], 1 << 24), path


def test_unknown_backend_is_refused(rules: tuple[Rule, ...]) -> None:
    with pytest.raises(ValueError, match="unknown engine backend"):
        Engine(rules, backend="nope")


def test_hyperscan_database_is_cached_on_disk(
    rules: tuple[Rule, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVTOKEN_CACHE_DIR", str(tmp_path))
    Engine(rules, backend="hyperscan")
    (cached,) = tmp_path.glob("hs-*.db")
    cached.write_bytes(b"corrupt")  # a corrupt cache is recompiled, not fatal
    engine = Engine(rules, backend="hyperscan")
    assert list(scan_blocks(engine, [f"developer-token: {TOKEN}".encode()]))
    assert cached.read_bytes() != b"corrupt"
