"""The config schema: one type check per key, one-line errors, layering and the [respond] table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.config import ConfigError, load_settings
from scanner.respond.settings import respond_settings
from scanner.verify.settings import settings_from

TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test starts without a user config (XDG_CONFIG_HOME points at an empty dir)."""
    home = tmp_path / "xdg-config"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    (root / "app.env").write_text(f"developer_token: {TOKEN}\n")
    (root / "tests" / "fixture.env").write_text(f"developer_token: {TOKEN}\n")
    return root


def paths_found(run: Any) -> list[str]:
    return [f["path"] for f in run.json()["findings"]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'exclude = "tests/*"',
            "exclude must be a list of glob strings, not the string 'tests/*'",
        ),
        ("exclude = [1]", "exclude must be a list of glob strings, not a list [1]"),
        ("max_file_size = -5", "max_file_size must be a size such as"),
        ("max_file_size = 1.5", "max_file_size must be a size such as"),
        ('max_file_size = "lots"', "max_file_size must be a size such as"),
        ("max_file_size = true", "max_file_size must be a size such as"),
        ("rules_dir = 5", "rules_dir must be a directory path, not an integer 5"),
        ('scan_binary = "no"', "scan_binary must be true or false, not the string 'no'"),
        ("baseline = []", "baseline must be a file path, not a list []"),
        (
            'baseline = "\\u001b[2J.json"',
            "baseline must be a file path, not the string '\\x1b[2J.json'",
        ),
        ("verify = 5", "[verify] must be a table, not an integer"),
        ('[verify]\ntoken_url = "ftp://x"', "[verify] token_url must be an http(s) URL"),
        ("[verify]\nconcurrency = 0", "[verify] concurrency must be a whole number, at least 1"),
        ("[verify]\ntimeout = -1", "[verify] timeout must be a number greater than 0"),
        ('[verify]\nads_endpoint = "a b"', "[verify] ads_endpoint must be host or host:port"),
        ('[respond]\nwebhook_format = "xml"', '[respond] webhook_format must be "slack" or "json"'),
        ('[respond]\nsmtp_port = "25"', "[respond] smtp_port must be a port number (1-65535)"),
        ("[respond]\nsmtp_to = []", "[respond] smtp_to must be a list of e-mail addresses"),
        ('[respond]\ngithub_repo = "acme"', "[respond] github_repo must be owner/name"),
        ('[respond]\nsmtp_password = "hunter2"', "respond.smtp_password is a secret"),
        ('[respond]\nwebhook = "x"', "unknown setting(s): respond.webhook"),
        ("respond = []", "[respond] must be a table, not a list"),
        ("exclude = [", "not valid TOML"),
    ],
)
@pytest.mark.parametrize("where", ["repository", "explicit", "user"])
def test_a_config_type_slip_is_one_line_and_exit_2(
    project: Path, cli: Any, no_user_config: Path, text: str, message: str, where: str
) -> None:
    if where == "user":
        config = no_user_config / "devtoken" / "config.toml"
        config.parent.mkdir()
    else:
        config = project / (".devtoken.toml" if where == "repository" else "ci.toml")
    config.write_text(text + "\n")
    extra = ["--config", str(config)] if where == "explicit" else []
    run = cli("scan", ".", "--format", "json", *extra, cwd=project)
    assert run.code == 2
    (line,) = run.err.splitlines()
    assert line.startswith(
        f"devtoken: error: {config if where != 'repository' else '.devtoken.toml'}"
    )
    assert message in line
    assert "hunter2" not in run.err


def test_a_non_utf8_config_is_a_clear_error(project: Path, cli: Any) -> None:
    (project / ".devtoken.toml").write_bytes(b'exclude = ["caf\xe9"]\n')
    run = cli("scan", ".", cwd=project)
    assert run.code == 2
    assert run.err == "devtoken: error: .devtoken.toml: not UTF-8 (byte 15); save it as UTF-8\n"


