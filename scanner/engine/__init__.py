"""The pattern engine: all rules over one in-memory buffer, native code first.

One native pass finds candidate end offsets for every rule at once; the exact
regex-module pattern then runs only in a window around each candidate. Python
never loops over lines or bytes of the content.

Every pattern runs under a time limit per window (the `regex` module's
`timeout=`): a rule that backtracks catastrophically on some input is reported
for that window and the scan goes on. Merged windows are capped in size so the
limit measures one bounded piece of work, never a whole long line.

Backends (same results, tested against each other):
- `hyperscan` (prefilter_hyperscan): every rule pattern compiled in
  Hyperscan's prefilter mode (a superset of the real pattern), so keyword hits
  that cannot be secrets (a `developer-token: REDACTED` header on every log
  line) never reach Python.
- `regex` (prefilter_keywords): a stdlib `re` alternation of the rules'
  keywords; used where Hyperscan is not installed.

The package also holds what drives the engine over a stream: chunks (bounded
memory, matches owned once across chunk seams), newlines (fast line counts)
and prefetch (reading ahead in a thread).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from scanner.rules import Rule

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Protocol

    class Prefilter(Protocol):
        """Finds candidate (pattern index, offset) pairs in a buffer."""

        def candidates(self, buf: bytes) -> list[tuple[int, int]]: ...


DEFAULT_RULE_TIMEOUT = 1.0  # seconds one rule may spend in one search window
WINDOW_SPAN = 64 << 10  # candidates merge into one window until it spans this much
TIMEOUTS_PER_RULE = 3  # timeouts a rule may spend on one input before it stops there


@dataclass(slots=True)
class RawMatch:
    """One exact pattern match in a buffer (offsets into that buffer); never mutated.

    Not frozen: a log of masked tokens makes millions of these, and a frozen
    dataclass takes 5x longer to build.
    """

    rule: Rule
    start: int
    end: int
    secret_start: int
    secret_end: int
    secret: bytes


@dataclass(frozen=True)
class RuleTimeout:
    """A rule that ran out of time in buf[start:end] and did not search the rest of it.

    `stopped`: the rule used up its timeouts for this input and was not run on
    anything after `start` either.
    """

    rule: Rule
    start: int
    end: int
    stopped: bool = False


@dataclass
class TimeoutBudget:
    """Timeouts each rule may still spend on one input (shared by its chunks)."""

    per_rule: int = TIMEOUTS_PER_RULE
    spent: Counter[str] = field(default_factory=Counter)

    def exhausted(self, rule_id: str) -> bool:
        return self.spent[rule_id] >= self.per_rule


@dataclass
class Found:
    """Matches in one buffer, and where a rule could not finish searching."""

    matches: list[RawMatch]
    timeouts: list[RuleTimeout] = field(default_factory=list)


@dataclass(frozen=True)
class _PatternSlot:
    """One pattern of one rule: what a prefilter's pattern index stands for."""

    rule: Rule
    pattern_index: int


class Engine:
    """Finds every rule match in a buffer; thread-safe."""

    def __init__(
        self,
        rules: Sequence[Rule],
        backend: str = "auto",
        timeout: float | None = DEFAULT_RULE_TIMEOUT,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError("rule timeout must be positive (or None for no limit)")
        self.timeout = timeout
        self.rules = tuple(rules)
        self.slots = tuple(
            _PatternSlot(rule, i) for rule in self.rules for i in range(len(rule.patterns))
        )
        self.max_length = max(rule.max_length for rule in self.rules)
        self.backend, self.prefilter = _make_prefilter(self.slots, backend)

    def find(self, buf: bytes, budget: TimeoutBudget | None = None) -> Found:
        """All matches in `buf`, sorted by position then rule id, without duplicates.

        A rule that times out in a window keeps what it found there before the
        limit; once it has spent `budget` it is not run on the rest of the input.
        """
        candidates = self.prefilter.candidates(buf)
        if not candidates:
            return Found([])
        budget = budget or TimeoutBudget()
        found: list[RawMatch] = []
        add = found.append
        timeouts: list[RuleTimeout] = []
        for slot_index, (lo, hi) in _windows(candidates, self.slots, len(buf)):
            rule = self.slots[slot_index].rule
            if budget.exhausted(rule.id):
                continue
            pattern = rule.compiled[self.slots[slot_index].pattern_index]
            try:
                for m in pattern.finditer(buf, lo, hi, timeout=self.timeout):
                    s, e = m.span("secret")
                    add(RawMatch(rule, m.start(), m.end(), s, e, m.group("secret")))
            except TimeoutError:
                budget.spent[rule.id] += 1
                stopped = budget.exhausted(rule.id)
                timeouts.append(RuleTimeout(rule, lo, len(buf) if stopped else hi, stopped))
        return Found(_unique(found), timeouts)


def _unique(found: list[RawMatch]) -> list[RawMatch]:
    """Sorted by (secret start, rule id, secret end); the first of equal keys is kept.

    Two patterns of a rule, or two windows that meet, can find one secret twice.
    """
    found.sort(key=lambda r: (r.secret_start, r.rule.id, r.secret_end))
    out: list[RawMatch] = []
    last: tuple[int, str, int] | None = None
    for raw in found:
        key = (raw.secret_start, raw.rule.id, raw.secret_end)
        if key != last:
            out.append(raw)
            last = key
    return out


def _windows(
    candidates: list[tuple[int, int]], slots: Sequence[_PatternSlot], size: int
) -> list[tuple[int, tuple[int, int]]]:
    """Merge candidate offsets of each pattern into regex search windows.

    Each candidate's window reaches `max_length` both ways. Overlapping windows
    merge, but a merged window stops growing past WINDOW_SPAN: the next
    candidate opens a new window that still covers its whole reach, so no match
    is lost at the seam (a match seen by both is de-duplicated by `find`).
    """
    merged: list[tuple[int, tuple[int, int]]] = []
    candidates.sort()
    current: tuple[int, int, int] | None = None  # slot, lo, hi
    for slot_index, offset in candidates:
        reach = slots[slot_index].rule.max_length
        lo, hi = max(0, offset - reach), min(size, offset + reach)
        if (
            current
            and current[0] == slot_index
            and lo <= current[2]
            and hi - current[1] <= WINDOW_SPAN + 2 * reach
        ):
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
            from scanner.engine.prefilter_hyperscan import HyperscanPrefilter
        except ImportError:
            if backend == "hyperscan":
                raise
        else:
            return "hyperscan", HyperscanPrefilter(
                [s.rule.prefilters[s.pattern_index] for s in slots]
            )
    from scanner.engine.prefilter_keywords import KeywordPrefilter  # only where it runs

    return "regex", KeywordPrefilter([s.rule.keywords for s in slots])
