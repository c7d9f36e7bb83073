"""`devtoken git --all-objects`: what no ref reaches is scanned and said to be unreachable.

Amended commits and deleted branches stay in the object store (loose or packed)
until gc prunes them; their blobs keep the commit and path that held them.
A dangling blob that no commit reaches is reported by its id alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.gitrepo import Repo, git_json

BASE = "Qm3xK9_pL2vN8rT4wY6z"
CLIENT_SECRET = "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"


def where(doc: dict[str, Any]) -> list[tuple[str, str, str | None, str, bool]]:
    return sorted(
        (f["path"], f["secret_redacted"], f.get("commit"), f["in"], f["unreachable"])
        for f in doc["findings"]
    )


def build_lost_history(repo: Repo) -> dict[str, str]:
    """An amended-away secret, a deleted branch, a dangling blob; nothing at any ref."""
    repo.commit("base", {"README.md": "hi\n"})
    amended = repo.commit("add config", {"ads.yaml": f"developer_token: {BASE}01\n"})
    repo.write("ads.yaml", "developer_token: ${DEV_TOKEN}\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", "-m", "add config")
    repo.git("checkout", "-q", "-b", "spike")
    deleted = repo.commit(
        f"try client_secret: {CLIENT_SECRET}", {"spike/a.env": f"developer_token: {BASE}02\n"}
    )
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-q", "-D", "spike")
    repo.write("loose.yaml", f"developer_token: {BASE}03\n")
    dangling = repo.git("hash-object", "-w", "loose.yaml")
    (repo.path / "loose.yaml").unlink()
    return {"amended": amended, "deleted": deleted, "dangling": dangling}


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("packed", [False, True])
def test_amended_deleted_and_dangling_secrets(
    repo: Repo, cli: Any, jobs: str, packed: bool
) -> None:
    lost = build_lost_history(repo)
    if packed:  # unreachable objects kept in packs (cruft packs on recent git)
        repo.git("-c", "gc.pruneExpire=never", "gc", "-q")
    assert git_json(cli, str(repo.path), "--jobs", jobs)["findings"] == []
    doc = git_json(cli, str(repo.path), "--all-objects", "--jobs", jobs)
    assert where(doc) == [
        ("", "GOCSPX-e9…jA", lost["deleted"], "commit-message", True),
        ("", "Qm3x…03", None, "blob", True),
        ("ads.yaml", "Qm3x…01", lost["amended"], "blob", True),
        ("spike/a.env", "Qm3x…02", lost["deleted"], "blob", True),
    ]
    (loose,) = [f for f in doc["findings"] if "commit" not in f]
    assert (loose["blob"], loose["line"], loose["column"]) == (lost["dangling"], 1, 18)
    assert (doc["stats"]["unreachable_commits"], doc["stats"]["unreachable_blobs"]) == (2, 1)
    assert CLIENT_SECRET not in str(doc)


def test_a_secret_also_reachable_keeps_its_reachable_commit(repo: Repo, cli: Any) -> None:
    """An amend that kept the secret: the reachable commit is the one reported."""
    repo.commit("add", {"ads.yaml": f"developer_token: {BASE}01\n# v1\n"})
    repo.count += 1
    repo.write("ads.yaml", f"developer_token: {BASE}01\n# v2\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", "-m", "add, amended")
    kept = repo.git("rev-parse", "HEAD")
    (finding,) = git_json(cli, str(repo.path), "--all-objects")["findings"]
    assert (finding["path"], finding["commit"], finding["unreachable"]) == ("ads.yaml", kept, False)
    assert finding["exposure"]["still_present_in"] == ["refs/heads/main"]


@pytest.mark.parametrize(
    "narrowing", [["--branch", "main"], ["--max-commits", "3"], ["--range", "HEAD~1..HEAD"]]
)
def test_all_objects_cannot_be_narrowed(repo: Repo, cli: Any, narrowing: list[str]) -> None:
    repo.commit("a", {"a.txt": "x\n"})
    run = cli("git", str(repo.path), "--all-objects", *narrowing)
    assert run.code == 2
    assert run.err.strip() == (
        "devtoken: error: --all-objects scans the whole object store: "
        "drop --branch/--range/--since-commit/--max-commits"
    )


def test_two_dangling_blobs_are_two_credential_bundles(repo: Repo, cli: Any) -> None:
    repo.commit("base", {"README.md": "hi\n"})
    for n in (4, 5):
        repo.write("loose.yaml", f"developer_token: {BASE}0{n}\n")
        repo.git("hash-object", "-w", "loose.yaml")
    (repo.path / "loose.yaml").unlink()
    doc = git_json(cli, str(repo.path), "--all-objects")
    assert len(doc["findings"]) == 2
    assert sorted(len(b["members"]) for b in doc["bundles"]) == [1, 1]


def test_text_output_says_what_holds_an_unreachable_secret(repo: Repo, cli: Any) -> None:
    lost = build_lost_history(repo)
    run = cli("git", str(repo.path), "--all-objects", "--quiet")
    assert run.code == 1
    places = sorted(line.split(": ")[0] for line in run.out.split("\n") if ":1:" in line)
    assert places == [
        "ads.yaml (unreachable):1:18",
        f"commit message of {lost['deleted'][:12]}:1:20",
        "spike/a.env (unreachable):1:18",
        f"unreachable blob {lost['dangling'][:12]}:1:18",
    ]
