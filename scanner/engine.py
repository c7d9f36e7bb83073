"""The pattern engine: all rules over one in-memory buffer, native code first.

One native pass finds candidate end offsets for every rule at once; the exact
regex-module pattern then runs only in a window around each candidate. Python
never loops over lines or bytes of the content.

Backends (same results, tested against each other):
- `hyperscan`: every rule pattern compiled in Hyperscan's prefilter mode (a
  superset of the real pattern), so keyword hits that cannot be secrets (a
  `developer-token: REDACTED` header on every log line) never reach Python.
- `regex`: a stdlib `re` alternation of the rules' keywords; used where
  Hyperscan is not installed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from scanner.rules import Rule


@dataclass(frozen=True)
class RawMatch:
    """One exact pattern match in a buffer (offsets into that buffer)."""

    rule: Rule
    start: int
    end: int
    secret_start: int
    secret_end: int
    secret: bytes


class Prefilter(Protocol):
    """Finds candidate (pattern index, offset) pairs in a buffer."""

    def candidates(self, buf: bytes) -> list[tuple[int, int]]: ...


@dataclass(frozen=True)
class _PatternSlot:
    rule: Rule
    pattern_index: int


class Engine:
    """Finds every rule match in a buffer; thread-safe."""

    def __init__(self, rules: Sequence[Rule], backend: str = "auto") -> None:
        self.rules = tuple(rules)
        self.slots = tuple(
            _PatternSlot(rule, i) for rule in self.rules for i in range(len(rule.patterns))
        )
        self.max_length = max(rule.max_length for rule in self.rules)
        self.backend, self.prefilter = _make_prefilter(self.slots, backend)

    def find(self, buf: bytes) -> list[RawMatch]:
        """All matches in `buf`, sorted by position then rule id, without duplicates."""
        candidates = self.prefilter.candidates(buf)
        if not candidates:
            return []
        found: dict[tuple[str, int, int], RawMatch] = {}
        for slot_index, (lo, hi) in _windows(candidates, self.slots, len(buf)):
            slot = self.slots[slot_index]
            pattern = slot.rule.compiled[slot.pattern_index]
            for m in pattern.finditer(buf, lo, hi):
                s, e = m.span("secret")
                key = (slot.rule.id, s, e)
                if key not in found:
                    found[key] = RawMatch(slot.rule, m.start(), m.end(), s, e, m.group("secret"))
        return sorted(found.values(), key=lambda r: (r.secret_start, r.rule.id, r.secret_end))


def _windows(
    candidates: list[tuple[int, int]], slots: Sequence[_PatternSlot], size: int
) -> list[tuple[int, tuple[int, int]]]:
    """Merge candidate offsets of each pattern into regex search windows."""
    merged: list[tuple[int, tuple[int, int]]] = []
    candidates.sort()
    current: tuple[int, int, int] | None = None  # slot, lo, hi
    for slot_index, offset in candidates:
        reach = slots[slot_index].rule.max_length
        lo, hi = max(0, offset - reach), min(size, offset + reach)
        if current and current[0] == slot_index and lo <= current[2]:
            current = (slot_index, current[1], max(current[2], hi))
            continue
        if current:
            merged.append((current[0], (current[1], current[2])))
        current = (slot_index, lo, hi)
    if current:
        merged.append((current[0], (current[1], current[2])))
    return merged


def _make_prefilter(slots: Sequence[_PatternSlot], backend: str) -> tuple[str, Prefilter]:
    if backend not in ("auto", "hyperscan", "regex"):
        raise ValueError(f"unknown engine backend {backend!r}")
    if backend in ("auto", "hyperscan"):
        try:
            from scanner.hyperscan_prefilter import HyperscanPrefilter
        except ImportError:
            if backend == "hyperscan":
                raise
        else:
            return "hyperscan", HyperscanPrefilter(
                [s.rule.prefilters[s.pattern_index] for s in slots]
            )
    return "regex", KeywordPrefilter(slots)


class KeywordPrefilter:
    """Case-insensitive keyword alternation (stdlib `re`), mapped back to patterns."""

    def __init__(self, slots: Sequence[_PatternSlot]) -> None:
        owners: dict[bytes, list[int]] = {}
        for index, slot in enumerate(slots):
            for keyword in slot.rule.keywords:
                owners.setdefault(keyword.encode(), []).append(index)
        self.owners = owners
        alternation = b"|".join(re.escape(k) for k in sorted(owners, key=len, reverse=True))
        self.pattern = re.compile(alternation, re.IGNORECASE)

    def candidates(self, buf: bytes) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for m in self.pattern.finditer(buf):
            for slot_index in self.owners[m.group().lower()]:
                out.append((slot_index, m.start()))
        return out
