"""Bounded cost: what the engine keeps, how much it reads, and rules that run too long.

No timings: each test asserts on what is kept or how much work is done, so a
quadratic or unbounded regression fails deterministically.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import pytest

from scanner.config import ScanConfig
from scanner.engine import TIMEOUTS_PER_RULE, Engine, chunks
from scanner.engine.chunks import ScanNotes, overlap_for, scan_blocks
from scanner.rules import load_rules
from scanner.scan import EXPLAIN_LIMIT, scan
from tests.rulefiles import bundled_rules_plus

T = "Zk3mQ9vTb2LxWc7RnP4s_g"
MASKED = "developer_token: aaaaaaaaaaaaaaaaaaaaaa\n"
DEV = "google-ads-developer-token"


def _min_chunk(engine: Engine) -> int:
    return 2 * overlap_for(engine)


# --- suppressed matches: counted, not kept ---------------------------------------


@pytest.fixture
def masked_log(tmp_path: Path) -> Path:
    """3,000 masked tokens (suppressed: repeated characters) around one real one."""
    path = tmp_path / "app.log"
    path.write_text(MASKED * 1500 + f"developer_token: {T}\n" + MASKED * 1500)
    return path


def test_without_explain_suppressed_matches_are_only_counted(
    masked_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    located = _count_calls(monkeypatch, chunks, "_locate")
    result = scan(ScanConfig(paths=(str(masked_log),), engine="hyperscan"))
    assert [f.match.secret.reveal() for f in result.findings] == [T]
    assert result.suppressed == []
    assert result.suppressed_by_rule == {DEV: 3000}
    # A value that is suppressed whatever its context is never even located.
    assert located == [1]


def test_explain_keeps_at_most_its_bound_and_counts_the_rest(masked_log: Path, cli: Any) -> None:
    doc = cli("scan", str(masked_log), "--explain", "--format", "json").json()
    assert len(doc["suppressed"]) == EXPLAIN_LIMIT == 1000
    assert [s["line"] for s in doc["suppressed"]] == list(range(1, EXPLAIN_LIMIT + 1))
    assert doc["stats"]["suppressed_matches"] == 3000
    assert doc["stats"]["suppressed_by_rule"] == {DEV: 3000}
    plain = cli("scan", str(masked_log), "--format", "json").json()
    assert "suppressed" not in plain and plain["stats"]["suppressed_matches"] == 3000


def test_the_explain_bound_holds_across_files(tmp_path: Path) -> None:
    for name in ("a.log", "b.log", "c.log"):
        (tmp_path / name).write_text(MASKED * 600)
    config = ScanConfig(paths=(str(tmp_path),), keep_suppressed=1000, jobs=1)
    result = scan(config)
    assert len(result.suppressed) == 1000
    kept = [(Path(s.provenance.path).name, s.match.line) for s in result.suppressed]
    assert kept == [("a.log", n) for n in range(1, 601)] + [("b.log", n) for n in range(1, 401)]
    assert result.suppressed_by_rule == {DEV: 1800}


def _count_calls(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    calls = [0]
    real = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


# --- many matches on one long line: linear ---------------------------------------


def test_five_thousand_tokens_on_one_line_across_chunks_have_exact_columns(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    unit = f"é developer-token: {T} ".encode()
    data = "ünïcödé ".encode() * 2000 + unit * 5000
    blocks = [data[i : i + 4096] for i in range(0, len(data), 4096)]  # ~10 chunks
    decoded = _count_decoded_bytes(monkeypatch)
    found = list(scan_blocks(engine, blocks, chunk_size=_min_chunk(engine)))
    prefix_chars = len("ünïcödé ") * 2000
    unit_chars = len(unit.decode())
    assert [(m.line, m.column) for m in found] == [
        (1, prefix_chars + i * unit_chars + len("é developer-token: ") + 1) for i in range(5000)
    ]
    # Columns decode each byte of the line at most about twice (the chunk reader
    # carries the count across edges; the cursor reads each chunk once), however
    # many tokens share the line. Rescanning from the line start for every
    # token would decode ~5000 x 120 KB.
    assert decoded[0] < 3 * len(data)


def _count_decoded_bytes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    total = [0]
    real = codecs.getincrementaldecoder("utf-8")

    class Counting(real):  # type: ignore[misc, valid-type]
        def decode(self, data: Any, final: bool = False) -> str:
            total[0] += len(data)
            return str(super().decode(data, final))

    monkeypatch.setattr(chunks, "_UTF8", Counting)
    return total


def test_a_non_ascii_line_from_an_earlier_chunk_counts_characters(engine: Engine) -> None:
    minimum = _min_chunk(engine)
    data = "ü€".encode() * minimum + f" developer-token: {T}".encode()
    (match,) = list(scan_blocks(engine, [data], chunk_size=minimum))
    assert (match.line, match.column) == (1, 2 * minimum + len(" developer-token: ") + 1)


def test_a_character_cut_by_a_chunk_edge_counts_once(engine: Engine) -> None:
    minimum, overlap = _min_chunk(engine), overlap_for(engine)
    consumed = minimum - overlap  # where the first chunk (one block) hands over
    for shift in range(4):  # put each byte of a 4-byte character on the edge
        head = b"x" * (consumed - shift) + "😀".encode() * 3 + b"x" * overlap
        data = head + f" developer-token: {T}\n".encode() + b"z" * minimum
        blocks = [data[:minimum], data[minimum:]]
        (match,) = list(scan_blocks(engine, blocks, chunk_size=minimum))
        assert match.offset > minimum  # found by the second chunk
        want = consumed - shift + 3 + overlap + len(" developer-token: ") + 1
        assert (match.line, match.column) == (1, want), shift


def test_context_around_a_token_on_a_long_line_is_bounded(engine: Engine) -> None:
    data = b"y" * 100_000 + f" developer-token: {T} ".encode() + b"z" * 100_000
    (match,) = list(scan_blocks(engine, [data]))
    assert (len(match.before), len(match.after)) == (chunks.CONTEXT, chunks.CONTEXT)


# --- a rule that backtracks catastrophically ---------------------------------------

SLOW_RULE = """
id = "slow-rule"
name = "Catastrophic backtracking"
severity = "low"
description = "(a|aa)+b backtracks exponentially on a run of a without a b"
keywords = ["slowkey"]
patterns = ['slowkey=(?P<secret>(?:a|aa)+)b']
prefilters = ['slowkey=']
examples = ["slowkey=aab"]
negative_examples = ["slowkey=c"]
"""
STUCK = "slowkey=" + "a" * 200 + "!\n"


@pytest.fixture
def slow_rules(tmp_path: Path) -> Path:
    return bundled_rules_plus(tmp_path / "rules", slow=SLOW_RULE)


@pytest.mark.parametrize("backend", ["hyperscan", "regex"])
def test_a_rule_that_times_out_is_reported_and_the_others_still_run(
    slow_rules: Path, backend: str
) -> None:
    engine = Engine(load_rules(slow_rules), backend, timeout=0.05)
    notes = ScanNotes()
    far = "x" * 600 + "\n"  # outside the window that timed out
    data = ("line one\n" + STUCK + f"developer_token: {T}\n" + far + "slowkey=aab\n").encode()
    found = [(m.rule.id, m.line) for m in scan_blocks(engine, [data], notes=notes)]
    # Other rules in the same window, and the slow rule elsewhere, are still found.
    assert found == [(DEV, 3), ("slow-rule", 5)]
    (timeout,) = notes.timeouts
    # The window reaches max_length (256) both ways from the candidate on line 2.
    assert (timeout.rule_id, timeout.lines, timeout.start) == ("slow-rule", (1, 4), 0)
    assert timeout.describe() == (
        f"rule slow-rule timed out after 0.05s; not searched in lines 1-4 (bytes 0-{timeout.end})"
    )


def test_a_rule_that_keeps_timing_out_is_stopped_for_the_rest_of_the_input(
    slow_rules: Path,
) -> None:
    engine = Engine(load_rules(slow_rules), "hyperscan", timeout=0.05)
    spacer = "x" * 1000 + "\n"  # one search window per stuck line
    data = ((STUCK + spacer) * 10 + f"developer_token: {T}\n").encode()
    notes = ScanNotes()
    found = [m.rule.id for m in scan_blocks(engine, [data], notes=notes)]
    assert found == [DEV]
    assert TIMEOUTS_PER_RULE == 3
    # Windows start max_length (256) bytes before each stuck line: in the spacer above.
    assert [t.lines for t in notes.timeouts] == [(1, 2), (2, 4), (4, None)]
    assert notes.timeouts[-1].describe() == (
        "rule slow-rule timed out after 0.05s too often and was stopped; "
        f"not searched from line 4 (byte {notes.timeouts[-1].start}) to the end"
    )


def test_the_cli_warns_and_counts_a_rule_timeout(
    slow_rules: Path, tmp_path: Path, cli: Any
) -> None:
    target = tmp_path / "app.log"
    target.write_text(STUCK + f"developer_token: {T}\n")
    run = cli("scan", str(target), "--rules", str(slow_rules), "--format", "json")
    doc = run.json()
    assert [(f["rule_id"], f["line"]) for f in doc["findings"]] == [(DEV, 2)]
    assert doc["stats"]["skipped_by_reason"] == {"rule-timeout": 1}
    (skipped,) = doc["stats"]["skipped"]
    size = target.stat().st_size  # the window reaches past the end of this small file
    assert skipped["detail"] == (
        f"rule slow-rule timed out after 1s; not searched in lines 1-2 (bytes 0-{size})"
    )
    assert f"warning: {target}: rule-timeout: rule slow-rule timed out" in run.err


def test_scan_config_sets_the_rule_timeout(slow_rules: Path, tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text(STUCK)
    config = ScanConfig(paths=(str(tmp_path / "app.log"),), rules_dir=slow_rules, rule_timeout=0.05)
    (skipped,) = scan(config).skipped
    assert skipped.reason == "rule-timeout" and "after 0.05s" in skipped.detail
