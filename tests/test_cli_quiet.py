"""-q/--quiet: nothing on stderr but errors, for every command, in a real child process.

The repository below makes every kind of stderr line a scan can print: a repository config
key it may not set (a settings warning), a `.devtokenignore` entry (the review's note),
missing objects (skip warnings), findings (the summary, with --format json).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import loopback_env, run_subprocess
from tests.gitrepo import Repo

RULE = "google-ads-developer-token"
TOKEN = "Zk3mQ9vTb2LxWc7RnP4s_g"
IGNORED = "Qm3xK9_pL2vN8rT4wY6zA1"


def devtoken(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_subprocess(list(args), env=loopback_env(**env), text=True)


@pytest.fixture
def noisy(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    short = hashlib.sha256(f"{RULE}:{IGNORED}".encode()).hexdigest()[:12]
    files = {f"f{n}.txt": f"n{n}\n" for n in range(3)}
    files |= {
        "ads.yaml": f"developer_token: {TOKEN}\n",
        "fixture.yaml": f"developer_token: {IGNORED}\n",
        ".devtoken.toml": 'rules_dir = "elsewhere"\n',
        ".devtokenignore": f"{short}  # a revoked test fixture\n",
    }
    repo.commit("one", files)
    for n in range(3):
        sha = repo.git("rev-parse", f"HEAD:f{n}.txt")
        (repo.path / ".git" / "objects" / sha[:2] / sha[2:]).unlink()
    return repo


@pytest.mark.parametrize("command", ["git", "scan"])
def test_a_scan_with_warnings_notes_and_findings_says_nothing_on_stderr(
    noisy: Repo, command: str
) -> None:
    loud = devtoken(command, str(noisy.path), "--format", "json")
    said = loud.stderr
    assert "cannot set rules_dir" in said and "finding(s)" in said
    assert ".devtokenignore" in said  # the review's note of what the ignore file took
    if command == "git":
        assert "3 missing-object" in said
    for flag in ("-q", "--quiet"):
        quiet = devtoken(command, str(noisy.path), "--format", "json", flag)
        assert (quiet.returncode, quiet.stderr) == (1, "")
        paths = [Path(f["path"]).name for f in json.loads(quiet.stdout)["findings"]]
        assert paths == ["ads.yaml"]


def test_the_hook_with_quiet_says_nothing_on_stderr(noisy: Repo) -> None:
    noisy.write("new.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    noisy.git("add", "new.env")
    done = run_subprocess(["scan", "--staged", "-q"], cwd=noisy.path, env=loopback_env())
    assert (done.returncode, done.stderr) == (1, b"")


def test_an_error_is_still_said_with_quiet(tmp_path: Path) -> None:
    done = devtoken("git", str(tmp_path / "nowhere"), "-q")
    assert done.returncode == 2
    assert done.stderr == f"devtoken: error: no such directory: {tmp_path / 'nowhere'}\n"


def test_store_commands_say_nothing_with_quiet(noisy: Repo, tmp_path: Path) -> None:
    store = str(tmp_path / "s.sqlite")
    assert devtoken("git", str(noisy.path), "--store", store, "-q").stderr == ""
    loud = devtoken("report", "--store", store, "--format", "json", "-o", str(tmp_path / "r"))
    assert loud.stderr.startswith("devtoken: wrote ")
    quiet = devtoken(
        "report", "--store", store, "--format", "json", "-o", str(tmp_path / "r"), "-q"
    )
    assert (quiet.returncode, quiet.stderr) == (0, "")
    fingerprint = hashlib.sha256(f"{RULE}:{TOKEN}".encode()).hexdigest()
    triage = devtoken(
        "triage", fingerprint[:12], "--status", "acknowledged", "--store", store, "-q"
    )
    assert (triage.returncode, triage.stderr) == (0, "")
    baseline = devtoken(
        "baseline", "create", str(noisy.path), "-q", "--baseline-file", str(tmp_path / "b.json")
    )
    assert (baseline.returncode, baseline.stderr) == (0, "")


def test_respond_with_quiet_says_only_the_deliveries_that_failed(
    noisy: Repo, tmp_path: Path
) -> None:
    store = str(tmp_path / "s.sqlite")
    devtoken("git", str(noisy.path), "--store", store, "-q")
    hook = {"DEVTOKEN_WEBHOOK_URL": "http://127.0.0.1:9/hook", "DEVTOKEN_RESPOND_DEADLINE": "20"}
    dry = devtoken("respond", "--store", store, "--respond", "webhook", **hook)
    assert "dry run: webhook" in dry.stderr
    quiet_dry = devtoken("respond", "--store", store, "--respond", "webhook", "-q", **hook)
    assert (quiet_dry.returncode, quiet_dry.stderr) == (0, "")
    failed = devtoken("respond", "--store", store, "--respond", "webhook", "--send", "-q", **hook)
    lines = failed.stderr.splitlines()
    assert failed.returncode == 4, failed.stderr
    assert [line.split(":")[1] for line in lines] == [" failed", " error"]
    assert lines[-1].startswith("devtoken: error: all 1 delivery(ies) failed")
