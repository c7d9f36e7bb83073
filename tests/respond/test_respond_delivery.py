"""Responder delivery under failure, against real listeners on 127.0.0.1: concurrency and the
per-run deadline, idempotency keys across reruns, retries after a kill, exit code 4 when every
delivery failed, and redirects never taken for success."""

from __future__ import annotations

import base64
import email
import hashlib
import json
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from scanner.respond.run import idempotency_key
from scanner.store.db import Store
from tests.conftest import loopback_env, run_subprocess
from tests.fakes.listeners import SmtpReceiver
from tests.fakes.targets import HttpTarget

REFRESH = "1//0g4haR7K8XyZCB6IAUUJcTa_RXcrzEBZshBfTf39VMBlMJzjtPrcWC3f5fMqIY3Dwarw4xQTQzKEe7"


def _token(n: int) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"devtoken-test-{n}".encode()).digest())[
        :22
    ].decode()


def scanned_store(tmp_path: Path, incidents: int) -> Path:
    """A store holding `incidents` incidents (one developer token per file)."""
    project = tmp_path / "project"
    project.mkdir()
    for n in range(incidents):
        (project / f"app{n}.yaml").write_text(f"developer_token: {_token(n)}\n")
    store = tmp_path / "s.sqlite"
    done = run_subprocess(
        ["scan", str(project), "--store", str(store), "--quiet"], env=loopback_env()
    )
    assert done.returncode == 1, done.stderr
    return store


def respond(store: Path, *actions: str, **env: str) -> subprocess.CompletedProcess[str]:
    args = [
        "respond",
        "--store",
        str(store),
        "--send",
        "--action",
        ",".join(actions or ["webhook"]),
    ]
    return run_subprocess(args, env=loopback_env(**env), text=True)


def webhook(target: HttpTarget, **extra: str) -> dict[str, str]:
    return {
        "DEVTOKEN_WEBHOOK_URL": f"{target.base}/hook",
        "DEVTOKEN_WEBHOOK_FORMAT": "json",
        **extra,
    }


def actions_table(store: Path) -> list[tuple[str, int]]:
    with Store(store) as db:
        rows = db.rows("SELECT state, attempts FROM actions ORDER BY incident")
    return [(r["state"], r["attempts"]) for r in rows]


def test_notices_go_out_concurrently(tmp_path: Path) -> None:
    # The target answers only once all five requests are open at the same moment: one after
    # another, each would time out waiting for the others.
    store = scanned_store(tmp_path, 5)
    with HttpTarget(barrier=5) as target:
        done = respond(store, **webhook(target, DEVTOKEN_RESPOND_TIMEOUT="5"))
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("devtoken: sent: webhook to") == 5
    assert len(target.requests) == 5
    assert actions_table(store) == [("sent", 1)] * 5


def test_a_target_that_never_answers_costs_one_deadline(tmp_path: Path) -> None:
    store = scanned_store(tmp_path, 5)
    with HttpTarget(hold=True) as target:
        started = time.monotonic()
        done = respond(
            store, **webhook(target, DEVTOKEN_RESPOND_TIMEOUT="60", DEVTOKEN_RESPOND_DEADLINE="2")
        )
        elapsed = time.monotonic() - started
    assert elapsed < 30  # safety bound only: one notice's own timeout is 60 s
    assert len(target.requests) == 5
    assert done.stderr.count("no answer before the run's deadline (2s)") == 5
    assert done.returncode == 4, done.stderr
    assert "error: all 5 delivery(ies) failed (exit 4)" in done.stderr
    assert actions_table(store) == [("failed", 1)] * 5


def test_at_most_the_configured_number_in_flight_and_the_rest_wait_for_the_next_run(
    tmp_path: Path,
) -> None:
    store = scanned_store(tmp_path, 5)
    with HttpTarget(hold=True) as target:
        env = webhook(target, DEVTOKEN_RESPOND_CONCURRENCY="2", DEVTOKEN_RESPOND_DEADLINE="1.5")
        done = respond(store, **env)
        assert len(target.requests) == 2
    assert "3 delivery(ies) not attempted before the run's deadline" in done.stderr
    assert sorted(actions_table(store)) == [("failed", 1)] * 2 + [("pending", 0)] * 3
    assert done.returncode == 4


