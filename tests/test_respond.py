"""Responders against real listeners on 127.0.0.1: once per incident, redacted, dry run by default."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from tests.conftest import loopback_env, run_subprocess
from tests.fakes.listeners import HttpReceiver, SmtpReceiver

REPO = Path(__file__).resolve().parent.parent
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


def run(project: Path, store: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    scan = ["scan", str(project), "--store", str(store), "--quiet", "--format", "json", *args]
    return run_subprocess(scan, env=loopback_env(**env), text=True)


def test_webhook_email_and_ticket_each_once_and_redacted(project: Path, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    with HttpReceiver() as http, SmtpReceiver() as smtp:
        env = dict(
            DEVTOKEN_WEBHOOK_URL=f"{http.base}/slack",
            DEVTOKEN_SMTP_HOST="127.0.0.1",
            DEVTOKEN_SMTP_PORT=str(smtp.port),
            DEVTOKEN_SMTP_TO="security@example.com,ads-api@example.com",
            DEVTOKEN_GITHUB_REPO="acme/ads",
            DEVTOKEN_GITHUB_API=f"{http.base}/api",
            GITHUB_TOKEN="ghp_test_token_for_the_fake_api",
        )
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
    texts = [p.get_payload(decode=True).decode() for p in parsed]
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


@pytest.mark.parametrize(("policy", "code"), [("any", 1), ("live", 0), ("none", 0)])
def test_fail_on(project: Path, tmp_path: Path, policy: str, code: int) -> None:
    assert run(project, tmp_path / "s.sqlite", "--fail-on", policy).returncode == code


def test_responders_never_run_on_staged_changes(tmp_path: Path, cli: object) -> None:
    run_ = cli("scan", "--staged", "--respond", "webhook", cwd=tmp_path)  # type: ignore[operator]
    assert run_.code == 2
