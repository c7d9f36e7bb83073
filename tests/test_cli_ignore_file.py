"""A `.devtokenignore` belongs to the repository being scanned, not to the current directory.

`scan PATH` reads it at PATH's repository root (git top level, else the directory, else the
file's directory), `git REPO` and `scan --staged` at the repository's top level; a file in the
directory devtoken runs in says nothing about another repository.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from scanner.config import repository_root
from tests.gitrepo import Repo

T = "Zk3mQ9vTb2LxWc7RnP4s_g"
LINE = f"developer_token: {T}\n"
FINGERPRINT = hashlib.sha256(f"google-ads-developer-token:{T}".encode()).hexdigest()
NOTE = "(repository file) suppressed 1 finding(s); --explain lists them"


def _paths(run: Any) -> list[str]:
    return [f["path"] for f in run.json()["findings"]]


def _suppressed(run: Any) -> dict[str, int]:
    by_repository: dict[str, int] = run.json()["stats"]["config"]["suppressed_by_repository"]
    return by_repository


def test_scan_from_another_directory_uses_the_repository_ignore_file(
    tmp_path: Path, cli: Any
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("app/settings.yaml", LINE)
    repo.write(".devtokenignore", f"{FINGERPRINT}  # the docs' example token\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = cli("scan", str(repo.path / "app"), "--format", "json", cwd=elsewhere)
    assert run.code == 0
    assert _paths(run) == []
    ignore = str(repo.path / ".devtokenignore")
    assert _suppressed(run) == {ignore: 1}
    assert f"devtoken: note: {ignore} {NOTE}" in run.err.splitlines()


def test_the_current_directory_ignore_file_does_not_apply_to_another_repository(
    tmp_path: Path, cli: Any
) -> None:
    other = Repo(tmp_path / "other")
    other.write("settings.yaml", LINE)
    here = Repo(tmp_path / "here")
    here.write(".devtokenignore", FINGERPRINT + "\n")
    run = cli("scan", str(other.path), "--format", "json", cwd=here.path)
    assert run.code == 1
    assert _paths(run) == [str(other.path / "settings.yaml")]
    assert _suppressed(run) == {}
    assert "suppressed" not in run.err


def test_each_repository_ignore_file_covers_only_its_own_paths(tmp_path: Path, cli: Any) -> None:
    first, second = Repo(tmp_path / "first"), Repo(tmp_path / "second")
    first.write("a.yaml", LINE)
    second.write("b.yaml", LINE)
    first.write(".devtokenignore", FINGERPRINT + "\n")
    run = cli("scan", "first", "second", "--format", "json", cwd=tmp_path)
    assert _paths(run) == [os.path.join("second", "b.yaml")]
    assert _suppressed(run) == {os.path.join("first", ".devtokenignore"): 1}


def test_in_the_repository_the_name_stays_relative(tmp_path: Path, cli: Any) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("settings.yaml", LINE)
    repo.write(".devtokenignore", FINGERPRINT + "\n")
    run = cli("scan", ".", "--format", "json", cwd=repo.path)
    assert (_paths(run), _suppressed(run)) == ([], {".devtokenignore": 1})


def test_outside_git_a_directory_or_a_file_directory_holds_it(tmp_path: Path, cli: Any) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "notes.txt").write_text(LINE)
    (folder / ".devtokenignore").write_text(FINGERPRINT + "\n")
    for target in ("plain", os.path.join("plain", "notes.txt")):
        run = cli("scan", target, "--format", "json", cwd=tmp_path)
        assert (_paths(run), _suppressed(run)) == (
            [],
            {os.path.join("plain", ".devtokenignore"): 1},
        )


def test_git_history_of_another_repository_uses_its_ignore_file(tmp_path: Path, cli: Any) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("config", {"settings.yaml": LINE, ".devtokenignore": FINGERPRINT + "\n"})
    here = tmp_path / "here"
    here.mkdir()
    (here / ".devtokenignore").write_text("# nothing of ours\n")
    run = cli("git", str(repo.path / "."), "--format", "json", cwd=here)
    assert run.code == 0
    assert _suppressed(run) == {str(repo.path / ".devtokenignore"): 1}


def test_git_history_ignores_the_current_directory_file(tmp_path: Path, cli: Any) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("config", {"settings.yaml": LINE})
    here = Repo(tmp_path / "here")
    here.write(".devtokenignore", FINGERPRINT + "\n")
    run = cli("git", str(repo.path), "--format", "json", cwd=here.path)
    assert run.code == 1
    assert _paths(run) == ["settings.yaml"]
    assert _suppressed(run) == {}


def test_staged_scan_from_a_subdirectory_uses_the_top_level_file(tmp_path: Path, cli: Any) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("ignore", {".devtokenignore": FINGERPRINT + "\n", "docs/README": "docs\n"})
    repo.write("docs/example.yaml", LINE)
    repo.git("add", "-A")
    run = cli("scan", "--staged", "--format", "json", cwd=repo.path / "docs")
    assert run.code == 0
    assert _paths(run) == []
    assert _suppressed(run) == {str(repo.path / ".devtokenignore"): 1}


def test_an_explicit_ignore_file_still_wins(tmp_path: Path, cli: Any) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("settings.yaml", LINE)
    repo.write(".devtokenignore", FINGERPRINT + "\n")
    mine = tmp_path / "mine.ignore"
    mine.write_text("# empty\n")
    run = cli("scan", str(repo.path), "--format", "json", "--ignore-file", str(mine))
    assert _paths(run) == [str(repo.path / "settings.yaml")]
    assert _suppressed(run) == {}


def test_repository_root(tmp_path: Path, monkeypatch: Any) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("a/b/c.txt", "x\n")
    linked = tmp_path / "linked"  # a linked worktree or submodule: `.git` is a file
    (linked / "src").mkdir(parents=True)
    (linked / ".git").write_text("gitdir: /elsewhere\n")
    plain = tmp_path / "plain"
    (plain / "d").mkdir(parents=True)
    (plain / "d" / "f.txt").write_text("x\n")
    monkeypatch.chdir(tmp_path)
    assert repository_root(str(repo.path / "a" / "b")) == repo.path.relative_to(tmp_path)
    assert repository_root("repo/a/b/c.txt") == Path("repo")
    assert repository_root(str(linked / "src")) == Path("linked")
    assert repository_root("plain/d") == Path("plain/d")
    assert repository_root("plain/d/f.txt") == Path("plain/d")
    assert repository_root("plain/missing.txt") == Path("plain")
    monkeypatch.chdir(repo.path / "a")
    assert repository_root("-") == repo.path
    assert repository_root(".") == repo.path
    assert repository_root(str(plain)) == plain
