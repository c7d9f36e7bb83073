"""`devtoken git --since DATE --until DATE`: the commits of a window by committer date, in
real repositories whose commits carry fixed dates (GIT_COMMITTER_DATE)."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scanner.git.dates import commit_time
from tests.gitrepo import git_json

T1 = "developer_token: Zk3mQ9vTb2LxWc7RnP4s_g\n"
T2 = "developer_token: Qm3xK9_pL2vN8rT4wY6zA1\n"
T3 = "developer_token: Hb7yT2_wQ5nR9kL3pX8cV4\n"
T4 = "developer_token: Rt6uW1_zM4bN7qJ2sY9dF5\n"


class DatedRepo:
    """A repository whose every commit is made at the date given."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Dated Author")
        self.git("config", "user.email", "dated@example.com")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, when: str = "2020-01-01T00:00:00Z") -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        stamp = f"{int(datetime.fromisoformat(when).timestamp())} +0000"
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
        done = subprocess.run(
            ["git", "-C", str(self.path), *args], capture_output=True, env=env, check=True
        )
        return done.stdout.decode().strip()

    def commit(
        self, when: str, files: dict[str, str] | None = None, remove: tuple[str, ...] = ()
    ) -> str:
        for name, text in (files or {}).items():
            (self.path / name).write_text(text)
        for name in remove:
            self.git("rm", "-q", name)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", f"at {when}", when=when)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def dated(tmp_path: Path) -> tuple[DatedRepo, dict[str, str]]:
    """a.yaml (T1) in January and still there; b.yaml (T2) in February, removed in March;
    c.yaml (T3) in April."""
    repo = DatedRepo(tmp_path / "repo")
    shas = {
        "jan": repo.commit("2025-01-10T12:00:00Z", {"a.yaml": T1}),
        "feb": repo.commit("2025-02-10T12:00:00Z", {"b.yaml": T2}),
        "mar": repo.commit("2025-03-10T12:00:00Z", remove=("b.yaml",)),
        "apr": repo.commit("2025-04-10T12:00:00Z", {"c.yaml": T3}),
    }
    return repo, shas


def _found(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["path"], f["commit"]) for f in doc["findings"]]


def test_a_window_reports_what_its_commits_added(dated: Any, cli: Any) -> None:
    repo, shas = dated
    doc = git_json(cli, str(repo.path), "--since", "2025-02-01", "--until", "2025-02-28")
    assert _found(doc) == [("b.yaml", shas["feb"])]
    # T1, added before the window and still present, is not reported: only what the
    # window's commits added is (as gitleaks' --log-opts=--since, trufflehog's --since-commit)
    exposure = doc["findings"][0]["exposure"]
    # the exposure is traced over the whole history: its removal, after --until, is known
    assert (exposure["first_commit"], exposure["removed_commit"]) == (shas["feb"], shas["mar"])
    assert exposure["still_present_in"] == []
    assert doc["stats"]["commits"] == 1
    assert (doc["stats"]["since"], doc["stats"]["until"]) == (
        "2025-02-01T00:00:00+00:00",
        "2025-02-28T23:59:59+00:00",
    )


def test_without_a_window_everything_is_reported(dated: Any, cli: Any) -> None:
    repo, shas = dated
    doc = git_json(cli, str(repo.path))
    assert _found(doc) == [
        ("a.yaml", shas["jan"]),
        ("b.yaml", shas["feb"]),
        ("c.yaml", shas["apr"]),
    ]
    assert "since" not in doc["stats"] and "until" not in doc["stats"]


