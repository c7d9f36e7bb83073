"""A custom rule's credential role (a rule file field) reaches reports built from the store."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scanner.render.incidents import load_incidents
from scanner.store.db import Store
from tests.rulefiles import bundled_rules_plus

IN_HOUSE_SECRET_RULE = """id = "acme-oauth-secret"
name = "Acme OAuth client secret"
severity = "high"
role = "client_secret"
description = "an in-house OAuth client secret form"
keywords = ["acmesecret"]
patterns = ['acmesecret=(?P<secret>[a-z]{16})']
examples = ["acmesecret=abcdefghijklmnop"]
negative_examples = ["acmesecret=short"]
"""


def test_a_custom_rules_role_is_kept_by_the_store(cli: Callable[..., Any], tmp_path: Path) -> None:
    rules = bundled_rules_plus(tmp_path / "rules", acme=IN_HOUSE_SECRET_RULE)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.cfg").write_text(
        "acmesecret=qwertyuiopasdfgh\ndeveloper_token: Zk3mQ9vTb2LxWc7RnP4s_g\n"
    )
    path = tmp_path / "s.sqlite"
    assert cli("scan", str(tree), "--rules", str(rules), "--store", str(path), "--quiet").code == 1
    with Store(path) as store:
        roles = sorted((m.rule_id, m.role) for i in load_incidents(store) for m in i.members)
    assert roles == [
        ("acme-oauth-secret", "client_secret"),
        ("google-ads-developer-token", "developer_token"),
    ]


def test_rows_from_before_the_role_column_read_through_the_bundled_roles(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.cfg").write_text("developer_token: Zk3mQ9vTb2LxWc7RnP4s_g\n")
    path = tmp_path / "s.sqlite"
    assert cli("scan", str(tree), "--store", str(path), "--quiet").code == 1
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE findings SET role = ''")
    with Store(path) as store:
        roles = [m.role for i in load_incidents(store) for m in i.members]
    assert roles == ["developer_token"]


def test_a_finding_found_again_under_changed_rules_takes_their_severity_and_role(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    """The store keeps no stale result of old rules: the latest scan's rule decides."""
    rules = bundled_rules_plus(tmp_path / "rules")
    token_rule = rules / "google-ads-developer-token.toml"
    text = token_rule.read_text()
    assert 'severity = "high"' in text
    token_rule.write_text(text.replace('severity = "high"', 'severity = "medium"', 1))
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.cfg").write_text("developer_token: Zk3mQ9vTb2LxWc7RnP4s_g\n")
    path = tmp_path / "s.sqlite"
    assert cli("scan", str(tree), "--store", str(path), "--quiet").code == 1
    assert cli("scan", str(tree), "--rules", str(rules), "--store", str(path), "--quiet").code == 1
    with Store(path) as store:
        rows = [tuple(r) for r in store.rows("SELECT rule_id, severity, role FROM findings")]
    assert rows == [("google-ads-developer-token", "medium", "developer_token")]
