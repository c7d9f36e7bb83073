"""Golden files: every format, live and from the store, on one fixed tree.

The rendering stack may be rebuilt; what it prints may not change. Volatile parts
(version, durations, today's timestamps, the temp root) are masked. To re-record after a
deliberate change: DEVTOKEN_UPDATE_GOLDEN=1 pytest tests/render/test_golden.py
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scanner import __version__
from tests.gitrepo import Repo

GOLDEN = Path(__file__).parent / "golden"
TOKEN = "Zk3mQ9vTb2LxWc7RnP4s_g"
TREE = {
    "google-ads.yaml": (
        f"developer_token: {TOKEN}\n"
        "client_id: 278534944592-6vbtcjbs73z4z61numlhm5zme0k1y5g3.apps.googleusercontent.com\n"
        "client_secret: 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\n"
        "refresh_token: 1//0g4haR7K8XyZCB6IAUUJcTa_RXcrzEBZshBfTf39VMBlMJzjtPrcWC3f5fMqIY3Dwarw4xQTQzKEe7\n"
        "login_customer_id: 1234567890\n"
    ),
    "sa.json": (
        '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n'
        '5ZVnk19J9zLJTqqGiasTz6eCAmpEElUbygyDvxwJa+sae3FFoxbtGQpH4uqTNv1f\\n-----END PRIVATE KEY-----\\n",'
        ' "private_key_id": "3f1c0e9a7b5d2e8f6a4c1b9d7e5f3a2c0b8d6e4f",'
        ' "client_email": "reporter@ads-reporting-4411.iam.gserviceaccount.com"}\n'
    ),
    "notes/\u202eevil.md": "access: ya29.a0AfB_byC3kq9VxL2mT7nQ4rW8sZ1yH6jD0eF5gK3pN9bX2cV7mL4qR8tY1uI6oP3aS0dF5gH2jK7lZ9x\n",
    ".env": "GOOGLE_ADS_DEVELOPER_TOKEN=Hb7nV2_cX5zL8qW3eR6tY9 # devtoken:allow\n",
    "=cmd.csv": "GOOGLE_ADS_DEVELOPER_TOKEN=Pq7wE3_rT9yU2iO5pA8sD1\n",
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files and a git repository whose history added, then removed, a token."""
    root = tmp_path_factory.mktemp("golden")
    files = root / "files"
    for name, text in TREE.items():
        (files / name).parent.mkdir(parents=True, exist_ok=True)
        (files / name).write_text(text)
    repo = Repo(root / "repo")
    repo.commit(
        "add <b>config</b> @team", {"conf/app.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"}
    )
    repo.commit("remove it", remove=("conf/app.env",))
    repo.commit("keep", {"ads.yaml": "developer_token: Xy8nB4_mK7pQ2wR5tZ9vC3\n"})
    repo.git("remote", "add", "origin", "git@github.com:acme/ads.git")
    return root


def _mask(text: str, root: Path) -> str:
    text = text.replace(str(root), "<ROOT>").replace(__version__, "<VERSION>")
    text = re.sub(r'"duration_seconds": [0-9.e-]+', '"duration_seconds": 0', text)
    text = re.sub(r"MB in [0-9.]+s", "MB in <T>s", text)
    now = datetime.now(UTC)
    for day in {now.date(), (now - timedelta(hours=1)).date()}:
        text = re.sub(rf"{day.isoformat()}(T[0-9:.]+(\+00:00|Z)?)?", "<NOW>", text)
    return text


def _check(name: str, text: str, root: Path) -> None:
    shown = _mask(text, root)
    golden = GOLDEN / name
    if os.environ.get("DEVTOKEN_UPDATE_GOLDEN"):
        golden.write_bytes(shown.encode("utf-8"))
    assert shown == golden.read_bytes().decode("utf-8")  # CSV rows end in CRLF


SCANS = [
    ("scan.json", ("--format", "json")),
    ("scan-explain.json", ("--format", "json", "--explain")),
    ("scan.jsonl", ("--format", "jsonl")),
    ("scan.sarif", ("--format", "sarif")),
    ("scan.txt", ("--format", "text", "--explain")),
    # the report formats render the live scan's incidents (render/scan_incidents.py)
    ("scan.md", ("--format", "md")),
    ("scan.csv", ("--format", "csv")),
    ("scan.html", ("--format", "html")),
]


@pytest.mark.parametrize(("name", "options"), SCANS, ids=[n for n, _ in SCANS])
def test_live_scan_output_is_unchanged(
    cli: Callable[..., Any], tree: Path, name: str, options: tuple[str, ...]
) -> None:
    run = cli("scan", ".", "--quiet", *options, cwd=tree / "files")
    assert run.code == 1
    _check(name, run.out, tree)


HISTORY = [
    ("git.json", ("--format", "json")),
    ("git.sarif", ("--format", "sarif")),
    ("git.txt", ("--format", "text")),
    ("git.md", ("--format", "md")),
    ("git.csv", ("--format", "csv")),
    ("git.html", ("--format", "html")),
]


@pytest.mark.parametrize(("name", "options"), HISTORY, ids=[n for n, _ in HISTORY])
def test_history_scan_output_is_unchanged(
    cli: Callable[..., Any], tree: Path, name: str, options: tuple[str, ...]
) -> None:
    run = cli("git", str(tree / "repo"), "--quiet", "-j", "1", *options)
    assert run.code == 1
    _check(name, run.out, tree)


@pytest.fixture(scope="module")
def store(tree: Path) -> Path:
    from scanner.cli import main

    path = tree / "store.sqlite"
    old = os.getcwd()
    try:
        os.chdir(tree / "files")
        assert main(["scan", ".", "--quiet", "--store", str(path), "-o", os.devnull]) == 1
        repo = str(tree / "repo")
        assert (
            main(["git", repo, "--quiet", "-j", "1", "--store", str(path), "-o", os.devnull]) == 1
        )
    finally:
        os.chdir(old)
    return path


REPORTS = ["json", "sarif", "md", "csv", "html"]


@pytest.mark.parametrize("fmt", REPORTS)
def test_store_report_is_unchanged(
    cli: Callable[..., Any], tree: Path, store: Path, fmt: str
) -> None:
    run = cli("report", "--store", str(store), "--format", fmt)
    assert run.code == 0
    _check(f"report.{fmt}", run.out, tree)


def test_golden_json_is_the_contract(tree: Path) -> None:
    """The golden JSON itself: the fields scripts read are there, with their values."""
    doc = json.loads((GOLDEN / "scan.json").read_text())
    assert doc["schema_version"] == 1
    first = doc["findings"][0]
    assert sorted(first) == sorted(
        [
            "rule_id",
            "rule_name",
            "severity",
            "path",
            "line",
            "column",
            "secret_redacted",
            "fingerprint",
            "source",
            "encoding",
            "why",
            "bundle",
            "verification",
        ]
    )
