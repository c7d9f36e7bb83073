"""Tokens from the environment only, the dispatcher, picklable inputs, and GitHub listings
driving the mirror cache end to end (rename followed by id, removal marked deleted)."""

from __future__ import annotations

import os
import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.org.github_source import GitHubSource
from scanner.org.gitlab_source import GitLabSource
from scanner.org.listed import ListedSource, list_listed, normalize
from scanner.org.mirror import MirrorCache, sync_repository
from scanner.org.ratelimit import RateBudget
from scanner.org.repositories import Filters, RepositoryRef
from scanner.org.sources import enumerate_source, git_auths, token_for
from tests.gitrepo import Repo
from tests.org.fake_github import FakeGitHub, repo
from tests.org.servers import GitDaemon


def test_tokens_come_from_the_environment_devtoken_first_or_a_named_variable() -> None:
    github, gitlab = GitHubSource("acme"), GitLabSource("acme")
    env = {"GITHUB_TOKEN": "gh-plain", "DEVTOKEN_GITHUB_TOKEN": "gh-ours", "GITLAB_TOKEN": "gl"}
    assert token_for(github, env) == "gh-ours"
    assert (
        token_for(github, {"GITHUB_TOKEN": "gh-plain", "DEVTOKEN_GITHUB_TOKEN": " "}) == "gh-plain"
    )
    assert token_for(gitlab, env) == "gl"
    assert (
        token_for(GitHubSource("acme", token_env="GHE_TOKEN"), {**env, "GHE_TOKEN": "ghe"}) == "ghe"
    )
    assert token_for(GitHubSource("acme", token_env="GHE_TOKEN"), env) is None
    assert token_for(ListedSource(("x",)), env) is None


def test_git_gets_each_token_for_its_own_host_only() -> None:
    specs: list[GitHubSource | GitLabSource | ListedSource] = [
        GitHubSource("acme"),
        GitHubSource("corp", api_url="https://ghe.corp.example/api/v3", token_env="GHE_TOKEN"),
        GitLabSource("group", url="https://gitlab.corp.example"),
        ListedSource(("https://elsewhere.example/x.git",)),
    ]
    env = {"GITHUB_TOKEN": "a", "GHE_TOKEN": "b", "GITLAB_TOKEN": "c"}
    assert [(a.prefix, a.username, a.token) for a in git_auths(specs, env)] == [
        ("https://github.com/", "x-access-token", "a"),
        ("https://ghe.corp.example/", "x-access-token", "b"),
        ("https://gitlab.corp.example/", "oauth2", "c"),
    ]


def test_listed_entries_are_normalised_without_credentials() -> None:
    assert normalize("https://user:pw@Git.Example:8443/a/b.git") == (
        "https://git.example:8443/a/b.git",
        "git.example:8443",
    )
    assert normalize("git@github.com:acme/x.git") == ("git@github.com:acme/x.git", "github.com")
    assert normalize("relative/repo") == (f"file://{os.path.abspath('relative/repo')}", "")


def test_an_ssh_url_keeps_the_account_it_logs_in_as_but_never_a_password() -> None:
    """`ssh://git@host/x.git` without `git@` logs in as the local user: the clone fails."""
    assert normalize("ssh://git@GitHub.com/acme/x.git") == (
        "ssh://git@github.com/acme/x.git",
        "github.com",
    )
    assert normalize("ssh://git:hunter2@host:2222/x.git") == (
        "ssh://git@host:2222/x.git",
        "host:2222",
    )
    assert normalize("https://git@host/x.git") == ("https://host/x.git", "host")


def test_every_input_and_output_pickles() -> None:
    ref = RepositoryRef("github", "github.com", "1", "a/b", "https://github.com/a/b.git")
    values = [
        GitHubSource("acme"),
        GitLabSource("g"),
        ListedSource(("x",)),
        Filters(include=("a*",), pushed_since=datetime(2024, 1, 1, tzinfo=UTC)),
        ref,
        enumerate_source(ListedSource(("/tmp/x",)), Filters()),
    ]
    assert [pickle.loads(pickle.dumps(v)) for v in values] == values


def test_a_github_rename_and_removal_reach_the_mirror_by_id(tmp_path: Path) -> None:
    (tmp_path / "served").mkdir()
    upstream = Repo(tmp_path / "served" / "old-name")
    upstream.commit("first", {"a.txt": "a\n"})
    with FakeGitHub() as api, GitDaemon(tmp_path / "served") as daemon:
        source = GitHubSource("acme", api_url=api.base)
        cache = MirrorCache(tmp_path / "mirrors", timeout=60)

        def listed(*repos: dict[str, object]) -> list[RepositoryRef]:
            api.repos["acme"] = list(repos)
            got = enumerate_source(source, Filters(), env={}, budget=RateBudget(), pace=None)
            assert cache.mark_missing(got) == []
            return list(got.refs)

        old = repo("acme", "old-name", 42, "2024-01-01T00:00:00Z", daemon.url("old-name"))
        [first] = cache.sync(listed(old))
        os.rename(upstream.path, tmp_path / "served" / "new-name")
        new = repo("acme", "new-name", 42, "2024-01-02T00:00:00Z", daemon.url("new-name"))
        renamed = listed(new)
        [second] = cache.sync(renamed)
        assert (second.status, second.renamed_from, second.path) == (
            "updated",
            "acme/old-name",
            first.path,
        )
        assert second.url == daemon.url("new-name")

        api.repos["acme"] = []
        gone = enumerate_source(source, Filters(), env={}, budget=RateBudget(), pace=None)
        [marked] = cache.mark_missing(gone)
        assert (marked.key, marked.status, marked.full_name) == (
            first.key,
            "deleted",
            "acme/new-name",
        )

        # The worker-side entry point takes only plain values.
        plain = pickle.loads(pickle.dumps(renamed[0]))
        again = sync_repository(str(tmp_path / "mirrors"), plain, timeout=60, force=True)
        assert (again.status, again.path, again.changes) == ("updated", first.path, ())


def test_a_pushed_since_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^pushed_since needs a time zone"):
        Filters(pushed_since=datetime(2024, 1, 1))


def test_only_the_git_package_runs_git() -> None:
    org = Path(__file__).resolve().parents[2] / "scanner" / "org"
    offenders = [p.name for p in org.glob("*.py") if "subprocess" in p.read_text()]
    assert offenders == []


def test_a_mirror_is_cloned_from_an_ssh_url_with_its_login_user(tmp_path: Path) -> None:
    """The URL the mirror hands git keeps `git@` (the clone logs in as that account), never
    the password written beside it; the clone itself fails here (nothing listens)."""
    source = ListedSource(("ssh://git:hunter2@127.0.0.1:9/acme/x.git",))
    (ref,) = list_listed(source, Filters()).refs
    result = MirrorCache(tmp_path / "mirrors", timeout=60).sync_one(ref)
    assert (result.url, result.status) == ("ssh://git@127.0.0.1:9/acme/x.git", "failed")
    assert "hunter2" not in (result.error or "")
