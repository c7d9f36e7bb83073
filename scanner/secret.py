"""A secret value that never prints itself, and its stable fingerprint.

Reports, logs, exceptions and stores only ever see `redacted` or `fingerprint`;
the clear text is reachable through `.reveal()` alone, so a stray f-string or
traceback cannot leak it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

MASK = "…"


def fingerprint(rule_id: str, value: str) -> str:
    """Hex SHA-256 of ``rule_id + ":" + value`` (the JSON contract's `fingerprint`)."""
    return hashlib.sha256(f"{rule_id}:{value}".encode("utf-8", "surrogateescape")).hexdigest()


SHORT_FINGERPRINT = 12  # hex characters: 48 bits, what text output shows and an ignore file takes


def short_fingerprint(value: str) -> str:
    """The prefix of a fingerprint people read and paste into `.devtokenignore`."""
    return value[:SHORT_FINGERPRINT]


def redact(value: str, keep: int = 4) -> str:
    """Keep `keep` leading and 2 trailing characters of long values, mask the rest.

    Short values keep less so that at most a third of the value is ever shown.
    """
    if len(value) < 8:
        return MASK
    keep = min(keep, len(value) // 3)
    tail = 2 if len(value) >= 16 else 0
    shown_tail = value[-tail:] if tail else ""
    return (
        f"{value[:keep]}{MASK}{shown_tail}" if keep else f"{MASK}{shown_tail}({len(value)} chars)"
    )


@dataclass(frozen=True)
class Secret:
    """A matched secret; `str`/`repr` show the redacted form only."""

    _value: str = field(repr=False)
    keep: int = 4

    def reveal(self) -> str:
        return self._value

    @property
    def redacted(self) -> str:
        return redact(self._value, self.keep)

    def __str__(self) -> str:
        return self.redacted

    def __repr__(self) -> str:
        return f"Secret({self.redacted!r})"

    def __len__(self) -> int:
        return len(self._value)

    def __reduce__(self) -> tuple[type[Secret], tuple[str, int]]:
        """Pickle as (value, keep): history workers send many matches to the parent."""
        return Secret, (self._value, self.keep)
