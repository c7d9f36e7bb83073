"""`devtoken org` and annotated tag messages: found once, then open but not new, and a tag
pushed later (onto an old commit) is read by the next run's delta."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import CliRun
from tests.gitrepo import Repo

CLIENT_SECRET = "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"
TOKEN = "Zk3mQ9vTb2LxWc7RnP4s_g"


def run(cli: Callable[..., CliRun], root: Path, repo: Repo, fmt: str = "json") -> CliRun:
    store, cache = str(root / "store.sqlite"), str(root / "cache")
    args = ["org", "--repo", str(repo.path), "--store", store, "--cache", cache, "--quiet"]
    return cli(*args, "--format", fmt)


def tag_findings(doc: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return sorted((f["in"], f.get("tag", ""), f["new"]) for f in doc["findings"] if not f["path"])


def test_a_tag_message_secret_is_new_once_and_a_later_tag_is_found(
    cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    repo = Repo(tmp_path / "work")
    repo.commit("base", {"README.md": "hi\n"})
    repo.git("tag", "-a", "v1.0", "-m", f"release notes client_secret: {CLIENT_SECRET}")

    first = run(cli, tmp_path, repo)
    assert first.code == 1, first.err
    assert tag_findings(json.loads(first.out)) == [("tag-message", "refs/tags/v1.0", True)]

    repo.commit("more", {"b.txt": "b\n"})
    second = json.loads(run(cli, tmp_path, repo).out)
    assert second["repositories"][0]["status"] == "scanned"
    # still open, from the store (the delta did not read v1.0 again): not new, still a tag's
    assert tag_findings(second) == [("tag-message", "refs/tags/v1.0", False)]

    repo.git("tag", "-a", "v0.9", "HEAD~1", "-m", f"late notes developer_token: {TOKEN}")
    third = run(cli, tmp_path, repo)
    assert tag_findings(json.loads(third.out)) == [
        ("tag-message", "refs/tags/v0.9", True),
        ("tag-message", "refs/tags/v1.0", False),
    ]
    text = run(cli, tmp_path, repo, "text").out
    where = f"file://{repo.path}"
    v09 = repo.git("rev-parse", "v0.9")[:12]
    assert f"{where}: tag message of v0.9:1:29: HIGH google-ads-developer-token Zk3m…_g" in text
    assert f"\n    in {v09} by Test Author on " in text
    assert f"{where}: tag message of v1.0:1:30: HIGH google-oauth-client-secret" in text
    assert CLIENT_SECRET not in text + third.out and TOKEN not in text + third.out
