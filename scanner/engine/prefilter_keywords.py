"""Keyword prefilter: the rules' keywords as one stdlib `re` alternation.

The fallback where Hyperscan is not installed: every keyword hit is a
candidate, so masked values that carry a keyword still reach the exact
pattern (slower on such logs, same results).
"""

from __future__ import annotations

import re
from collections.abc import Sequence


class KeywordPrefilter:
    """Case-insensitive keyword alternation (stdlib `re`), mapped back to patterns."""

    def __init__(self, keywords: Sequence[Sequence[str]]) -> None:
        """`keywords[i]`: the keywords of pattern slot i."""
        owners: dict[bytes, list[int]] = {}
        for index, slot_keywords in enumerate(keywords):
            for keyword in slot_keywords:
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
