"""One table (scanner.config_schema.SCHEMA) behind every [verify]/[respond] key and its variable."""

from __future__ import annotations

import re

import pytest

from scanner.config_schema import SCHEMA, ConfigError, flatten, label, resolve_table
from scanner.respond.settings import RespondSettings, respond_settings
from scanner.verify.settings import VerifySettings, settings_from

# every variable name devtoken has read for these keys: each must keep working
VARIABLES = {
    "verify.token_url": ("DEVTOKEN_OAUTH_TOKEN_URL",),
    "verify.ads_endpoint": ("DEVTOKEN_GOOGLE_ADS_ENDPOINT",),
    "verify.timeout": ("DEVTOKEN_VERIFY_TIMEOUT",),
    "verify.requests_per_second": ("DEVTOKEN_VERIFY_RPS",),
    "verify.concurrency": ("DEVTOKEN_VERIFY_CONCURRENCY",),
    "verify.max_retries": ("DEVTOKEN_VERIFY_RETRIES",),
    "verify.max_retry_delay": ("DEVTOKEN_VERIFY_MAX_RETRY_DELAY",),
    "respond.webhook_url": ("DEVTOKEN_WEBHOOK_URL",),
    "respond.webhook_format": ("DEVTOKEN_WEBHOOK_FORMAT",),
    "respond.smtp_host": ("DEVTOKEN_SMTP_HOST",),
    "respond.smtp_port": ("DEVTOKEN_SMTP_PORT",),
    "respond.smtp_from": ("DEVTOKEN_SMTP_FROM",),
    "respond.smtp_to": ("DEVTOKEN_SMTP_TO",),
    "respond.smtp_starttls": ("DEVTOKEN_SMTP_STARTTLS",),
    "respond.smtp_user": ("DEVTOKEN_SMTP_USER",),
    "respond.smtp_password": ("DEVTOKEN_SMTP_PASSWORD",),
    "respond.github_repo": ("DEVTOKEN_GITHUB_REPO",),
    "respond.github_api": ("DEVTOKEN_GITHUB_API",),
    "respond.github_token": ("GITHUB_TOKEN", "DEVTOKEN_GITHUB_TOKEN"),
    "respond.revoke_url": ("DEVTOKEN_REVOKE_URL",),
    "respond.timeout": ("DEVTOKEN_RESPOND_TIMEOUT",),
    "respond.deadline": ("DEVTOKEN_RESPOND_DEADLINE",),
    "respond.concurrency": ("DEVTOKEN_RESPOND_CONCURRENCY",),
    "respond.backoff": ("DEVTOKEN_RESPOND_BACKOFF",),
    "store.path": ("DEVTOKEN_STORE",),
    "store.timeout": ("DEVTOKEN_STORE_TIMEOUT",),
}
WITH_ENV = sorted(name for name, key in SCHEMA.items() if key.env and key.in_files)


def test_every_variable_is_a_row_of_the_table() -> None:
    assert {name: key.env for name, key in SCHEMA.items() if key.env} == VARIABLES


def test_the_defaults_are_the_tables() -> None:
    assert VerifySettings() == settings_from({})
    assert RespondSettings() == respond_settings({})
    assert settings_from({}).token_url == "https://oauth2.googleapis.com/token"
    assert respond_settings({}).smtp_port == 25


@pytest.mark.parametrize("name", WITH_ENV)
def test_a_bad_variable_and_a_bad_table_value_are_said_the_same_way(name: str) -> None:
    table, _, key = name.partition(".")
    expected = SCHEMA[name].expected
    (variable,) = SCHEMA[name].env
    with pytest.raises(ConfigError) as caught:
        resolve_table(table, {variable: "a\nb"})
    assert str(caught.value) == f"{variable} must be {expected}, not 'a\\nb'"
    with pytest.raises(ConfigError) as caught:
        resolve_table(table, {}, {key: {}})
    assert str(caught.value) == f"[{table}] {key} must be {expected}, not a table {{}}"
    assert label(name) == f"[{table}] {key}"


