"""A `.devtoken.toml` belongs to the repository being scanned, not to the current directory.

Like `.devtokenignore`: `scan PATH` reads it at PATH's repository root, `git REPO` at the
repository's; targets in several repositories apply none of their files (one repository's
file must not narrow the scan of another) and say so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.gitrepo import Repo

LINE = "developer_token: Zk3mQ9vTb2LxWc7RnP4s_g\n"
EXCLUDE_CFG = 'exclude = ["*.cfg"]\n'


def _paths(run: Any) -> list[str]:
    return sorted(f["path"] for f in run.json()["findings"])


def test_the_current_directorys_config_does_not_narrow_a_scan_of_another_repository(
    tmp_path: Path, cli: Any
) -> None:
    here = Repo(tmp_path / "here")
    here.write(".devtoken.toml", EXCLUDE_CFG)
    other = Repo(tmp_path / "other")
    other.write("app.cfg", LINE)
    run = cli("scan", str(other.path), "--format", "json", cwd=here.path)
    assert run.code == 1
    assert _paths(run) == [str(other.path / "app.cfg")]
    assert "narrows this scan" not in run.err


def test_the_scanned_repositorys_own_config_applies_from_any_directory(
    tmp_path: Path, cli: Any
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write(".devtoken.toml", EXCLUDE_CFG)
    repo.write("app.cfg", LINE)
    repo.write("app.yaml", LINE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = cli("scan", str(repo.path), "--format", "json", cwd=elsewhere)
    assert run.code == 1
    assert _paths(run) == [str(repo.path / "app.yaml")]
    config = str(repo.path / ".devtoken.toml")
    assert f"devtoken: note: {config} (repository config) narrows this scan: exclude *.cfg" in (
        run.err.splitlines()
    )
    origins = run.json()["stats"]["config"]["origins"]
    assert origins == {"exclude": [{"origin": "repository", "from": config}]}


def test_targets_in_two_repositories_apply_neither_config_and_say_so(
    tmp_path: Path, cli: Any
) -> None:
    one = Repo(tmp_path / "one")
    one.write(".devtoken.toml", EXCLUDE_CFG)
    one.write("a.cfg", LINE)
    two = Repo(tmp_path / "two")
    two.write("b.cfg", LINE)
    run = cli("scan", str(one.path), str(two.path), "--format", "json", cwd=tmp_path)
    assert run.code == 1
    assert _paths(run) == [str(one.path / "a.cfg"), str(two.path / "b.cfg")]
    assert (
        "devtoken: warning: the targets are in several repositories: their config files "
        "(one/.devtoken.toml) are not applied; scan each repository on its own, "
        "or name one with --config FILE"
    ) in run.err.splitlines()
