"""Baselines (rule, secret hash, path) and the fingerprint ignore file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.gitrepo import Repo

TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
OTHER = "Zk4mQ9_rT2xW7vB1nL5pH8"


def test_baseline_create_then_only_new_findings(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "old.env").write_text(f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    assert cli("baseline", "create", ".", cwd=tmp_path).code == 0
    baseline = tmp_path / ".devtoken-baseline.json"
    document = json.loads(baseline.read_text())
    assert document["version"] == 1
    assert document["entries"] == [
        {
            "rule_id": "google-ads-developer-token",
            "secret_sha256": hashlib.sha256(TOKEN.encode()).hexdigest(),
            "path": "old.env",
        }
    ]
    assert TOKEN not in baseline.read_text() and "line" not in baseline.read_text()
    # Moving the secret down does not churn the baseline; a new secret is reported.
    (tmp_path / "old.env").write_text(f"# moved\n\nGOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    assert cli("scan", ".", "--baseline", str(baseline), cwd=tmp_path).code == 0
    (tmp_path / "new.env").write_text(f"GOOGLE_ADS_DEVELOPER_TOKEN={OTHER}\n")
    run = cli(
        "scan", ".", "--baseline", str(baseline), "--format", "json", "--explain", cwd=tmp_path
    )
    doc = run.json()
    assert [f["path"] for f in doc["findings"]] == ["new.env"]
    assert [s["reason"] for s in doc["suppressed"]] == ["known finding in baseline"]


def test_baseline_update_reports_added_and_dropped(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "a.env").write_text(f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    cli("baseline", "create", cwd=tmp_path)
    (tmp_path / "a.env").write_text("clean\n")
    (tmp_path / "b.env").write_text(f"GOOGLE_ADS_DEVELOPER_TOKEN={OTHER}\n")
    run = cli("baseline", "update", cwd=tmp_path)
    assert run.code == 0 and "(1 new, 1 no longer found)" in run.err
    paths = [
        e["path"] for e in json.loads((tmp_path / ".devtoken-baseline.json").read_text())["entries"]
    ]
    assert paths == ["b.env"]


def test_baseline_applies_to_history_and_staged(tmp_path: Path, cli: Any) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("leak", {"conf.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
    assert cli("baseline", "create", "--history", cwd=repo.path).code == 0
    assert cli("git", ".", "--baseline", ".devtoken-baseline.json", cwd=repo.path).code == 0
    repo.write("other.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")  # same secret, new path: new
    repo.git("add", "other.env")
    assert cli("scan", "--staged", "--baseline", ".devtoken-baseline.json", cwd=repo.path).code == 1


def test_a_history_baseline_records_what_git_reports_binary_blobs_included(
    tmp_path: Path, cli: Any
) -> None:
    """With scan_binary in the config, `devtoken git` reports a token in a binary blob, so
    `baseline create --history` under that config records it too (it used to scan text only,
    leaving that finding "new" for ever)."""
    repo = Repo(tmp_path / "r")
    binary = b"\x00" * 200 + f"developer_token: {TOKEN}\n".encode() + bytes(range(256)) * 4
    (repo.path / "blob.bin").write_bytes(binary)
    repo.commit("binary")
    config = tmp_path / "ci.toml"
    config.write_text("scan_binary = true\n")
    assert cli("git", ".", "--config", str(config), cwd=repo.path).code == 1
    made = cli("baseline", "create", "--history", "--config", str(config), cwd=repo.path)
    assert made.code == 0 and "1 known finding(s)" in made.err
    again = cli("git", ".", "--config", str(config), "--baseline", ".devtoken-baseline.json",
                cwd=repo.path)  # fmt: skip
    assert again.code == 0


def test_ignore_file_of_fingerprints(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "a.env").write_text(f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    (fingerprint,) = [
        f["fingerprint"]
        for f in cli("scan", ".", "--format", "json", cwd=tmp_path).json()["findings"]
    ]
    (tmp_path / ".devtokenignore").write_text(
        f"# test fixture, revoked 2026-11-01\n{fingerprint}  # why\n"
    )
    assert cli("scan", ".", cwd=tmp_path).code == 0
    (tmp_path / ".devtokenignore").write_text("not-a-fingerprint\n")
    run = cli("scan", ".", cwd=tmp_path)
    assert run.code == 2 and ".devtokenignore:1: not a finding fingerprint" in run.err


def test_malformed_baseline_is_exit_2(tmp_path: Path, cli: Any) -> None:
    bad = tmp_path / "b.json"
    bad.write_text('{"version": 99, "entries": []}')
    run = cli("scan", str(tmp_path), "--baseline", str(bad))
    assert run.code == 2 and "unsupported format" in run.err
    bad.write_text("{")
    assert "is not JSON" in cli("scan", str(tmp_path), "--baseline", str(bad)).err
