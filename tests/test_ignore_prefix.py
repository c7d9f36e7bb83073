"""The short fingerprint text output and the hook show is what `.devtokenignore` takes:
the first 12+ hex characters of a fingerprint, never a prefix that names two secrets."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from scanner.baseline import ignored_fingerprints
from tests.gitrepo import Repo

RULE = "google-ads-developer-token"
TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
OTHER = "Zk4mQ9_rT2xW7vB1nL5pH8"


def full(token: str) -> str:
    return hashlib.sha256(f"{RULE}:{token}".encode()).hexdigest()


def test_the_short_fingerprint_text_shows_is_accepted_by_the_ignore_file(
    tmp_path: Path, cli: Any
) -> None:
    (tmp_path / "a.env").write_text(f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    (tmp_path / "b.env").write_text(f"GOOGLE_ADS_DEVELOPER_TOKEN={OTHER}\n")
    first = cli("scan", ".", cwd=tmp_path).out.split("\n")[0]
    assert first == f"a.env:1:28: HIGH {RULE} Qm3x…A1 (fingerprint {full(TOKEN)[:12]})"
    (tmp_path / ".devtokenignore").write_text(f"{full(TOKEN)[:12]}  # test fixture\n")
    doc = cli("scan", ".", "--format", "json", "--explain", cwd=tmp_path).json()
    assert [f["path"] for f in doc["findings"]] == ["b.env"]
    assert [(s["path"], s["reason"]) for s in doc["suppressed"]] == [
        ("a.env", "fingerprint in ignore file")
    ]


def test_a_prefix_shorter_than_12_is_refused(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "a.env").write_text(f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    (tmp_path / ".devtokenignore").write_text(f"{full(TOKEN)[:11]}\n")
    run = cli("scan", ".", cwd=tmp_path)
    assert run.code == 2
    assert run.err.strip().endswith(
        ".devtokenignore:1: not a finding fingerprint (12 to 64 hex characters)"
    )


def test_a_prefix_names_a_fingerprint_only_when_it_names_exactly_one() -> None:
    a, b, c = "abcdef012345" + "0" * 52, "abcdef012345" + "1" * 52, "fedcba987654" + "2" * 52
    assert ignored_fingerprints([a, b, c], {"abcdef012345"}) == set()  # ambiguous: neither
    assert ignored_fingerprints([a, c, c], {"abcdef012345", "fedcba9876542"}) == {a, c}
    assert ignored_fingerprints([a, b], {a, "abcdef0123450"}) == {a}  # whole entries always
    assert ignored_fingerprints([a], {"abcdef01234"}) == set()  # only 12+ characters compare


def test_the_hooks_ignore_line_pasted_into_devtokenignore_lets_the_commit_through(
    tmp_path: Path, cli: Any
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("conf/app.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    repo.git("add", "-A")
    run = cli("scan", "--staged", cwd=repo.path)
    assert run.code == 1
    lines = run.out.splitlines()
    assert lines[-1] == f"    {full(TOKEN)[:12]}  # {RULE} in conf/app.env:1"
    (repo.path / ".devtokenignore").write_text(lines[-1].strip() + "\n")
    assert cli("scan", "--staged", cwd=repo.path).code == 0
