"""The findings store: idempotent recording, no plaintext, triage, schema versions, kill safety."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scanner.store.db import Store
from tests.conftest import loopback_env
from tests.fakes.targets import HttpTarget

REPO = Path(__file__).resolve().parents[2]
TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
SECRET = "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"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "a.yaml").write_text(f"developer_token: {TOKEN}\nclient_secret: {SECRET}\n")
    (root / "b.env").write_text(f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    return root


def test_recording_twice_keeps_one_row_per_finding_and_place(
    project: Path, tmp_path: Path, cli: Any
) -> None:
    store = tmp_path / "s.sqlite"
    for _ in range(2):
        assert cli("scan", str(project), "--store", str(store), "--quiet").code == 1
    with Store(store) as db:
        assert len(db.rows("SELECT * FROM findings")) == 2  # the token (two places) and the secret
        assert len(db.rows("SELECT * FROM occurrences")) == 3
        assert len(db.rows("SELECT * FROM scans WHERE finished IS NOT NULL")) == 2
        assert db.version == 7
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("s.sqlite*"))
    assert TOKEN.encode() not in raw and SECRET.encode() not in raw


def test_triage(project: Path, tmp_path: Path, cli: Any) -> None:
    store = tmp_path / "s.sqlite"
    doc = cli("scan", str(project), "--store", str(store), "--format", "json").json()
    fingerprint = next(
        f["fingerprint"] for f in doc["findings"] if f["rule_id"] == "google-oauth-client-secret"
    )
    run = cli(
        "triage",
        fingerprint[:12],
        "--status",
        "false_positive",
        "--note",
        "test app",
        "--store",
        str(store),
    )
    assert run.code == 0 and "1 finding(s) marked false_positive" in run.err
    with Store(store) as db:
        (row,) = db.rows(
            "SELECT status, status_note FROM findings WHERE fingerprint = ?", fingerprint
        )
        assert (row["status"], row["status_note"]) == ("false_positive", "test app")
    assert (
        cli("triage", "deadbeefdeadbeef", "--status", "resolved", "--store", str(store)).code == 2
    )
    assert cli("triage", "abc", "--status", "resolved", "--store", str(store)).code == 2


def test_a_store_from_a_newer_devtoken_is_a_clear_error(tmp_path: Path, cli: Any) -> None:
    store = tmp_path / "new.sqlite"
    with sqlite3.connect(store) as db:
        db.execute("PRAGMA user_version = 99")
    run = cli("report", "--store", str(store))
    assert run.code == 2 and "newer than this devtoken" in run.err


def _env(**extra: str) -> dict[str, str]:
    return loopback_env(**extra)


def _scan_command(*args: str) -> list[str]:
    """`devtoken scan ARGS --quiet` as a child process, for the tests that kill it."""
    return [sys.executable, "-m", "scanner", "scan", *args, "--quiet"]


def test_killed_half_way_then_rerun_loses_nothing_and_retries_under_the_same_key(
    project: Path, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    cmd = _scan_command(str(project), "--store", str(store), "--respond", "webhook", "--send")
    cmd.remove("--quiet")  # the responders' log is asserted: --quiet keeps only failures
    with HttpTarget(hold=True) as hook:
        env = _env(DEVTOKEN_WEBHOOK_URL=f"{hook.base}/hook", DEVTOKEN_WEBHOOK_FORMAT="json")
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert hook.wait_for(2), "the first run never reached the webhook"
        first.send_signal(signal.SIGKILL)  # killed while both notices are in flight
        first.wait()
        hook.hold = False
        hook.released.set()
        again = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert again.returncode == 1, again.stderr
        keys = [(body["incident"], body["idempotency_key"]) for body in hook.bodies()]
    assert "retrying 2 notice(s) from a previous run" in again.stderr
    assert len(keys) == 4 and len(set(keys)) == 2  # each notice twice, under one key
    with Store(store) as db:
        assert len(db.rows("SELECT * FROM findings")) == 2
        states = [(r["state"], r["attempts"]) for r in db.rows("SELECT * FROM actions")]
    assert states == [("sent", 2), ("sent", 2)]  # never "already sent" without a confirmation


def test_a_scan_killed_before_it_records_leaves_the_store_consistent(
    tmp_path: Path, project: Path
) -> None:
    store = tmp_path / "s.sqlite"
    cmd = _scan_command(str(project), "-", "--store", str(store), "--format", "json")
    log = b"noise\n" * 1000 + b"developer-token: Zk4mQ9_rT2xW7vB1nL5pH8\n"
    victim = subprocess.Popen(
        cmd, env=_env(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    assert victim.stdin is not None
    victim.stdin.write(log[: len(log) // 2])  # the scan is now waiting for the rest of stdin
    victim.stdin.flush()
    time.sleep(0.5)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL
    with Store(store) as db:
        assert db.rows("SELECT * FROM findings") == []  # nothing half-written
    done = subprocess.run(cmd, env=_env(), input=log, capture_output=True, timeout=120, check=False)
    found = {(f["path"], f["rule_id"]) for f in json.loads(done.stdout)["findings"]}
    with Store(store) as db:
        stored = {
            (r["path"], r["rule_id"])
            for r in db.rows(
                "SELECT o.path, f.rule_id FROM occurrences o JOIN findings f USING (fingerprint)"
            )
        }
        unfinished = db.rows("SELECT * FROM scans WHERE finished IS NULL")
    assert stored == found and ("-", "google-ads-developer-token") in found and unfinished == []


def test_a_new_store_is_readable_by_its_owner_only(project: Path, tmp_path: Path, cli: Any) -> None:
    store = tmp_path / "s.sqlite"
    old = os.umask(0o022)
    try:
        assert cli("scan", str(project), "--store", str(store), "--quiet").code == 1
        with Store(store):  # while open, the WAL and its index exist
            modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.glob("s.sqlite*")}
    finally:
        os.umask(old)
    assert modes == {"s.sqlite": 0o600, "s.sqlite-wal": 0o600, "s.sqlite-shm": 0o600}
