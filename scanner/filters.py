"""False-positive filters: each returns the reason a match is not a finding.

Every suppression carries a human reason that `--explain` shows, so a user can
tell a filtered placeholder from a pattern that never matched.

Most filters read only the value. `ValueFilters` remembers their verdict per
(rule, value), so a file that repeats one masked value millions of times pays
for the filters once and can drop such matches before they are even located.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable

from scanner.models import Match
from scanner.rules import Rule
from scanner.secret import Secret

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from scanner.engine import RawMatch

ALLOW_MARKERS = ("devtoken:allow", "gitleaks:allow", "pragma: allowlist secret")
# Openers right before a value that make it a reference (`${X}`, `{{ x }}`, `$X`,
# `$(cmd)`), and single-character openers that need their closer after it.
_OPENS_REFERENCE = re.compile(r"(?:\$\{|\{\{|\{%|\$\(|\$)[ \t]*$")
_PAIRED = {"{": "}", "<": ">", "%": "%", "@": "@"}


def allow_comment(match: Match) -> str | None:
    lowered = match.lines.lower()
    for marker in ALLOW_MARKERS:
        if marker in lowered:
            return f"allow comment ({marker}) on the line"
    return None


def documented_example(match: Match) -> str | None:
    if match.secret.reveal() in match.rule.documented_examples:
        return "documented example value from the client library documentation"
    return None


def official_placeholder(match: Match) -> str | None:
    if match.secret.reveal().lower() in match.rule.placeholders:
        return "official placeholder value"
    return None


def variable_reference(match: Match) -> str | None:
    before = match.before.rstrip(" \t\"'")
    after = match.after.lstrip(" \t\"'")
    opener = before[-1:]
    if _OPENS_REFERENCE.search(before) or (opener in _PAIRED and after.startswith(_PAIRED[opener])):
        return "variable or template reference, not a value"
    return None


def placeholder_word(match: Match) -> str | None:
    lowered = match.secret.reveal().lower()
    for word in match.rule.placeholder_words:
        if word in lowered:
            return f"placeholder text ({word!r} in the value)"
    return None


def repeated_characters(match: Match) -> str | None:
    value = match.secret.reveal()
    _, count = Counter(value).most_common(1)[0]
    if count * 2 >= len(value):
        return "mask of repeated characters"
    return None


def single_case(match: Match) -> str | None:
    value = match.secret.reveal()
    if match.rule.mixed_case and (value.lower() == value or value.upper() == value):
        return "single-case value: an identifier or word, not a generated token"
    return None


def sequential(match: Match) -> str | None:
    value = match.secret.reveal().lower()
    steps = sum(1 for a, b in itertools.pairwise(value) if ord(b) - ord(a) == 1)
    if steps * 2 >= len(value):
        return "sequential characters (alphabet or counting run)"
    return None


def low_entropy(match: Match) -> str | None:
    floor = match.rule.entropy
    if floor is None:
        return None
    bits = shannon_entropy(match.secret.reveal())
    if bits < floor:
        return f"low entropy ({bits:.2f} bits/char < {floor:.2f})"
    return None


def shannon_entropy(value: str) -> float:
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


Filter = Callable[[Match], str | None]
# The filters run in this order: allow_comment, the early value filters,
# variable_reference, the late value filters (ValueFilters.reason). Those that read
# only the value are grouped so their verdict can be remembered per value.
_VALUE_EARLY: tuple[Filter, ...] = (documented_example, official_placeholder)
_VALUE_LATE: tuple[Filter, ...] = (
    placeholder_word,
    repeated_characters,
    single_case,
    sequential,
    low_entropy,
)


class ValueFilters:
    """The first filter that rejects a match (None: a finding), with the value-only
    filters' verdicts remembered.

    Not thread-safe: one per input being scanned. The memo is bounded.
    """

    LIMIT = 1 << 14

    def __init__(self) -> None:
        # (rule id, value bytes) -> the first reason among the value filters that
        # run before/after `variable_reference`.
        self._memo: dict[tuple[str, str], tuple[str | None, str | None]] = {}

    def _verdicts(self, rule: Rule, value: str) -> tuple[str | None, str | None]:
        key = (rule.id, value)
        verdicts = self._memo.get(key)
        if verdicts is None:
            probe = Match(rule, Secret(value), 0, 0, 0, "", "", "")
            verdicts = (_first(_VALUE_EARLY, probe), _first(_VALUE_LATE, probe))
            if len(self._memo) >= self.LIMIT:
                self._memo.clear()
            self._memo[key] = verdicts
        return verdicts

    def rejects(self, rule: Rule, value: str) -> bool:
        """Whether some value-only filter suppresses `value`, whatever its context."""
        early, late = self._verdicts(rule, value)
        return early is not None or late is not None

    def reason(self, match: Match) -> str | None:
        """Why `match` is suppressed, or None when it is a finding."""
        early, late = self._verdicts(match.rule, match.secret.reveal())
        return allow_comment(match) or early or variable_reference(match) or late


def _first(checks: tuple[Filter, ...], match: Match) -> str | None:
    for check in checks:
        reason = check(match)
        if reason:
            return reason
    return None


class SuppressionCap:
    """How many suppressed matches are kept with their context (for --explain).

    Past `room`, suppressed matches are only counted by rule in `unlisted`, and a match whose
    value alone is suppressed (a mask, a placeholder) is refused before it is even located:
    most of the cost of a log, or a blob, full of masked tokens.
    """

    def __init__(self, room: int, unlisted: Counter[str]) -> None:
        self.room = room
        self.unlisted = unlisted
        self.filters = ValueFilters()

    def wanted(self, raw: RawMatch) -> bool:
        if self.room > 0 or not self.filters.rejects(
            raw.rule, raw.secret.decode("utf-8", "replace")
        ):
            return True
        self.unlisted[raw.rule.id] += 1
        return False

    def sort(self, match: Match) -> tuple[bool, str | None]:
        """(keep it, why it is suppressed): a finding is always kept, a suppressed match while
        there is room."""
        reason = self.filters.reason(match)
        if reason is None:
            return True, None
        if self.room > 0:
            self.room -= 1
            return True, reason
        self.unlisted[match.rule.id] += 1
        return False, reason
