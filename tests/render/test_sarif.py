"""SARIF: one builder for live scans and store reports; every result names its own rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DEMO_RULE = """id = "acme-demo-key"
name = "Acme demo key"
severity = "medium"
description = "an in-house key"
keywords = ["acmekey"]
patterns = ['acmekey=(?P<secret>[a-z]{12})']
examples = ["acmekey=abcdefghijkl"]
negative_examples = ["acmekey=short"]
"""


@pytest.fixture
def custom_rules(tmp_path: Path) -> Path:
    """The bundled rules plus one in-house rule, as a user's --rules directory."""
    from scanner.rules import default_rules_dir

    rules = tmp_path / "rules"
    rules.mkdir()
    for source in default_rules_dir().glob("*.toml"):
        (rules / source.name).write_text(source.read_text())
    (rules / "acme.toml").write_text(DEMO_RULE)
    return rules


def _indexed_rule_ids(log: dict[str, Any]) -> list[tuple[str, str]]:
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    return [(r["ruleId"], rules[r["ruleIndex"]]["id"]) for r in run["results"]]


def test_a_store_report_gives_a_custom_rule_its_own_rule_index(
    cli: Callable[..., Any], tmp_path: Path, custom_rules: Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.cfg").write_text("acmekey=qwertyuiopas\ndeveloper_token: Zk3mQ9vTb2LxWc7RnP4s_g\n")
    store = tmp_path / "s.sqlite"
    scan = cli("scan", str(tree), "--rules", str(custom_rules), "--store", str(store), "--quiet")
    assert scan.code == 1
    report = cli("report", "--store", str(store), "--format", "sarif")
    assert report.code == 0
    pairs = _indexed_rule_ids(report.json())
    assert sorted(pairs) == [
        ("acme-demo-key", "acme-demo-key"),
        ("google-ads-developer-token", "google-ads-developer-token"),
    ]


def test_a_live_scan_gives_a_custom_rule_its_own_rule_index(
    cli: Callable[..., Any], tmp_path: Path, custom_rules: Path
) -> None:
    (tmp_path / "a.cfg").write_text("acmekey=qwertyuiopas\n")
    run = cli("scan", str(tmp_path / "a.cfg"), "--rules", str(custom_rules), "--format", "sarif")
    assert _indexed_rule_ids(run.json()) == [("acme-demo-key", "acme-demo-key")]
