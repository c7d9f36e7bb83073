"""`devtoken git` with unusual path names: every part of the history pass keeps them exact.

The class: any byte git allows in a path (newline, carriage return, tab, quote,
backslash, non-ASCII, non-UTF-8, leading/trailing spaces) must survive the log
walk, the path trace (added/removed), the tip check and the JSON output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gitrepo import Repo, git_json

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
    doc = git_json(cli, str(repo.path), "--jobs", jobs, codes=(1,))
    got = {
        (f["path"], f["secret_redacted"][-2:]): (
            f["commit"],
            f["exposure"]["removed_commit"],
            f["exposure"]["still_present_in"],
        )
        for f in doc["findings"]
    }
    expected: dict[tuple[str, str], tuple[str, str | None, list[str]]] = {}
    for n, name in enumerate(NAMES):
        expected[(shown(name), f"{n:02d}")] = (first, second, [])
        expected[(shown(name), f"{n + 50:02d}")] = (second, None, ["refs/heads/main"])
    assert got == expected
    assert doc["stats"]["skipped"] == []


@pytest.mark.parametrize("count", [400, 2_000])  # one pathspec walk in groups; one whole walk
def test_more_secret_paths_than_one_command_line_holds(
    tmp_path: Path, cli: Any, count: int
) -> None:
    """1.2 KiB paths: 2,000 of them overflow ARG_MAX (~2 MiB), 400 overflow one git call."""
    repo = Repo(tmp_path / "repo")
    prefix = b"/".join([b"d" * 240] * 5)
    content = f"developer_token: {BASE}77\n".encode()
    stream = b"blob\nmark :1\ndata %d\n%s\n" % (len(content), content)
    stream += b"commit refs/heads/main\ncommitter A <a@b.c> 1700000000 +0000\ndata 4\nmany\n"
    stream += b"".join(b"M 100644 :1 %s/%05d.yaml\n" % (prefix, n) for n in range(count))
    stream += b"commit refs/heads/main\ncommitter A <a@b.c> 1700003600 +0000\ndata 4\ndrop\n"
    stream += b"D %s/00000.yaml\n" % prefix  # the branch tip goes on in one session
    repo.git("fast-import", "--quiet", input=stream)
    removed = repo.git("rev-parse", "main")
    doc = git_json(cli, str(repo.path), codes=(1,))
    assert len(doc["findings"]) == count
    by_path = {f["path"]: f["exposure"] for f in doc["findings"]}
    assert by_path[f"{prefix.decode()}/00000.yaml"]["removed_commit"] == removed
    assert by_path[f"{prefix.decode()}/{count - 1:05d}.yaml"]["still_present_in"] == [
        "refs/heads/main"
    ]