def test_a_control_character_in_an_unknown_key_is_escaped(project: Path, cli: Any) -> None:
    (project / ".devtoken.toml").write_text('"x\\u001b[2J" = 1\n')
    run = cli("scan", ".", cwd=project)
    assert run.code == 2
    assert run.err == "devtoken: error: .devtoken.toml: unknown setting(s): 'x\\x1b[2J'\n"


def test_the_readme_respond_table_is_accepted_and_reaches_the_responders(tmp_path: Path) -> None:
    config = tmp_path / "devtoken.toml"
    config.write_text(
        "[respond]\n"
        'webhook_url = "https://hooks.example.com/T0/B0"\n'
        'webhook_format = "json"\n'
        'smtp_host = "mail.example.com"\n'
        "smtp_port = 587\n"
        'smtp_from = "devtoken@example.com"\n'
        'smtp_to = ["security@example.com", "ads@example.com"]\n'
        "smtp_starttls = true\n"
        'smtp_user = "devtoken"\n'
        'github_repo = "acme/ads"\n'
        'github_api = "https://github.example.com/api/v3"\n'
        'revoke_url = "https://oauth2.example.com/revoke"\n'
        "timeout = 5\n"
        "deadline = 30.5\n"
        "concurrency = 3\n"
        "backoff = 0\n"
    )
    table = load_settings(config, env={}).table("respond")
    settings = respond_settings({"DEVTOKEN_SMTP_PASSWORD": "pw"}, table)
    assert settings.webhook_url == "https://hooks.example.com/T0/B0"
    assert settings.webhook_format == "json"
    assert (settings.smtp_host, settings.smtp_port) == ("mail.example.com", 587)
    assert settings.smtp_from == "devtoken@example.com"
    assert settings.smtp_to == ("security@example.com", "ads@example.com")
    assert settings.smtp_starttls is True
    assert (settings.smtp_user, settings.smtp_password) == ("devtoken", "pw")
    assert settings.github_repo == "acme/ads"
    assert settings.github_api == "https://github.example.com/api/v3"
    assert settings.revoke_url == "https://oauth2.example.com/revoke"
    assert (settings.timeout, settings.deadline, settings.concurrency, settings.backoff) == (
        5,
        30.5,
        3,
        0,
    )


def test_the_schema_accepts_every_key_the_responders_read() -> None:
    from scanner.config_schema import SCHEMA
    from scanner.respond.settings import TABLE_KEYS

    assert {key for key in TABLE_KEYS if f"respond.{key}" not in SCHEMA} == set()


def test_a_respond_table_no_longer_makes_every_command_exit_2(project: Path, cli: Any) -> None:
    config = project / "ci.toml"
    config.write_text('exclude = ["tests/*"]\n[respond]\nwebhook_url = "https://hooks.example/x"\n')
    run = cli("scan", ".", "--config", str(config), "--format", "json", cwd=project)
    assert run.code == 1 and paths_found(run) == ["app.env"]


def test_the_verify_table_and_the_environment_pass_the_same_checks() -> None:
    assert settings_from({}, {"timeout": 3, "concurrency": 2}).timeout == 3.0
    assert settings_from({"DEVTOKEN_VERIFY_TIMEOUT": "2.5"}, {"timeout": 3}).timeout == 2.5
    with pytest.raises(
        ConfigError,
        match=r"^DEVTOKEN_OAUTH_TOKEN_URL must be an http\(s\) URL, not 'file:///etc/passwd'$",
    ):
        settings_from({"DEVTOKEN_OAUTH_TOKEN_URL": "file:///etc/passwd"})
    with pytest.raises(
        ConfigError,
        match=r"^DEVTOKEN_VERIFY_CONCURRENCY must be a whole number, at least 1, not '0'$",
    ):
        settings_from({"DEVTOKEN_VERIFY_CONCURRENCY": "0"})


