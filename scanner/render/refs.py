"""How many refs still hold a secret, said short: "main and 104 other refs".

A secret in a long-lived repository can sit at the tip of a hundred release branches and
tags; a reader needs the default branch and a count, the full list belongs in JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

PREFERRED_DEFAULTS = ("main", "master", "trunk", "develop")


def headline_ref(refs: Sequence[str], default: str | None = None) -> str | None:
    """The ref to name: `default` when it holds the secret, else a conventional default
    branch (local before `origin/`), else the first in order; None when there are none."""
    if not refs:
        return None
    held = set(refs)
    if default and default in held:
        return default
    for name in PREFERRED_DEFAULTS:
        for candidate in (name, f"origin/{name}", f"refs/heads/{name}"):
            if candidate in held:
                return candidate
    return sorted(refs)[0]


def refs_summary(refs: Sequence[str], default: str | None = None) -> str:
    """`main`, `main and release/1.2`, or `main and 104 other refs`; "" for none."""
    first = headline_ref(refs, default)
    if first is None:
        return ""
    others = sorted({ref for ref in refs if ref != first})
    if not others:
        return first
    if len(others) == 1:
        return f"{first} and {others[0]}"
    return f"{first} and {len(others)} other refs"