@pytest.mark.parametrize(
    ("flags", "paths"),
    [
        (("--since", "2025-02-10"), ["b.yaml", "c.yaml"]),  # a bare date: from its first second
        (("--until", "2025-02-10"), ["a.yaml", "b.yaml"]),  # ...through its last
        (("--until", "2025-02-09"), ["a.yaml"]),
        (("--since", "2025-02-10T12:00:00Z"), ["b.yaml", "c.yaml"]),  # both ends included
        (("--until", "2025-02-10T12:00:00Z"), ["a.yaml", "b.yaml"]),
        (("--since", "2025-02-10T12:00:01Z"), ["c.yaml"]),
        (("--since", "2025-02-10T13:00:00+01:00"), ["b.yaml", "c.yaml"]),  # its zone
        (("--since", "2025-02-10T14:00:00+01:00"), ["c.yaml"]),
        (("--since", "2025-02-10T12:00:00"), ["b.yaml", "c.yaml"]),  # no zone: UTC
        (("--since", "2025-02-10 12:00:01"), ["c.yaml"]),
        (("--since", "2025-05-01"), []),
        (("--since", "2025-01-01", "--until", "2025-12-31"), ["a.yaml", "b.yaml", "c.yaml"]),
    ],
)
def test_the_window_by_commit_date(
    dated: Any, cli: Any, flags: tuple[str, ...], paths: list[str]
) -> None:
    repo, _ = dated
    doc = git_json(cli, str(repo.path), *flags)
    assert [f["path"] for f in doc["findings"]] == paths


def test_a_commit_behind_one_with_an_earlier_date_is_still_in_the_window(
    tmp_path: Path, cli: Any
) -> None:
    """git's own --since stops walking at the first older commit: a skewed clock (a rebase,
    a bad machine date) would hide everything behind it."""
    repo = DatedRepo(tmp_path / "repo")
    feb = repo.commit("2025-02-10T12:00:00Z", {"b.yaml": T2})
    repo.commit("2024-06-01T00:00:00Z", {"d.yaml": T4})  # a child dated before its parent
    may = repo.commit("2025-05-01T00:00:00Z", {"c.yaml": T3})
    doc = git_json(cli, str(repo.path), "--since", "2025-01-01")
    assert _found(doc) == [("b.yaml", feb), ("c.yaml", may)]


def test_committer_date_not_author_date(tmp_path: Path, cli: Any) -> None:
    repo = DatedRepo(tmp_path / "repo")
    repo.commit("2025-02-10T12:00:00Z", {"b.yaml": T2})
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_DATE="1600000000 +0000", GIT_COMMITTER_DATE="1750000000 +0000")
    (repo.path / "c.yaml").write_text(T3)
    subprocess.run(["git", "-C", str(repo.path), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo.path), "commit", "-qm", "rebased"], check=True, env=env)
    doc = git_json(cli, str(repo.path), "--since", "2025-06-01")  # 1750000000: 2025-06-15
    assert [f["path"] for f in doc["findings"]] == ["c.yaml"]
    assert doc["findings"][0]["date"].startswith("2020-09-13")  # the author date it shows


def test_a_secret_re_added_in_the_window_keeps_its_first_exposure(tmp_path: Path, cli: Any) -> None:
    """Reported because a commit of the window added it again; its exposure still starts
    where the history first held it."""
    repo = DatedRepo(tmp_path / "repo")
    jan = repo.commit("2025-01-10T00:00:00Z", {"a.yaml": T1})
    repo.commit("2025-02-10T00:00:00Z", remove=("a.yaml",))
    mar = repo.commit("2025-03-10T00:00:00Z", {"a.yaml": T1})
    doc = git_json(cli, str(repo.path), "--since", "2025-03-01")
    assert len(doc["findings"]) == 1
    exposure = doc["findings"][0]["exposure"]
    assert (exposure["first_commit"], exposure["added_in_commits"]) == (jan, 2)
    assert exposure["removed_commit"] is None
    assert exposure["still_present_in"] == ["refs/heads/main"]
    assert mar != jan