@pytest.mark.parametrize(
    ("variable", "key", "value", "text", "parsed"),
    [
        ("DEVTOKEN_VERIFY_TIMEOUT", "timeout", 3, "2.5", 2.5),
        (
            "DEVTOKEN_OAUTH_TOKEN_URL",
            "token_url",
            "https://a.example/t",
            "https://b.example/t",
            None,
        ),
        ("DEVTOKEN_SMTP_PORT", "smtp_port", 587, "2525", 2525),
        ("DEVTOKEN_SMTP_STARTTLS", "smtp_starttls", True, "no", False),
        ("DEVTOKEN_SMTP_TO", "smtp_to", ["a@example.com"], "b@example.com, c@example.com", None),
    ],
)
def test_an_empty_variable_is_unset_and_a_set_one_wins(
    variable: str, key: str, value: object, text: str, parsed: object
) -> None:
    """Both loaders: "" falls back to the config table (verify used to fall back to the default)."""
    table = "respond" if variable.startswith("DEVTOKEN_SMTP") else "verify"
    from_table = resolve_table(table, {variable: ""}, {key: value})[key]
    assert from_table == (tuple(value) if isinstance(value, list) else value)
    from_env = resolve_table(table, {variable: text}, {key: value})[key]
    if parsed is None:
        parsed = tuple(t.strip() for t in text.split(",")) if key == "smtp_to" else text
    assert from_env == parsed


def test_the_verify_view_falls_back_to_the_table_on_an_empty_variable() -> None:
    assert settings_from({"DEVTOKEN_VERIFY_TIMEOUT": ""}, {"timeout": 3}).timeout == 3.0
    assert respond_settings({"DEVTOKEN_SMTP_PORT": ""}, {"smtp_port": 587}).smtp_port == 587


def test_secrets_come_from_the_environment_only_and_are_never_shown() -> None:
    settings = respond_settings(
        {"DEVTOKEN_SMTP_PASSWORD": " p w ", "GITHUB_TOKEN": "", "DEVTOKEN_GITHUB_TOKEN": "t2"}
    )
    assert (settings.smtp_password, settings.github_token) == (" p w ", "t2")
    settings = respond_settings({"GITHUB_TOKEN": "t1", "DEVTOKEN_GITHUB_TOKEN": "t2"})
    assert settings.github_token == "t1"
    assert respond_settings({"DEVTOKEN_SMTP_PASSWORD": ""}).smtp_password is None
    with pytest.raises(ConfigError, match=re.escape("unknown [respond] setting(s): smtp_password")):
        respond_settings({}, {"smtp_password": "hunter2"})


def test_what_only_the_environment_sets_is_refused_in_a_file_and_checked_in_a_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        flatten({"store": {"timeout": 5}}, "ci.toml")
    assert str(caught.value) == (
        "ci.toml: store.timeout is set in the environment (DEVTOKEN_STORE_TIMEOUT), "
        "not in a config file"
    )
    with pytest.raises(ConfigError) as caught:
        flatten({"respond": {"smtp_password": "pw"}}, "ci.toml")
    assert str(caught.value) == (
        "ci.toml: respond.smtp_password is a secret: set it in the environment "
        "(DEVTOKEN_SMTP_PASSWORD), not in a config file"
    )
    assert resolve_table("store", {"DEVTOKEN_STORE_TIMEOUT": ""}) == {"path": None, "timeout": 30.0}
    assert resolve_table("store", {"DEVTOKEN_STORE_TIMEOUT": "1.5", "DEVTOKEN_STORE": "s.db"}) == {
        "path": "s.db",
        "timeout": 1.5,
    }
    with pytest.raises(ConfigError) as caught:
        resolve_table("store", {"DEVTOKEN_STORE_TIMEOUT": "-1"})
    assert str(caught.value) == "DEVTOKEN_STORE_TIMEOUT must be a number of seconds, not '-1'"
