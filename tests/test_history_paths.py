"""`devtoken git` with unusual path names: every part of the history pass keeps them exact.

The class: any byte git allows in a path (newline, carriage return, tab, quote,
backslash, non-ASCII, non-UTF-8, leading/trailing spaces) must survive the log
walk, the path trace (added/removed), the tip check and the JSON output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gitrepo import Repo

BASE = "Qm3xK9_pL2vN8rT4wY6z"

NAMES: list[bytes] = [
    b"a\nb.yaml",
    b"cr\r.yaml",
    b"tab\there.yaml",
    b'quote".yaml',
    b"back\\slash.yaml",
    "caf\u00e9.yaml".encode(),
    b"latin\xe9.yaml",
    b" lead and trail .yaml ",
    b"dir with\nnewline/inner.yaml",
    b"plain.yaml",
]


def shown(name: bytes) -> str:
    """How the JSON output spells a path: UTF-8, invalid bytes as U+FFFD."""
    return name.decode("utf-8", "replace")


def git_json(cli: Any, *args: str) -> dict[str, Any]:
    run = cli("git", *args, "--format", "json", "--quiet")
    assert run.code == 1, run.err
    return run.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_every_odd_path_is_found_traced_and_checked_at_the_tip(
    tmp_path: Path, cli: Any, jobs: str
) -> None:
    repo = Repo(tmp_path / "repo")
    for n, name in enumerate(NAMES):
        repo.write(name, f"developer_token: {BASE}{n:02d}\n")
    repo.count += 1
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "add")
    first = repo.git("rev-parse", "HEAD")
    for n, name in enumerate(NAMES):  # replace each secret: one removed, one still at the tip
        repo.write(name, f"developer_token: {BASE}{n + 50:02d}\n")
    second = repo.commit("rotate")
    doc = git_json(cli, str(repo.path), "--jobs", jobs)
    got = {
        (f["path"], f["secret_redacted"][-2:]): (
            f["commit"],
            f["exposure"]["removed_commit"],
            f["exposure"]["still_present_in"],
        )
        for f in doc["findings"]
    }
    expected = {}
    for n, name in enumerate(NAMES):
        expected[(shown(name), f"{n:02d}")] = (first, second, [])
        expected[(shown(name), f"{n + 50:02d}")] = (second, None, ["refs/heads/main"])
    assert got == expected
    assert doc["stats"]["skipped"] == []
