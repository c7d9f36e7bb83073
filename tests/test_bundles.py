"""bundles.make_bundles on literal findings: grouping, the 40-line split, roles, unique ids."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from scanner.bundles import NEARBY_LINES, ROLE_BY_RULE, Bundle, make_bundles
from scanner.models import CommitInfo, Finding, GitProvenance, Match, Provenance
from scanner.rules import load_rules
from scanner.secret import Secret
from scanner.store.db import Store

RULES = {rule.id: rule for rule in load_rules()}
TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
SECRET = "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"
CLIENT_ID = "278534944592-6vbtcjbs73z4z61numlhm5zme0k1y5g3.apps.googleusercontent.com"


def finding(rule_id: str, value: str, line: int, path: str = "a.yaml", **where: Any) -> Finding:
    rule = RULES[rule_id]
    match = Match(rule, Secret(value, rule.redact_keep), 10 * line, line, 1, "", "", value)
    provenance = GitProvenance(path, "git-history", **where) if where else Provenance(path, "file")
    return Finding(match, provenance)


def token(line: int, path: str = "a.yaml", **where: Any) -> Finding:
    return finding("google-ads-developer-token", TOKEN, line, path, **where)


def secret(line: int, path: str = "a.yaml", **where: Any) -> Finding:
    return finding("google-oauth-client-secret", SECRET, line, path, **where)


def lines(bundles: list[Bundle]) -> list[list[tuple[str, int]]]:
    return [[(f.provenance.path, f.match.line) for f in b.members] for b in bundles]


def test_findings_within_40_lines_are_one_bundle_and_41_apart_are_two() -> None:
    assert NEARBY_LINES == 40
    assert lines(make_bundles([secret(41), token(1)])) == [[("a.yaml", 1), ("a.yaml", 41)]]
    assert lines(make_bundles([secret(42), token(1)])) == [[("a.yaml", 1)], [("a.yaml", 42)]]


def test_the_split_is_between_neighbours_not_from_the_first_line() -> None:
    found = [token(1), secret(30), token(70), secret(111)]
    assert lines(make_bundles(found)) == [
        [("a.yaml", 1), ("a.yaml", 30), ("a.yaml", 70)],
        [("a.yaml", 111)],
    ]
    assert lines(make_bundles(found, nearby=10)) == [
        [("a.yaml", 1)],
        [("a.yaml", 30)],
        [("a.yaml", 70)],
        [("a.yaml", 111)],
    ]


def test_files_and_commits_never_share_a_bundle() -> None:
    one = CommitInfo("a" * 40, "A", "a@example.com", "2026-01-01T00:00:00Z", "one")
    two = CommitInfo("b" * 40, "B", "b@example.com", "2026-01-02T00:00:00Z", "two")
    found = [
        token(1, "b.yaml"),
        secret(2, "a.yaml"),
        token(1, "c", commit=two),
        token(2, "c", commit=one),
    ]
    assert lines(make_bundles(found)) == [[("a.yaml", 2)], [("b.yaml", 1)], [("c", 2)], [("c", 1)]]


def test_roles_come_from_the_rules_and_a_rule_without_one_stands_for_itself() -> None:
    (bundle,) = make_bundles([token(1), secret(2), finding("google-oauth-client-id", CLIENT_ID, 3)])
    assert bundle.roles == ["client_id", "client_secret", "developer_token"]
    assert bundle.secret("client_secret") == Secret(SECRET, 9)
    assert bundle.secret("refresh_token") is None
    assert bundle.secret("developer_token") is None  # its rule asks for no check
    assert bundle.clear_value("developer_token") == TOKEN
    assert bundle.location == "a.yaml:1"
    assert ROLE_BY_RULE["gcp-service-account-key"] == "service_account_key"
    assert dict(ROLE_BY_RULE) == {r.id: r.role for r in RULES.values()}


def test_the_id_hashes_the_place_and_the_fingerprints_not_the_line() -> None:
    (bundle,) = make_bundles([token(1), secret(2)])
    fingerprints = sorted((token(1).fingerprint, secret(2).fingerprint))
    expected = hashlib.sha256("\n".join(["a.yaml", "", *fingerprints]).encode()).hexdigest()[:16]
    assert bundle.id == expected
    assert [b.id for b in make_bundles([token(20), secret(22)])] == [expected]


def test_the_same_credentials_in_two_files_or_twice_in_one_have_distinct_ids() -> None:
    found = [token(1, "a.yaml"), token(1, "b.yaml"), token(200, "b.yaml")]
    ids = [b.id for b in make_bundles(found)]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert ids == [b.id for b in make_bundles(reversed(found))]  # stable, whatever the order


def test_no_findings_no_bundles() -> None:
    assert make_bundles([]) == []


@pytest.mark.parametrize("second", ["b.yaml", "sub/a.yaml"])
def test_the_store_keeps_a_bundle_per_file(tmp_path: Path, cli: Any, second: str) -> None:
    """Two files with the same credentials: two bundles, two ids, two incidents in the store."""
    root = tmp_path / "project"
    for name in ("a.yaml", second):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"developer_token: {TOKEN}\nclient_secret: {SECRET}\n")
    store = tmp_path / "s.sqlite"
    doc = cli("scan", str(root), "--store", str(store), "--format", "json").json()
    ids = sorted(b["id"] for b in doc["bundles"])
    assert len(ids) == 2 and len(set(ids)) == 2
    with Store(store) as db:
        assert sorted(r["id"] for r in db.rows("SELECT id FROM bundles")) == ids
        members = db.rows("SELECT bundle_id, fingerprint FROM bundle_members")
        assert sorted({r["bundle_id"] for r in members}) == ids and len(members) == 4
        locations = sorted(r["location"] for r in db.rows("SELECT location FROM bundles"))
    assert locations == sorted(f"{root / name}:1" for name in ("a.yaml", second))


def test_the_report_pairs_each_incident_with_its_own_file(tmp_path: Path, cli: Any) -> None:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("a.yaml", "b.yaml"):
        (root / name).write_text(f"developer_token: {TOKEN}\n")
    store = tmp_path / "s.sqlite"
    scanned = cli("scan", str(root), "--store", str(store), "--format", "json").json()
    bundle_of = {b["location"].rsplit(":", 1)[0]: b["id"] for b in scanned["bundles"]}
    report = cli("report", "--store", str(store), "--format", "json").json()
    pairs = sorted((f["path"], f["bundle"]) for f in report["findings"])
    assert pairs == sorted(bundle_of.items())
