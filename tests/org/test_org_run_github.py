"""`devtoken org` over a GitHub organisation (PyGithub against a fake API on 127.0.0.1, clones
from `git daemon`): a renamed repository keeps its mirror, tips and findings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from scanner import api
from scanner.org.executor import make_executor
from scanner.org.github_source import GitHubSource
from scanner.org.output import build_report
from scanner.org.run import OrgOptions, run_org
from scanner.render import render_store
from scanner.rules import load_rules, ruleset_key
from tests.gitrepo import Repo
from tests.org.fake_github import FakeGitHub, repo
from tests.org.servers import GitDaemon

TOKEN = "Zk3mQ9vTb2LxWc7RnP4s_g"


def test_a_renamed_repository_keeps_its_findings_under_its_new_name(tmp_path: Path) -> None:
    served = tmp_path / "served"
    work = Repo(served / "old-name")
    work.commit("leak", {"config/google-ads.yaml": f"developer_token: {TOKEN}\n"})
    rules = load_rules()
    with FakeGitHub() as github, GitDaemon(served) as daemon:
        pushed = "2024-01-10T08:00:00Z"
        github.repos["acme"] = [repo("acme", "old-name", 7, pushed, daemon.url("old-name"))]
        options = OrgOptions(
            sources=(GitHubSource("acme", api_url=github.base),),
            config=api.Config(),
            rules=rules,
            ruleset=ruleset_key(rules),
            cache=tmp_path / "cache",
            timeout=60.0,
            pace=None,
            env={},
        )
        with (
            api.open_store(str(tmp_path / "s.sqlite"), create=True) as store,
            make_executor(1) as executor,
        ):
            first = run_org(options, store, executor)
            (served / "old-name").rename(served / "new-name")
            github.repos["acme"] = [repo("acme", "new-name", 7, pushed, daemon.url("new-name"))]
            second = run_org(options, store, executor)
            report = build_report(second, store, rules)
            repos = {row[0] for row in store.rows("SELECT DISTINCT repo FROM occurrences")}
            targets = [row[0] for row in store.rows("SELECT target FROM scans WHERE kind = 'git'")]
            remotes = {row[0] for row in store.rows("SELECT remote_url FROM occurrences")}
            incidents, previous = api.report_incidents(store)  # `devtoken report --store`
            stored = render_store(incidents, "json", store.path.name, previous)
    assert [(r.repository, r.status, r.findings) for r in first.repositories] == [
        ("acme/old-name", "scanned", 1)
    ]
    (renamed,) = second.repositories
    assert dataclasses.astuple(renamed)[:3] == (
        first.repositories[0].key,
        "acme/new-name",
        daemon.url("new-name"),
    )
    assert (renamed.status, renamed.renamed_from, renamed.aliases) == (
        "unchanged",
        "acme/old-name",
        ("acme/old-name",),
    )
    assert renamed.findings == 1
    assert [(f["repository"], f["path"], f["new"]) for f in report.findings] == [
        ("acme/new-name", "config/google-ads.yaml", False)
    ]
    assert second.stats()["blobs_scanned"] == 0
    # the store names it by its new name only: reports from it never show the old one
    assert repos == {"acme/new-name"}
    assert targets == ["acme/new-name", "acme/new-name"]
    assert remotes == {daemon.url("new-name")}
    (incident,) = incidents
    assert incident.repositories == ("acme/new-name",)
    assert "old-name" not in stored
    assert "new-name" in stored