def test_a_bad_verify_environment_variable_is_exit_2(project: Path, cli: Any) -> None:
    (project / "app.env").write_text(
        "client_secret: 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\n"
        "client_id: 278534944592-6vbtcjbs73z4z61numlhm5zme0k1y5g3.apps.googleusercontent.com\n"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEVTOKEN_VERIFY_RPS", "-1")
        run = cli("scan", "app.env", "--verify", cwd=project)
    assert run.code == 2
    assert "DEVTOKEN_VERIFY_RPS must be a number greater than 0, not '-1'" in (run.err)


def test_user_config_applies_and_repository_excludes_add_to_it(
    project: Path, cli: Any, no_user_config: Path
) -> None:
    (project / "other.env").write_text(f"developer_token: {TOKEN}\n")
    user = no_user_config / "devtoken" / "config.toml"
    user.parent.mkdir()
    user.write_text('exclude = ["other.env"]\n')
    assert paths_found(cli("scan", ".", "--format", "json", cwd=project)) == [
        "app.env",
        "tests/fixture.env",
    ]
    (project / ".devtoken.toml").write_text('exclude = ["tests"]\n')
    run = cli("scan", ".", "--format", "json", cwd=project)
    assert paths_found(run) == ["app.env"]
    assert [(f["path"], f["origin"]) for f in run.json()["stats"]["config"]["files"]] == [
        (str(user), "user"),
        (".devtoken.toml", "repository"),
    ]


def test_flags_win_over_config_and_explicit_config_replaces_the_repository_one(
    project: Path, cli: Any
) -> None:
    (project / "big.env").write_text(f"developer_token: {TOKEN}\n" + "x" * 200)
    (project / ".devtoken.toml").write_text('exclude = ["tests"]\nmax_file_size = "100"\n')
    assert paths_found(cli("scan", ".", "--format", "json", cwd=project)) == ["app.env"]
    flagged = cli("scan", ".", "--format", "json", "--max-file-size", "0", cwd=project)
    assert paths_found(flagged) == ["app.env", "big.env"]
    (project / "ci.toml").write_text("max_file_size = 0\n")
    explicit = cli("scan", ".", "--format", "json", "--config", "ci.toml", cwd=project)
    assert paths_found(explicit) == ["app.env", "big.env", "tests/fixture.env"]


def test_paths_in_a_config_file_are_relative_to_that_file(project: Path, cli: Any) -> None:
    ci = project / "ci"
    ci.mkdir()
    (ci / "known.json").write_text('{"version": 1, "entries": []}\n')
    (ci / "devtoken.toml").write_text('baseline = "known.json"\nexclude = ["tests"]\n')
    run = cli("scan", ".", "--format", "json", "--config", "ci/devtoken.toml", cwd=project)
    assert run.code == 1 and paths_found(run) == ["app.env"]
    (ci / "devtoken.toml").write_text('baseline = "missing.json"\n')
    missing = cli("scan", ".", "--config", "ci/devtoken.toml", cwd=project)
    assert missing.code == 2 and f"cannot read baseline {Path('ci/missing.json')}" in missing.err


def test_each_setting_knows_which_file_set_it(tmp_path: Path, monkeypatch: Any) -> None:
    user = tmp_path / "u" / "devtoken" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text('scan_binary = true\nmax_file_size = "1k"\n[verify]\ntimeout = 4\n')
    explicit = tmp_path / "ci.toml"
    explicit.write_text("max_file_size = 2048\n[verify]\nconcurrency = 2\n")
    settings = load_settings(explicit, env={"XDG_CONFIG_HOME": str(tmp_path / "u")})
    assert settings.get("max_file_size") == 2048
    assert [settings.setter(k).label for k in ("max_file_size", "scan_binary")] == [  # type: ignore[union-attr]
        f"{explicit} (explicit config)",
        f"{user} (user config)",
    ]
    assert settings.table("verify") == {"timeout": 4.0, "concurrency": 2}
    assert settings.setter("rules_dir") is None


def test_scan_binary_only_adds_coverage(project: Path, cli: Any, no_user_config: Path) -> None:
    (project / "blob.bin").write_bytes(b"\x00\x01" + f"developer_token: {TOKEN}\n".encode())
    user = no_user_config / "devtoken" / "config.toml"
    user.parent.mkdir()
    user.write_text("scan_binary = true\n")
    (project / ".devtoken.toml").write_text("scan_binary = false\n")
    assert "blob.bin" in paths_found(cli("scan", ".", "--format", "json", cwd=project))