def test_a_secret_in_a_message_outside_the_window_is_not_reported(tmp_path: Path, cli: Any) -> None:
    repo = DatedRepo(tmp_path / "repo")
    repo.git("commit", "-q", "--allow-empty", "-m", T1.strip(), when="2025-01-10T00:00:00Z")
    repo.git("commit", "-q", "--allow-empty", "-m", T2.strip(), when="2025-03-10T00:00:00Z")
    doc = git_json(cli, str(repo.path), "--since", "2025-02-01")
    assert [(f["in"], f["secret_redacted"]) for f in doc["findings"]] == [
        ("commit-message", "Qm3x…A1")
    ]


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (
            ("--since", "2025-13-01"),
            "--since: '2025-13-01' is not a date "
            "(YYYY-MM-DD or ISO 8601, e.g. 2025-01-31T09:30:00+01:00)",
        ),
        (
            ("--until", "last week"),
            "--until: 'last week' is not a date "
            "(YYYY-MM-DD or ISO 8601, e.g. 2025-01-31T09:30:00+01:00)",
        ),
        (
            ("--since", "2025-03-01", "--until", "2025-02-01"),
            "--since 2025-03-01 is after --until 2025-02-01: no commit is in between",
        ),
        (
            ("--since", "2025-03-01", "--all-objects"),
            "--all-objects scans the whole object store: drop --since/--until",
        ),
    ],
)
def test_a_bad_window_is_one_line_exit_2(
    dated: Any, cli: Any, flags: tuple[str, ...], error: str
) -> None:
    repo, _ = dated
    run = cli("git", str(repo.path), *flags)
    assert (run.code, run.out, run.err) == (2, "", f"devtoken: error: {error}\n")


def test_since_combines_with_the_other_bounds(dated: Any, cli: Any) -> None:
    repo, shas = dated
    doc = git_json(cli, str(repo.path), "--since", "2025-01-01", "--since-commit", shas["jan"])
    assert [f["path"] for f in doc["findings"]] == ["b.yaml", "c.yaml"]
    doc = git_json(cli, str(repo.path), "--until", "2025-03-31", "--branch", "main")
    assert [f["path"] for f in doc["findings"]] == ["a.yaml", "b.yaml"]


def test_commit_time_reads_iso_8601() -> None:
    day = int(datetime(2025, 1, 31, tzinfo=UTC).timestamp())
    assert commit_time("2025-01-31") == day
    assert commit_time("2025-01-31", until=True) == day + 86399
    assert commit_time("20250131") == day
    assert commit_time("2025-01-31T09:30:00+01:00") == day + 8 * 3600 + 1800
    assert commit_time("2025-01-31T09:30:00Z") == day + 9 * 3600 + 1800
    assert commit_time("2025-01-31T09:30:00.25") == day + 9 * 3600 + 1801
    assert commit_time("2025-01-31T09:30:00.25", until=True) == day + 9 * 3600 + 1800


def test_the_window_applies_to_rewritten_away_history_too(tmp_path: Path, cli: Any) -> None:
    """A mirror's held tips (refs/devtoken/rewritten/) are walked apart: same window."""
    repo = DatedRepo(tmp_path / "work")
    repo.commit("2025-01-10T00:00:00Z", {"a.yaml": T1})
    repo.git("checkout", "-q", "-b", "gone")
    gone = repo.commit("2025-03-10T00:00:00Z", {"g.yaml": T2})
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo.path), str(mirror)], check=True)
    held = f"refs/devtoken/rewritten/{gone}"
    for args in (["update-ref", held, gone], ["update-ref", "-d", "refs/heads/gone"]):
        subprocess.run(["git", f"--git-dir={mirror}", *args], check=True)

    def found(*flags: str) -> list[tuple[str, bool]]:
        doc = git_json(cli, str(mirror), *flags)
        return [(f["path"], f["exposure"]["rewritten"]) for f in doc["findings"] if f["path"]]

    assert found() == [("a.yaml", False), ("g.yaml", True)]
    assert found("--since", "2025-02-01") == [("g.yaml", True)]
    assert found("--until", "2025-02-01") == [("a.yaml", False)]