def test_a_notice_that_timed_out_after_arriving_is_resent_with_the_same_key(
    tmp_path: Path,
) -> None:
    store = scanned_store(tmp_path, 2)
    with HttpTarget(delay=5) as target:
        env = webhook(target, DEVTOKEN_RESPOND_TIMEOUT="0.5", DEVTOKEN_RESPOND_BACKOFF="0")
        first = respond(store, **env)
        assert first.returncode == 4, first.stderr
        assert first.stderr.count("within 0.5s") == 2
        target.delay = 0
        again = respond(store, **env)
    assert again.returncode == 0, again.stderr
    assert "retrying 2 notice(s) from a previous run" in again.stderr
    assert again.stderr.count("devtoken: sent: webhook") == 2
    keys: dict[str, list[str]] = {}
    for request in target.requests:
        body = json.loads(request["body"])
        assert request["headers"]["Idempotency-Key"] == body["idempotency_key"]
        keys.setdefault(body["incident"], []).append(body["idempotency_key"])
    url = f"{target.base}/hook"
    assert keys == {i: [idempotency_key("webhook", url, i)] * 2 for i in keys} and len(keys) == 2
    assert actions_table(store) == [("sent", 2)] * 2


def test_a_failed_notice_waits_for_its_backoff(tmp_path: Path) -> None:
    store = scanned_store(tmp_path, 1)
    with HttpTarget(delay=5) as target:
        env = webhook(target, DEVTOKEN_RESPOND_TIMEOUT="0.5", DEVTOKEN_RESPOND_BACKOFF="3600")
        assert respond(store, **env).returncode == 4
        target.delay = 0
        again = respond(store, **env)
    assert len(target.requests) == 1
    assert "not retried yet: webhook to" in again.stderr and "failed 1 time(s)" in again.stderr
    assert again.returncode == 0
    assert actions_table(store) == [("failed", 1)]


def test_killed_mid_send_the_rerun_retries_with_the_same_key_and_says_so(tmp_path: Path) -> None:
    store = scanned_store(tmp_path, 2)
    cmd = [sys.executable, "-m", "scanner", "respond", "--store", str(store), "--send"]
    cmd += ["--action", "webhook"]
    with HttpTarget(hold=True) as target:
        env = loopback_env(**webhook(target))
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert target.wait_for(2), "the first run never reached the webhook"
        first.send_signal(signal.SIGKILL)  # killed while both notices are in flight
        first.wait()
        assert actions_table(store) == [("sending", 1)] * 2
        target.hold = False
        target.released.set()
        again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "retrying 2 notice(s) from a previous run" in again.stderr
    assert "already sent" not in again.stderr
    by_incident: dict[str, list[str]] = {}
    for request in target.requests:
        body = json.loads(request["body"])
        by_incident.setdefault(body["incident"], []).append(request["headers"]["Idempotency-Key"])
    assert len(by_incident) == 2
    assert all(len(keys) == 2 and keys[0] == keys[1] for keys in by_incident.values())
    assert actions_table(store) == [("sent", 2)] * 2


def test_every_delivery_failing_exits_4_and_a_partial_failure_does_not(tmp_path: Path) -> None:
    store = scanned_store(tmp_path, 2)
    closed = HttpTarget()  # never started: its port refuses connections
    closed.server.server_close()
    refused = respond(store, **webhook(closed, DEVTOKEN_RESPOND_BACKOFF="0"))
    assert refused.returncode == 4
    assert refused.stderr.count("cannot reach 127.0.0.1") == 2
    with SmtpReceiver() as smtp:
        env = webhook(
            closed,
            DEVTOKEN_RESPOND_BACKOFF="0",
            DEVTOKEN_SMTP_HOST="127.0.0.1",
            DEVTOKEN_SMTP_PORT=str(smtp.port),
            DEVTOKEN_SMTP_TO="security@example.com",
        )
        partial = respond(store, "webhook", "email", **env)
        assert len(smtp.messages) == 2
    assert partial.returncode == 0, partial.stderr
    assert partial.stderr.count("failed: webhook") == 2
    assert partial.stderr.count("sent: email") == 2


