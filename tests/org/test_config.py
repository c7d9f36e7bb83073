"""org.toml / [org]: sources, filters and limits, with one-line errors for bad settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.config import ConfigError
from scanner.org.config import OrgConfig, load_org_config, parse_org_config
from scanner.org.github_source import GitHubSource
from scanner.org.gitlab_source import GitLabSource
from scanner.org.listed import ListedSource
from scanner.org.mirror import default_root
from scanner.org.repositories import Filters

FULL = """
[org]
mirrors = "/srv/devtoken/mirrors"
timeout = 300
jobs = 8
rate_limit_budget = 600
listed = ["/srv/git/tool"]

[org.filters]
include = ["svc-*"]
exclude = ["acme/legacy-*"]
forks = true
visibility = ["public", "internal"]
pushed_since = 2024-01-31

[[org.github]]
org = "acme"

[[org.github]]
user = "alice"
api_url = "https://ghe.corp.example/api/v3/"
token_env = "GHE_TOKEN"

[[org.gitlab]]
group = "acme/platform"
url = "https://gitlab.corp.example"
include_subgroups = false
"""


def test_a_full_org_toml(tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    path.write_text(FULL)
    assert load_org_config(path) == OrgConfig(
        sources=(
            GitHubSource("acme"),
            GitHubSource(
                "alice",
                kind="user",
                api_url="https://ghe.corp.example/api/v3",
                token_env="GHE_TOKEN",
            ),
            GitLabSource(
                "acme/platform", url="https://gitlab.corp.example", include_subgroups=False
            ),
            ListedSource(("/srv/git/tool",)),
        ),
        filters=Filters(
            include=("svc-*",),
            exclude=("acme/legacy-*",),
            forks=True,
            visibility=("public", "internal"),
            pushed_since=datetime(2024, 1, 31, tzinfo=UTC),
        ),
        mirrors=Path("/srv/devtoken/mirrors"),
        timeout=300.0,
        jobs=8,
        rate_limit_budget=600.0,
    )


def test_defaults_and_a_bare_table() -> None:
    config = parse_org_config({"github": {"org": "acme"}}, "org.toml")
    assert config == OrgConfig(sources=(GitHubSource("acme"),), mirrors=default_root())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "org.toml: no sources: add [[org.github]], [[org.gitlab]] or listed"),
        (
            {"github": [{"org": "acme", "token": "ghp_x"}]},
            "org.toml: github[0]: tokens are never read from a file: set token_env to the name "
            "of the environment variable that holds it",
        ),
        (
            {"github": [{"org": "a", "user": "b"}]},
            'org.toml: github[0]: give exactly one of org = "..." or user = "..."',
        ),
        (
            {"github": [{"org": "a", "api_url": "http://ghe.corp/api/v3"}]},
            "org.toml: github[0]: api_url: expected an https:// URL, got 'http://ghe.corp/api/v3'",
        ),
        ({"gitlab": [{"url": "https://x"}]}, 'org.toml: gitlab[0]: group = "..." is required'),
        ({"listed": ["x"], "colour": "red"}, "org.toml: unknown setting(s): colour"),
        (
            {"listed": ["x"], "filters": {"visibility": ["secret"]}},
            "org.toml: filters: visibility secret: expected public, private or internal",
        ),
        (
            {"listed": ["x"], "filters": {"pushed_since": "last week"}},
            "org.toml: filters: pushed_since: not a date: 'last week' (e.g. 2024-01-31)",
        ),
        ({"listed": ["x"], "timeout": 0}, "org.toml: timeout must be a positive number"),
        ({"listed": "x"}, "org.toml: listed must be a list of non-empty strings"),
    ],
)
def test_bad_settings_are_one_line_config_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_org_config(data, "org.toml")
    assert str(caught.value) == message


def test_http_is_allowed_to_this_machine_only() -> None:
    config = parse_org_config({"github": {"org": "a", "api_url": "http://127.0.0.1:8080"}}, "o")
    assert config.sources == (GitHubSource("a", api_url="http://127.0.0.1:8080"),)


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "org.toml"
    bad.write_text("[org\n")
    with pytest.raises(ConfigError, match=r"^cannot read config .*org.toml: "):
        load_org_config(bad)
