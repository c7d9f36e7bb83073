"""SARIF: one builder for live scans and store reports; every result names its own rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.rulefiles import bundled_rules_plus

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
    return bundled_rules_plus(tmp_path / "rules", acme=DEMO_RULE)


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


def test_sarif_log_lists_a_rule_it_was_not_given_from_its_findings() -> None:
    from scanner.render.sarif import RuleDescriptor, SarifFinding, sarif_log

    known = RuleDescriptor("a-rule", "A rule", "first", "low")
    findings = [
        SarifFinding("b-rule", "critical", "m1", "x/y.env", 2, 3, "f1"),
        SarifFinding("a-rule", "low", "m2", "/abs/z", 1, 1, "f2", {"bundle": "b"}),
        SarifFinding("b-rule", "critical", "m3", "x", 4, 5, "f3"),
    ]
    run = sarif_log([known], findings)["runs"][0]  # type: ignore[index]
    rules = run["tool"]["driver"]["rules"]
    assert [(r["id"], r["defaultConfiguration"]["level"]) for r in rules] == [
        ("a-rule", "note"),
        ("b-rule", "error"),
    ]
    assert rules[1]["properties"]["security-severity"] == "9.5"
    assert [(r["ruleId"], r["ruleIndex"]) for r in run["results"]] == [
        ("b-rule", 1),
        ("a-rule", 0),
        ("b-rule", 1),
    ]
    assert run["results"][0] == {
        "ruleId": "b-rule",
        "level": "error",
        "message": {"text": "m1"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "x/y.env", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 2, "startColumn": 3},
                }
            }
        ],
        "partialFingerprints": {"devtoken/v1": "f1"},
        "ruleIndex": 1,
    }
    assert run["results"][1]["properties"] == {"bundle": "b"}
    assert run["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "file:///abs/z"
    }


def test_store_sarif_of_a_literal_incident() -> None:
    import json

    from scanner.render import render_store
    from tests.render.literals import incident

    run = json.loads(render_store([incident(rule_id="acme-demo-key")], "sarif"))["runs"][0]
    (result,) = run["results"]
    assert result["message"]["text"] == "acme-demo-key Zk3m…_g: verification skipped"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "acme-demo-key"
