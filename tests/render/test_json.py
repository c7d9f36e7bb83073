"""render/json.py: JSON, JSON Lines and the store's JSON, on literal inputs."""

from __future__ import annotations

import json

from scanner.render import render_scan, render_store
from tests.render.literals import incident, occurrence, scan_result

RECORD = {
    "rule_id": "google-ads-developer-token",
    "rule_name": "Google Ads API developer token",
    "severity": "high",
    "path": "app.yaml",
    "line": 1,
    "column": 18,
    "secret_redacted": "Zk3m…_g",
    "fingerprint": "356c4fb93fce170360332fdd97891f047a6acdb474b8fd346734cd453d21b13e",
    "source": "text",
    "encoding": "utf-8",
    "why": "a developer token usually leaks with the OAuth credentials that open the same ad accounts",
}


def test_json_lines_are_one_finding_record_each() -> None:
    text = render_scan(
        scan_result(f"{'x: 1'}\n" + "developer_token: Zk3mQ9vTb2LxWc7RnP4s_g\n"), "jsonl"
    )
    assert [json.loads(line) for line in text.splitlines()] == [{**RECORD, "line": 2}]


def test_the_json_document_holds_the_same_record() -> None:
    doc = json.loads(render_scan(scan_result(), "json"))
    assert doc["schema_version"] == 1 and doc["findings"] == [RECORD] and doc["bundles"] == []
    assert "suppressed" not in doc
    assert json.loads(render_scan(scan_result(), "json", explain=True))["suppressed"] == []


def test_show_secrets_adds_the_secret_field_only() -> None:
    (record,) = json.loads(render_scan(scan_result(), "json", show_secrets=True))["findings"]
    assert record == {**RECORD, "secret": "Zk3mQ9vTb2LxWc7RnP4s_g"}


def test_the_store_json_has_one_record_per_place_seen() -> None:
    seen = occurrence("x.env", commit="c" * 40, repo="/r")
    doc = json.loads(render_store([incident(occurrence(), seen)], "json"))
    assert [(f["path"], f.get("commit"), f.get("repo")) for f in doc["findings"]] == [
        ("conf/app.env", None, None),
        ("x.env", "c" * 40, "/r"),
    ]
    assert doc["bundles"] == [
        {
            "id": "0123456789abcdef",
            "location": "conf/app.env:3",
            "roles": ["developer_token"],
            "members": ["ab" * 32],
            "verification": {"status": "live", "reason": "the token opens 1 customer"},
            "severity": "high",
            "status": "open",
        }
    ]
