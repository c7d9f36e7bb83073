"""Every effective setting knows its origin: default, a config file, the environment or a flag."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from scanner.config import ConfigFile, Origin, Settings, load_settings, variables_set

T = "Zk3mQ9vTb2LxWc7RnP4s_g"

USER_FILE = ConfigFile(
    Path("/home/me/.config/devtoken/config.toml"),
    "user",
    {"exclude": ("*.log",), "max_file_size": 1024, "verify.timeout": 4.0, "scan_binary": True},
)
REPO_FILE = ConfigFile(
    Path(".devtoken.toml"), "repository", {"exclude": ("tests/*",), "max_file_size": 2048}
)
SETTINGS = Settings(
    (USER_FILE, REPO_FILE),
    variables=(("verify.timeout", "DEVTOKEN_VERIFY_TIMEOUT"),),
    flags=(("exclude", "--exclude"), ("rules_dir", "--rules")),
)


@pytest.mark.parametrize(
    ("key", "origin"),
    [
        ("rule_timeout", Origin("default")),
        ("verify.concurrency", Origin("default")),
        ("max_file_size", Origin("repository", ".devtoken.toml")),  # the later file wins
        ("verify.timeout", Origin("environment", "DEVTOKEN_VERIFY_TIMEOUT")),  # over the file
        ("rules_dir", Origin("flag", "--rules")),
        ("scan_binary", Origin("user", "/home/me/.config/devtoken/config.toml")),
        ("exclude", Origin("flag", "--exclude")),  # additive: the last of its sources
    ],
)
def test_the_origin_of_each_key(key: str, origin: Origin) -> None:
    assert SETTINGS.origin(key) == origin


def test_additive_keys_list_every_source_that_adds_to_them() -> None:
    assert SETTINGS.origins_of("exclude") == (
        Origin("user", "/home/me/.config/devtoken/config.toml"),
        Origin("repository", ".devtoken.toml"),
        Origin("flag", "--exclude"),
    )
    off = Settings((ConfigFile(Path("ci.toml"), "explicit", {"scan_binary": False}),))
    assert off.origins_of("scan_binary") == ()  # false adds nothing: the default applies
    assert off.origin("scan_binary") == Origin("default")


def test_the_json_form_names_every_key_that_was_set_and_nothing_else() -> None:
    user = "/home/me/.config/devtoken/config.toml"
    assert SETTINGS.record() == {
        "files": [
            {
                "path": user,
                "origin": "user",
                "keys": ["exclude", "max_file_size", "scan_binary", "verify.timeout"],
                "ignored": [],
                "narrows": {},
            },
            {
                "path": ".devtoken.toml",
                "origin": "repository",
                "keys": ["exclude", "max_file_size"],
                "ignored": [],
                "narrows": {"exclude": ["tests/*"], "max_file_size": 2048},
            },
        ],
        "origins": {
            "exclude": [
                {"origin": "user", "from": user},
                {"origin": "repository", "from": ".devtoken.toml"},
                {"origin": "flag", "from": "--exclude"},
            ],
            "max_file_size": [{"origin": "repository", "from": ".devtoken.toml"}],
            "scan_binary": [{"origin": "user", "from": user}],
            "rules_dir": [{"origin": "flag", "from": "--rules"}],
            "verify.timeout": [{"origin": "environment", "from": "DEVTOKEN_VERIFY_TIMEOUT"}],
        },
    }


def test_the_first_set_variable_of_a_key_is_its_origin_and_an_empty_one_is_unset() -> None:
    env = {
        "GITHUB_TOKEN": "",
        "DEVTOKEN_GITHUB_TOKEN": "ghp_example",
        "DEVTOKEN_SMTP_PORT": "",
        "DEVTOKEN_STORE": "/var/lib/devtoken.sqlite",
        "DEVTOKEN_SMTP_HOST": "not checked here",
        "HOME": "/home/me",
    }
    assert variables_set(env) == (
        ("respond.smtp_host", "DEVTOKEN_SMTP_HOST"),
        ("store.path", "DEVTOKEN_STORE"),
        ("respond.github_token", "DEVTOKEN_GITHUB_TOKEN"),
    )
    assert variables_set({"GITHUB_TOKEN": "a", "DEVTOKEN_GITHUB_TOKEN": "b"}) == (
        ("respond.github_token", "GITHUB_TOKEN"),
    )


def test_load_settings_records_the_variables_but_never_their_values(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        env={"XDG_CONFIG_HOME": str(tmp_path), "DEVTOKEN_SMTP_PASSWORD": "hunter2-secret"},
    )
    assert settings.origin("respond.smtp_password") == Origin(
        "environment", "DEVTOKEN_SMTP_PASSWORD"
    )
    assert b"hunter2-secret" not in pickle.dumps(settings)


def test_stats_config_carries_the_origin_of_every_key_set(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("DEVTOKEN_") or n == "GITHUB_TOKEN"]:
        monkeypatch.delenv(name)  # only what this test sets
    user = tmp_path / "xdg" / "devtoken" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text('exclude = ["*.log"]\n[respond]\nsmtp_port = 587\n')
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "app.env").write_text(f"developer_token: {T}\n")
    (checkout / ".devtoken.toml").write_text('max_file_size = "1MiB"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("DEVTOKEN_SMTP_PORT", "2525")
    run = cli("scan", ".", "--exclude", "*.tmp", "--format", "json", cwd=checkout)
    assert run.json()["stats"]["config"]["origins"] == {
        "exclude": [
            {"origin": "user", "from": str(user)},
            {"origin": "flag", "from": "--exclude"},
        ],
        "max_file_size": [{"origin": "repository", "from": ".devtoken.toml"}],
        "respond.smtp_port": [{"origin": "environment", "from": "DEVTOKEN_SMTP_PORT"}],
    }
    plain = cli("scan", ".", "--max-file-size", "2MiB", "--format", "json", cwd=checkout)
    assert plain.json()["stats"]["config"]["origins"]["max_file_size"] == [
        {"origin": "flag", "from": "--max-file-size"}
    ]