def test_the_scan_exits_4_when_every_delivery_failed(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "app.yaml").write_text(f"developer_token: {_token(1)}\n")
    closed = HttpTarget()
    closed.server.server_close()
    args = ["scan", str(project), "--store", str(tmp_path / "s.sqlite"), "--quiet"]
    done = run_subprocess(
        [*args, "--respond", "webhook", "--send"], env=loopback_env(**webhook(closed)), text=True
    )
    assert done.returncode == 4, done.stderr


def test_email_message_id_is_the_idempotency_key(tmp_path: Path) -> None:
    store = scanned_store(tmp_path, 1)
    with SmtpReceiver() as smtp:
        done = respond(
            store,
            "email",
            DEVTOKEN_SMTP_HOST="127.0.0.1",
            DEVTOKEN_SMTP_PORT=str(smtp.port),
            DEVTOKEN_SMTP_TO="security@example.com",
        )
        (message,) = [email.message_from_string(m["data"]) for m in smtp.messages]
    assert done.returncode == 0, done.stderr
    incident = message["X-Devtoken-Incident"]
    key = idempotency_key("email", "security@example.com", incident)
    assert message["Message-ID"] == f"<{key}@devtoken>"


def _revoke_project(tmp_path: Path) -> Path:
    project = tmp_path / "p"
    project.mkdir()
    (project / "google-ads.yaml").write_text(f"refresh_token: {REFRESH}\n")
    return project


@pytest.mark.parametrize("status", [301, 302, 303, 307])
def test_a_revoke_endpoint_that_redirects_is_not_reported_as_revoked(
    tmp_path: Path, status: int
) -> None:
    project = _revoke_project(tmp_path)
    store = tmp_path / "s.sqlite"
    with HttpTarget(redirect="/elsewhere", redirect_status=status) as target:
        args = ["scan", str(project), "--store", str(store), "--quiet", "--revoke", "--send"]
        done = run_subprocess(
            [*args, "--yes"],
            env=loopback_env(DEVTOKEN_REVOKE_URL=f"{target.base}/revoke"),
            text=True,
        )
        paths = [(r["method"], r["path"]) for r in target.requests]
    assert paths == [("POST", "/revoke")]  # the redirect is not followed
    assert "revoked:" not in done.stderr
    assert "failed: revoke refresh_token 1//0g4ha…" in done.stderr
    assert f"HTTP {status} redirect" in done.stderr
    assert REFRESH not in done.stderr + done.stdout
    assert done.returncode == 4
    assert actions_table(store) == [("failed", 1)]
    assert urllib.parse.parse_qs(target.requests[0]["body"]) == {"token": [REFRESH]}


def test_logs_show_a_webhook_url_without_its_credential(tmp_path: Path) -> None:
    store = scanned_store(tmp_path, 1)
    with HttpTarget() as target:
        port = target.server.server_address[1]
        url = f"http://hook:pw@127.0.0.1:{port}/services/T0/B0/Xk9secretpart"
        dry = run_subprocess(
            ["respond", "--store", str(store), "--action", "webhook"],
            env=loopback_env(DEVTOKEN_WEBHOOK_URL=url),
            text=True,
        )
        sent = respond(store, DEVTOKEN_WEBHOOK_URL=url)
        assert [r["path"] for r in target.requests] == ["/services/T0/B0/Xk9secretpart"]
        assert target.requests[0]["headers"]["Authorization"] == "Basic aG9vazpwdw=="
    for run in (dry, sent):
        assert f"webhook to http://127.0.0.1:{port}/…" in run.stderr
        assert "Xk9secretpart" not in run.stderr and "pw" not in run.stderr
