"""`devtoken scan --staged`: the index, added lines only, offline and lean."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scanner.git.staged import AddedLines
from tests.gitrepo import Repo
from tests.hookprobe import hook_modules

TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
OTHER = "Zk4mQ9_rT2xW7vB1nL5pH8"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.commit(
        "base", {"config.yaml": f"# old leak, already in history\ndeveloper_token: {OTHER}\n"}
    )
    return repo


def staged(cli: Any, repo: Repo, *args: str) -> Any:
    return cli("scan", "--staged", *args, cwd=repo.path)


def test_a_staged_token_blocks_and_prints_path_line_rule(repo: Repo, cli: Any) -> None:
    repo.write("new.env", f"X=1\nGOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    repo.git("add", "new.env")
    run = staged(cli, repo)
    assert run.code == 1
    first, advice, comment, ignore, line = run.out.splitlines()
    short = hashlib.sha256(f"google-ads-developer-token:{TOKEN}".encode()).hexdigest()[:12]
    assert first == f"new.env:2 google-ads-developer-token Qm3x…A1 (fingerprint {short})"
    assert advice.startswith("devtoken: commit blocked.") and "devtoken:allow" in comment
    assert ".devtokenignore" in ignore and line == f"    {short}  # {first.split()[1]} in new.env:2"
    assert TOKEN not in run.out + run.err


def test_old_leak_in_a_touched_file_does_not_block(repo: Repo, cli: Any) -> None:
    repo.write(
        "config.yaml",
        f"# old leak, already in history\ndeveloper_token: {OTHER}\nuse_proto_plus: true\n",
    )
    repo.git("add", "config.yaml")
    assert staged(cli, repo).code == 0


def test_only_the_index_counts_not_the_working_tree(repo: Repo, cli: Any) -> None:
    repo.write("a.env", "SAFE=1\n")
    repo.git("add", "a.env")
    repo.write("a.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")  # not staged
    assert staged(cli, repo).code == 0
    repo.write("b.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    repo.git("add", "b.env")
    repo.write("b.env", "cleaned in the work tree but not in the index\n")
    assert staged(cli, repo).code == 1


def test_placeholder_and_allow_comment_pass(repo: Repo, cli: Any) -> None:
    repo.write(
        "t.yaml",
        "developer_token: INSERT_DEVELOPER_TOKEN_HERE\n"
        "client_secret: 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  # devtoken:allow\n",
    )
    repo.git("add", "t.yaml")
    assert staged(cli, repo).code == 0


def test_staged_json_and_initial_commit(tmp_path: Path, cli: Any) -> None:
    fresh = Repo(tmp_path / "fresh")
    fresh.write("ads.properties", f"api.googleads.developerToken={TOKEN}\n")
    fresh.git("add", "ads.properties")
    run = cli("scan", "--staged", "--format", "json", cwd=fresh.path)
    (finding,) = run.json()["findings"]
    assert (finding["path"], finding["line"], finding["source"]) == (
        "ads.properties",
        1,
        "git-staged",
    )


def test_not_a_repository_is_exit_2(tmp_path: Path, cli: Any) -> None:
    run = cli("scan", "--staged", cwd=tmp_path)
    assert run.code == 2 and "not a git repository" in run.err.lower()


def test_paths_with_staged_is_a_usage_error(repo: Repo, cli: Any) -> None:
    assert staged(cli, repo, "x").code == 2


def test_staged_scan_never_imports_google_ads_or_gitpython(repo: Repo) -> None:
    repo.write("n.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    repo.git("add", "n.env")
    code, modules = hook_modules(repo.path)
    heavy = [m for m in modules if m.split(".")[0] in ("google", "git", "grpc", "numpy")]
    assert (code, heavy) == (1, [])


def test_hook_env_leaks_do_not_redirect_git(
    repo: Repo, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Repo(tmp_path / "other")
    other.write("x.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    other.git("add", "x.env")
    monkeypatch.setenv("GIT_DIR", str(other.path / ".git"))
    assert staged(cli, repo).code == 0  # scans `repo`, where nothing is staged


def test_added_lines_are_those_the_base_does_not_have() -> None:
    added = AddedLines(b"a\nmoved\nb\nnew\nb\n", b"moved\na\nb\n")
    assert [added.covers(n) for n in range(1, 6)] == [False, False, False, True, False]
    assert added.covers(3, 2) and not added.covers(1, 3)
    assert all(AddedLines(b"a\nb", None).covers(n) for n in (1, 2))
    assert AddedLines(b"a\n", b"a\n").covers(7)  # a line it cannot see is never dropped


def test_unmerged_and_missing_blobs_are_said_not_dropped(repo: Repo, cli: Any) -> None:
    repo.git("update-index", "--add", "--cacheinfo", f"100644,{'1' * 40},ghost.yaml")
    run = staged(cli, repo, "--format", "json")
    assert run.code == 0
    assert run.json()["stats"]["skipped"] == [
        {
            "path": "ghost.yaml",
            "reason": "unreadable",
            "detail": "the staged blob is missing from the object store",
        }
    ]
    repo.git("rm", "-q", "--cached", "ghost.yaml")
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side", {"config.yaml": "side: 1\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main", {"config.yaml": "main: 1\n"})
    merge = subprocess.run(
        ["git", "-C", str(repo.path), "merge", "-q", "side"], env=repo.env(), capture_output=True
    )
    assert merge.returncode == 1
    skipped = staged(cli, repo, "--format", "json").json()["stats"]["skipped"]
    assert [(s["path"], s["reason"]) for s in skipped] == [("config.yaml", "unmerged")]


def test_binary_without_scan_binary_is_said(repo: Repo, cli: Any) -> None:
    repo.write("blob.bin", bytes(range(10)) * 100 + f"\ndeveloper_token: {TOKEN}\n".encode())
    repo.git("add", "blob.bin")
    run = staged(cli, repo, "--format", "json")
    assert (run.code, run.json()["stats"]["skipped_by_reason"]) == (0, {"binary": 1})
    assert staged(cli, repo, "--scan-binary").code == 1


def test_a_subdirectory_and_relative_diff_config_still_see_every_file(repo: Repo, cli: Any) -> None:
    repo.git("config", "diff.relative", "true")
    repo.write("sub/readme.md", "hello\n")
    repo.write("top.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    repo.git("add", "-A")
    run = cli("scan", "--staged", "--format", "json", cwd=repo.path / "sub")
    assert [(f["path"], f["line"]) for f in run.json()["findings"]] == [("top.env", 1)]


def test_a_copy_is_new_even_when_git_is_told_to_find_copies(repo: Repo, cli: Any) -> None:
    repo.git("config", "diff.renames", "copies")
    repo.write("copy.yaml", (repo.path / "config.yaml").read_text())
    repo.git("add", "copy.yaml")
    run = staged(cli, repo, "--format", "json")
    assert [(f["path"], f["line"]) for f in run.json()["findings"]] == [("copy.yaml", 2)]


def test_a_non_utf8_name_is_named_as_the_file_scan_names_it(repo: Repo, cli: Any) -> None:
    repo.write(b"caf\xe9.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    repo.git("add", "-A")
    files = cli("scan", ".", "--format", "json", cwd=repo.path).json()["findings"]
    staged_run = staged(cli, repo, "--format", "json").json()["findings"]
    name = os.fsdecode(b"caf\xe9.env")
    assert [(f["path"], f["line"]) for f in staged_run] == [(name, 1)]
    assert (name, 1) in [(f["path"], f["line"]) for f in files]


def test_deletions_add_nothing(repo: Repo, cli: Any) -> None:
    repo.git("rm", "-q", "config.yaml")
    assert staged(cli, repo).code == 0
