"""render/incidents.py: the report model, remotes read as projects, the store read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.bundles import make_bundles
from scanner.render.incidents import (
    Incident,
    in_report_order,
    load_incidents,
    remote_parts,
    remote_project,
    web_url,
)
from scanner.store.db import Store
from tests.render.literals import incident, occurrence, scan_result


@pytest.mark.parametrize(
    ("remote", "parts"),
    [
        ("git@github.com:acme/ads.git", ("github.com", "acme/ads")),
        ("https://github.com/acme/ads", ("github.com", "acme/ads")),
        ("https://github.com/acme/ads.git/", ("github.com", "acme/ads")),
        ("https://x-access-token:ghp_Zk3mQ9@github.com/acme/ads.git", ("github.com", "acme/ads")),
        (
            "ssh://git@gitlab.example.com:2222/group/sub/app.git",
            ("gitlab.example.com", "group/sub/app"),
        ),
        ("ssh://git@github.com:acme/ads", ("github.com", "acme/ads")),
        ("https://github.com:443/acme/ads", ("github.com", "acme/ads")),
        ("git://git.example.org/tools.git", ("git.example.org", "tools")),
        ("gitlab.com/acme/ads", ("gitlab.com", "acme/ads")),
        ("bitbucket.org:acme/ads.git", ("bitbucket.org", "acme/ads")),
        # local paths and file:// name no host
        ("/srv/git/ads.git", None),
        ("../ads", None),
        ("file:///srv/git/ads.git", None),
        ("", None),
        # a user-info part that is not a clean `user@` is never read as a project
        ("https://user:ab/cd@github.com/acme/ads", None),
        ("https://gitlab.com/-x/@y", None),
    ],
)
def test_a_remote_read_as_host_and_project(remote: str, parts: tuple[str, str] | None) -> None:
    assert remote_parts(remote) == parts
    assert remote_project(remote) == (parts[1] if parts else None)


def test_web_links_only_for_the_known_hosts() -> None:
    sha = "a" * 40
    assert web_url("git@github.com:acme/ads.git", sha, "conf/a b.env", 3) == (
        f"https://github.com/acme/ads/blob/{sha}/conf/a%20b.env#L3"
    )
    assert web_url("https://gitlab.com/g/sub/app", sha, "x.env", 1) == (
        f"https://gitlab.com/g/sub/app/-/blob/{sha}/x.env#L1"
    )
    assert web_url("git@bitbucket.org:acme/ads.git", sha, "x.env", 2) == (
        f"https://bitbucket.org/acme/ads/src/{sha}/x.env#lines-2"
    )
    assert web_url("https://gitlab.example.com/g/app", sha, "x.env", 1) is None
    assert web_url("git@github.com:acme/ads.git", "not-a-sha", "x.env", 1) is None


def test_an_occurrence_names_its_repository_by_remote_else_by_repo() -> None:
    assert occurrence(repo="/m/ads.git", remote="git@github.com:acme/ads.git").repository == (
        "acme/ads"
    )
    assert occurrence(repo="/m/ads.git", remote="/srv/ads.git").repository == "/m/ads.git"
    assert occurrence(repo="", remote="").repository == "(files)"


def test_an_incident_lists_its_repositories() -> None:
    one = occurrence(commit="a" * 40, repo="/m/one", remote="https://github.com/acme/one")
    two = occurrence(commit="b" * 40, repo="/m/two")
    again = occurrence(path="other.env", commit="c" * 40, repo="/m/two")
    spread = incident(one, two, again)
    assert spread.repositories == ("/m/one", "/m/two")
    assert spread.repository_names == ("/m/two", "acme/one")
    files = incident()
    assert (files.repositories, files.repository_names) == ((), ("(files)",))
    assert (files.project, files.new) == (None, False)


def test_report_order_is_outcome_then_severity_then_place() -> None:
    def at(location: str, status: str) -> Incident:
        from dataclasses import replace

        return replace(incident(), location=location, verification={"status": status})

    ordered = in_report_order(
        [at("b:1", "skipped"), at("a:1", "invalid"), at("z:1", "live"), at("c:1", "live")]
    )
    assert [(i.location, i.verification["status"]) for i in ordered] == [
        ("c:1", "live"),
        ("z:1", "live"),
        ("a:1", "invalid"),
        ("b:1", "skipped"),
    ]


def test_the_store_bundle_project_column_is_read(tmp_path: Path) -> None:
    result = scan_result()
    result.bundles = make_bundles(result.findings)
    with Store(tmp_path / "s.sqlite") as store:
        store.record(result, "files", ".")
        (before,) = load_incidents(store)
        store.execute("UPDATE bundles SET project = ?", "ads-prod-4711")
        (after,) = load_incidents(store)
    assert before.project is None
    assert after.project == "ads-prod-4711"
    assert after.repositories == () and after.new is False
