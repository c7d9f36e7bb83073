"""ruleset_key: the org scan's ledger is keyed by it, so it must name the rules exactly.

Same rules (in any order, from any directory) -> same key; a change of any field of any
rule, or of the engine version, -> another key.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import scanner.rules as rules_module
from scanner.rules import Rule, ruleset_key


def rule(rule_id: str = "demo-token", **changes: Any) -> Rule:
    fields: dict[str, Any] = {
        "id": rule_id,
        "name": "Demo token",
        "severity": "high",
        "role": "developer_token",
        "verify": "none",
        "description": "A demo token.",
        "why": "It grants access.",
        "keywords": ("demo_token",),
        "patterns": (r"demo_token\s*[:=]\s*(?P<secret>[A-Za-z0-9_]{22})",),
        "prefilters": (r"demo_token",),
        "max_length": 256,
        "entropy": 3.0,
        "mixed_case": True,
        "redact_keep": 4,
        "placeholders": frozenset({"xxxx", "changeme"}),
        "placeholder_words": ("example",),
        "documented_examples": frozenset({"ABCDEFGHIJKLMNOPQRSTUV"}),
        "attributes": (("login_customer_id", r"login_customer_id\D*(?P<value>\d{10})"),),
        "attribute_window": 2048,
        "examples": ("demo_token: Zk3mQ9vTb2LxWc7RnP4s_g",),
        "negative_examples": ("demo_token: changeme",),
        "source_file": "/rules/demo-token.toml",
    }
    fields.update(changes)
    return Rule(**fields)


# Another value of the same type for every field (source_file: where, not what).
CHANGED: dict[str, Any] = {
    "id": "demo-token-2",
    "name": "Demo token 2",
    "severity": "critical",
    "role": None,
    "verify": "oauth-client",
    "description": "Another demo token.",
    "why": "",
    "keywords": ("demo_token", "demo"),
    "patterns": (r"demo_token\s*=\s*(?P<secret>[A-Za-z0-9_]{22})",),
    "prefilters": (r"demo_tok",),
    "max_length": 255,
    "entropy": None,
    "mixed_case": False,
    "redact_keep": 6,
    "placeholders": frozenset({"xxxx"}),
    "placeholder_words": ("example", "sample"),
    "documented_examples": frozenset(),
    "attributes": (),
    "attribute_window": 1024,
    "examples": ("demo_token: Qm3xK9_pL2vN8rT4wY6z01",),
    "negative_examples": (),
    "redact_tail": 0,
    "redact_label": "login {login_customer_id}",
}


def test_every_field_but_the_file_location_is_covered() -> None:
    names = {f.name for f in dataclasses.fields(Rule)}
    assert set(CHANGED) == names - {"source_file"}


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_any_field_change_gives_another_key(name: str) -> None:
    assert ruleset_key([rule(**{name: CHANGED[name]})]) != ruleset_key([rule()])


def test_a_key_ignores_order_and_location_and_is_stable() -> None:
    one, two = rule(), rule("other-token", keywords=("other",))
    moved = rule(source_file="/elsewhere/demo-token.toml")
    assert ruleset_key([one, two]) == ruleset_key([two, one]) == ruleset_key([two, moved])
    # Pinned: the driver and every worker (other processes, other hash seeds, other
    # machines) agree; frozensets are hashed sorted, not in iteration order. (Re-pinned when
    # Rule gained redact_tail and redact_label: a new field is part of every definition.)
    assert ruleset_key([one]) == "fcc45d28001127d8b4097c4b80b2d9fc7cd4b4c464b45105c3fce6fac51718ff"


def test_more_or_fewer_rules_give_another_key() -> None:
    one, two = rule(), rule("other-token")
    assert len({ruleset_key([one]), ruleset_key([one, two]), ruleset_key([])}) == 3


def test_the_engine_version_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    before = ruleset_key([rule()])
    monkeypatch.setattr(rules_module, "ENGINE_VERSION", "2")
    assert ruleset_key([rule()]) != before
