"""A secret value that never prints itself, and its stable fingerprint.

Reports, logs, exceptions and stores only ever see `redacted` or `fingerprint`;
the clear text is reachable through `.reveal()` alone, so a stray f-string or
traceback cannot leak it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from scanner.digests import sha256

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any

MASK = "…"
# `{name}` or `{name:.N}` (its first N characters) in a rule's `redact_label`.
LABEL_FIELD = re.compile(r"\{([a-z_][a-z0-9_]*)(?::\.([0-9]+))?\}")
# What an attribute may hold to be shown in a label: it comes from scanned content, and a label
# is printed wherever the redacted form is (terminals, reports), so no markup or control text.
_LABEL_VALUE = re.compile(r"[A-Za-z0-9._@+\-]{1,254}")


def fingerprint(rule_id: str, value: str) -> str:
    """Hex SHA-256 of ``rule_id + ":" + value`` (the JSON contract's `fingerprint`)."""
    return sha256(f"{rule_id}:{value}".encode("utf-8", "surrogateescape")).hexdigest()


SHORT_FINGERPRINT = 12  # hex characters: 48 bits, what text output shows and an ignore file takes


def short_fingerprint(value: str) -> str:
    """The prefix of a fingerprint people read and paste into `.devtokenignore`."""
    return value[:SHORT_FINGERPRINT]


def redact(value: str, keep: int = 4, tail: int = 2, label: str | None = None) -> str:
    """Keep `keep` leading and `tail` (at most 2) trailing characters of long values, mask the
    rest, and add `label` (what names the secret without showing it) when there is one.

    Short values keep less so that at most a third of the value is ever shown.
    """
    if len(value) < 8:
        return MASK
    keep = min(keep, len(value) // 3)
    tail = min(tail, 2) if len(value) >= 16 else 0
    shown_tail = value[-tail:] if tail else ""
    if label:
        return f"{value[:keep]}{MASK}{shown_tail} ({label})"
    return (
        f"{value[:keep]}{MASK}{shown_tail}" if keep else f"{MASK}{shown_tail}({len(value)} chars)"
    )


def redaction_label(template: str, attributes: Iterable[tuple[str, str]], value: str) -> str | None:
    """A rule's `redact_label` filled with the attributes found next to the match (a private
    key's `private_key_id`): None for a rule without one; the value's length when an attribute
    is missing or holds anything but plain identifier characters, so a label never shows
    the secret nor anything scanned content chose beyond an identifier."""
    if not template:
        return None
    found = dict(attributes)

    def field_value(part: re.Match[str]) -> str:
        shown = found.get(part[1], "")
        if not _LABEL_VALUE.fullmatch(shown):
            raise LookupError(part[1])
        width = int(part[2]) if part[2] else len(shown)
        return shown[:width] + (MASK if width < len(shown) else "")

    try:
        return LABEL_FIELD.sub(field_value, template)
    except LookupError:
        return f"{len(value):,} chars"


@dataclass(frozen=True)
class Secret:
    """A matched secret; `str`/`repr` show the redacted form only."""

    _value: str = field(repr=False)
    keep: int = 4
    tail: int = 2
    label: str | None = None  # names the secret in its redacted form (a key's id), not secret

    def reveal(self) -> str:
        return self._value

    @property
    def redacted(self) -> str:
        return redact(self._value, self.keep, self.tail, self.label)

    def __str__(self) -> str:
        return self.redacted

    def __repr__(self) -> str:
        return f"Secret({self.redacted!r})"

    def __len__(self) -> int:
        return len(self._value)

    def __reduce__(self) -> tuple[type[Secret], tuple[Any, ...]]:
        """Pickle as its fields: history workers send many matches to the parent."""
        return Secret, (self._value, self.keep, self.tail, self.label)
