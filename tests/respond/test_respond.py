"""Responders against real listeners on 127.0.0.1: once per incident, redacted, dry run by default."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import cast

import pytest

from tests.conftest import loopback_env, run_subprocess
from tests.fakes.listeners import HttpReceiver, SmtpReceiver

REPO = Path(__file__).resolve().parents[2]
TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
SECRET = "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"
REFRESH = "1//0g4haR7K8XyZCB6IAUUJcTa_RXcrzEBZshBfTf39VMBlMJzjtPrcWC3f5fMqIY3Dwarw4xQTQzKEe7"
CLEAR = (TOKEN, SECRET, REFRESH)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "google-ads.yaml").write_text(
        f"developer_token: {TOKEN}\nclient_secret: {SECRET}\nrefresh_token: {REFRESH}\n"
    )
    (root / "old.env").write_text("GOOGLE_ADS_DEVELOPER_TOKEN=Zk4mQ9_rT2xW7vB1nL5pH8\n")
    return root


def _channels(http: HttpReceiver, smtp: SmtpReceiver, recipients: str) -> dict[str, str]:
    """The environment that sends the webhook, the e-mail and the ticket to the listeners."""
    return {
        "DEVTOKEN_WEBHOOK_URL": f"{http.base}/slack",
        "DEVTOKEN_SMTP_HOST": "127.0.0.1",
        "DEVTOKEN_SMTP_PORT": str(smtp.port),
        "DEVTOKEN_SMTP_TO": recipients,
        "DEVTOKEN_GITHUB_REPO": "acme/ads",
        "DEVTOKEN_GITHUB_API": f"{http.base}/api",
        "GITHUB_TOKEN": "ghp_test_token_for_the_fake_api",
    }


def run(project: Path, store: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    scan = ["scan", str(project), "--store", str(store), "--format", "json", *args]
    return run_subprocess(scan, env=loopback_env(**env), text=True)


def test_webhook_email_and_ticket_each_once_and_redacted(project: Path, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    with HttpReceiver() as http, SmtpReceiver() as smtp:
        env = _channels(http, smtp, "security@example.com,ads-api@example.com")
        first = run(project, store, "--respond", "webhook,email,ticket", "--send", **env)
        assert first.returncode == 1, first.stderr
        second = run(project, store, "--respond", "webhook,email,ticket", "--send", **env)
        assert "already sent" in second.stderr
        slack = http.json_bodies("/slack")
        issues = [r for r in http.requests if r["path"] == "/api/repos/acme/ads/issues"]
        messages = list(smtp.messages)
    assert len(slack) == 2 and len(issues) == 2 and len(messages) == 2  # two incidents, once each
    assert all(set(body) == {"text", "blocks"} for body in slack)
    assert issues[0]["headers"]["Authorization"] == "Bearer ghp_test_token_for_the_fake_api"
    parsed = [email.message_from_string(m["data"]) for m in messages]
    assert parsed[0]["To"] == "security@example.com, ads-api@example.com"
    texts = [cast(bytes, p.get_payload(decode=True)).decode() for p in parsed]
    assert any("Reset token" in t and "Qm3x…A1" in t for t in texts)
    everything = json.dumps([slack, [r["body"] for r in issues], texts])
    assert not any(secret in everything for secret in CLEAR)


def test_dry_run_sends_nothing_and_says_what_it_would_do(project: Path, tmp_path: Path) -> None:
    with HttpReceiver() as http:
        done = run(
            project,
            tmp_path / "s.sqlite",
            "--respond",
            "webhook",
            DEVTOKEN_WEBHOOK_URL=f"{http.base}/hook",
            DEVTOKEN_WEBHOOK_FORMAT="json",
        )
        assert http.requests == []
    assert done.stderr.count("dry run: webhook") == 2


def test_revoke_asks_first_then_revokes_each_token_once(project: Path, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    with HttpReceiver() as http:
        env = dict(DEVTOKEN_REVOKE_URL=f"{http.base}/revoke")
        unconfirmed = run(project, store, "--respond", "revoke", "--send", **env)
        assert "revoke not confirmed" in unconfirmed.stderr and http.requests == []
        confirmed = run(project, store, "--revoke", "--send", "--yes", **env)
        again = run(project, store, "--respond", "revoke", "--send", "--yes", **env)
        bodies = [urllib.parse.parse_qs(r["body"]) for r in http.requests]
    assert bodies == [{"token": [REFRESH]}]  # the configured endpoint gets the token, once
    assert "revoked: refresh_token 1//0g4ha…" in confirmed.stderr
    assert "already revoked" in again.stderr
    assert REFRESH not in confirmed.stderr + confirmed.stdout


def test_respond_from_the_store_and_triage_silences(
    project: Path, tmp_path: Path, cli: object
) -> None:
    store = tmp_path / "s.sqlite"
    doc = json.loads(run(project, store).stdout)
    with HttpReceiver() as http:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "NO_PROXY": "*",
            "DEVTOKEN_WEBHOOK_URL": f"{http.base}/hook",
            "DEVTOKEN_WEBHOOK_FORMAT": "json",
        }
        fingerprint = next(
            f["fingerprint"] for f in doc["findings"] if f["path"].endswith("old.env")
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "scanner",
                "triage",
                fingerprint,
                "--status",
                "resolved",
                "--store",
                str(store),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "scanner",
                "respond",
                "--action",
                "webhook",
                "--send",
                "--store",
                str(store),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        incidents = {body["incident"] for body in http.json_bodies("/hook")}
    assert len(incidents) == 1  # the resolved incident is not notified


# `live` without --verify could never fail a build: a usage error (exit 2), not a silent 0
@pytest.mark.parametrize(("policy", "code"), [("any", 1), ("live", 2), ("none", 0)])
def test_fail_on(project: Path, tmp_path: Path, policy: str, code: int) -> None:
    assert run(project, tmp_path / "s.sqlite", "--fail-on", policy).returncode == code


def test_responders_never_run_on_staged_changes(tmp_path: Path, cli: object) -> None:
    run_ = cli("scan", "--staged", "--respond", "webhook", cwd=tmp_path)  # type: ignore[operator]
    assert run_.code == 2


HOSTILE = "```\n# Owned @acme-security <!channel> <!here|docs>\nBcc: thief@evil.example\n"


def test_scanned_names_reach_no_channel_unescaped(tmp_path: Path) -> None:
    from markdown_it import MarkdownIt

    project = tmp_path / "project"
    (project / HOSTILE).mkdir(parents=True)
    (project / HOSTILE / "google-ads.yaml").write_text(f"developer_token: {TOKEN}\n")
    with HttpReceiver() as http, SmtpReceiver() as smtp:
        env = _channels(http, smtp, "security@example.com")
        done = run(
            project, tmp_path / "s.sqlite", "--respond", "webhook,email,ticket", "--send", **env
        )
        (slack,) = http.json_bodies("/slack")
        (issue,) = http.json_bodies("/issues")
        (mail,) = list(smtp.messages)
    assert done.returncode == 1, done.stderr
    # Slack: no <!channel>, no disguised link; the text shows what the name really says
    texts = [slack["text"], slack["blocks"][1]["text"]["text"]]
    assert all("<" not in t and ">" not in t for t in texts)
    assert "&lt;!channel&gt; &lt;!here|docs&gt;" in texts[1]
    assert slack["blocks"][1]["text"]["verbatim"] is True
    # GitHub: the whole body stays one code block, whatever backticks the name holds
    tokens = MarkdownIt("commonmark").parse(issue["body"])
    assert [t.type for t in tokens] == ["fence", "html_block"]
    assert "# Owned @acme-security <!channel>" in tokens[0].content
    assert "\\n# Owned" in tokens[0].content  # the newline in the name is shown, not obeyed
    # e-mail: one Subject line, no smuggled header, only the configured recipient
    message = email.message_from_string(mail["data"], policy=email.policy.default)
    assert message["Bcc"] is None and mail["to"] == ["security@example.com"]
    assert message["Subject"].startswith("devtoken: Google Ads credentials leaked in ")
    assert "\\nBcc: thief@evil.example\\n" in message["Subject"]
    assert not any(line.startswith("Bcc:") for line in mail["data"].splitlines())


def test_slack_text_is_cut_between_entities() -> None:
    from scanner.respond.notice import SLACK_TEXT_LIMIT, Notice

    text = Notice("i", "t", "a" + "<" * 3000).slack()["blocks"][1]["text"]["text"]
    assert text == "a" + "&lt;" * ((SLACK_TEXT_LIMIT - 2) // 4) + "…"


def test_a_bad_setting_names_its_variable(project: Path, tmp_path: Path) -> None:
    done = run(project, tmp_path / "s.sqlite", "--respond", "email", DEVTOKEN_SMTP_PORT="abc")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "devtoken: error: DEVTOKEN_SMTP_PORT must be a port number (1-65535), not 'abc'"
    )


@pytest.mark.parametrize(
    ("env", "table", "said"),
    [
        (
            {},
            {"smtp_port": "x"},
            "[respond] smtp_port must be a port number (1-65535), not the string 'x'",
        ),
        (
            {},
            {"smtp_port": 2.5},
            "[respond] smtp_port must be a port number (1-65535), not a number 2.5",
        ),
        ({"DEVTOKEN_RESPOND_DEADLINE": "0"}, {}, "DEVTOKEN_RESPOND_DEADLINE must be a number"),
        ({"DEVTOKEN_SMTP_STARTTLS": "maybe"}, {}, "DEVTOKEN_SMTP_STARTTLS must be true or false"),
        (
            {"DEVTOKEN_WEBHOOK_FORMAT": "teams"},
            {},
            'DEVTOKEN_WEBHOOK_FORMAT must be "slack" or "json", not \'teams\'',
        ),
        (
            {},
            {"smtp_from": "a@b\nBcc: c@d"},
            "[respond] smtp_from must be an e-mail address on one line",
        ),
        ({}, {"webhook": "http://x"}, "unknown [respond] setting(s): webhook"),
        (
            {"DEVTOKEN_WEBHOOK_URL": "file:///etc/passwd"},
            {},
            "DEVTOKEN_WEBHOOK_URL must be an http(s) URL",
        ),
        (
            {},
            {"revoke_url": "oauth2.googleapis.com"},
            "[respond] revoke_url must be an http(s) URL",
        ),
    ],
)
def test_settings_errors(env: dict[str, str], table: dict[str, object], said: str) -> None:
    from scanner.respond.settings import respond_settings

    with pytest.raises(ValueError, match=re.escape(said)):
        respond_settings(env, table)


def test_the_environment_overrides_the_table() -> None:
    from scanner.respond.settings import respond_settings

    settings = respond_settings(
        {"DEVTOKEN_SMTP_PORT": "2525"},
        {"smtp_port": 587, "smtp_to": ["a@example.com"], "deadline": 5, "smtp_starttls": True},
    )
    assert (settings.smtp_port, settings.smtp_to, settings.deadline, settings.smtp_starttls) == (
        2525,
        ("a@example.com",),
        5.0,
        True,
    )


def test_a_token_in_two_files_is_two_incidents_and_revoked_once(
    project: Path, tmp_path: Path
) -> None:
    (project / "copy.yaml").write_text((project / "google-ads.yaml").read_text())
    store = tmp_path / "s.sqlite"
    with HttpReceiver() as http:
        env = dict(DEVTOKEN_REVOKE_URL=f"{http.base}/revoke")
        done = run(project, store, "--revoke", "--send", "--yes", **env)
        bodies = [urllib.parse.parse_qs(r["body"]) for r in http.requests]
    assert len(json.loads(done.stdout)["bundles"]) == 3
    assert bodies == [{"token": [REFRESH]}]
    assert done.stderr.count("revoked: refresh_token 1//0g4ha…") == 1


def test_a_rule_of_ones_own_with_a_revocable_role_is_revoked(project: Path, tmp_path: Path) -> None:
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    bundled = rules / "google-oauth-refresh-token.toml"
    text = bundled.read_text().replace(
        'id = "google-oauth-refresh-token"', 'id = "acme-refresh-token"'
    )
    bundled.unlink()
    (rules / "acme-refresh-token.toml").write_text(text)
    store = tmp_path / "s.sqlite"
    with HttpReceiver() as http:
        env = dict(DEVTOKEN_REVOKE_URL=f"{http.base}/revoke")
        done = run(project, store, "--rules", str(rules), "--revoke", "--send", "--yes", **env)
        bodies = [urllib.parse.parse_qs(r["body"]) for r in http.requests]
    assert "acme-refresh-token" in {f["rule_id"] for f in json.loads(done.stdout)["findings"]}
    assert bodies == [{"token": [REFRESH]}]
    assert REFRESH not in done.stderr + done.stdout
