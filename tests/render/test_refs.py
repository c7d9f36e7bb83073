"""refs_summary: the default branch and a count, never a list of a hundred refs."""

from __future__ import annotations

import pytest

from scanner.render.refs import headline_ref, refs_summary


@pytest.mark.parametrize(
    ("refs", "default", "expected"),
    [
        ([], None, ""),
        (["feature/x"], None, "feature/x"),
        (["v1.0", "main"], None, "main and v1.0"),
        (["origin/master", "v2", "v3"], None, "origin/master and 2 other refs"),
        ([f"release/{n}" for n in range(105)] + ["main"], None, "main and 105 other refs"),
        (["main", "prod", "v1"], "prod", "prod and 2 other refs"),
        (["b", "a", "c"], "missing", "a and 2 other refs"),
        (["main", "main"], None, "main"),
    ],
)
def test_refs_summary(refs: list[str], default: str | None, expected: str) -> None:
    assert refs_summary(refs, default) == expected


def test_local_default_branch_before_remote() -> None:
    assert headline_ref(["origin/main", "main"]) == "main"
