"""The hook through the real pre-commit framework, installed offline from a wheelhouse."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import Repo

REPO = Path(__file__).resolve().parent.parent
WHEELHOUSE = Path(os.environ.get("DEVTOKEN_WHEELHOUSE", REPO / ".venv" / "wheelhouse"))
TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if not WHEELHOUSE.is_dir():
        message = f"no wheelhouse at {WHEELHOUSE}: run scripts/test.sh (it builds one)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    executable = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which(
        "pre-commit"
    )
    if executable is None:
        pytest.fail("pre-commit is not installed (it is in the [test] extra)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PIP_"))}
    env.update(
        PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")),
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
        PATH=f"{Path(executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def try_repo(repo: Repo, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pre-commit", "try-repo", str(REPO), "devtoken", "--verbose"],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "project")
    repo.commit("base", {"README.md": "project\n"})
    return repo


def test_a_commit_adding_a_token_is_blocked(project: Repo, pre_commit_env: dict[str, str]) -> None:
    project.write("google-ads.yaml", f"developer_token: {TOKEN}\n")
    project.git("add", "google-ads.yaml")
    done = try_repo(project, pre_commit_env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "google-ads.yaml:1 google-ads-developer-token Qm3x…A1" in done.stdout
    assert "devtoken:allow" in done.stdout
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "text",
    [
        "developer_token: INSERT_DEVELOPER_TOKEN_HERE\n",
        f"developer_token: {TOKEN}  # devtoken:allow\n",
    ],
    ids=["placeholder", "allow-comment"],
)
def test_placeholder_and_allow_comment_pass(
    project: Repo, pre_commit_env: dict[str, str], text: str
) -> None:
    project.write("google-ads.yaml", text)
    project.git("add", "google-ads.yaml")
    done = try_repo(project, pre_commit_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout


def test_installed_hook_stops_git_commit(
    project: Repo, pre_commit_env: dict[str, str], tmp_path: Path
) -> None:
    hook_source = tmp_path / "hook-source"
    subprocess.run(
        ["git", "clone", "-q", str(REPO), str(hook_source)], check=True, env=pre_commit_env
    )
    _overlay_working_tree(hook_source)
    rev = subprocess.run(
        ["git", "-C", str(hook_source), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    project.write(
        ".pre-commit-config.yaml",
        f"repos:\n- repo: {hook_source}\n  rev: {rev}\n  hooks:\n  - id: devtoken\n",
    )
    project.git("add", ".pre-commit-config.yaml")
    project.git("commit", "-q", "-m", "add hook config")
    subprocess.run(
        ["pre-commit", "install"],
        cwd=project.path,
        env=pre_commit_env,
        check=True,
        capture_output=True,
    )
    project.write("ads.properties", f"api.googleads.developerToken={TOKEN}\n")
    project.git("add", "ads.properties")
    done = subprocess.run(
        ["git", "commit", "-m", "leak"],
        cwd=project.path,
        env=pre_commit_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode != 0, done.stdout + done.stderr
    assert "ads.properties:1 google-ads-developer-token" in done.stdout + done.stderr
    assert project.git("log", "--format=%s", "-1") == "add hook config"


def _overlay_working_tree(clone: Path) -> None:
    """Commit this checkout's uncommitted changes into the clone, so the hook under test is ours."""
    status = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if not status.strip():
        return
    for line in status.splitlines():
        name = line[3:].split(" -> ")[-1].strip('"')
        source, target = REPO / name, clone / name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.exists():
            target.unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    for args in (
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "wip"],
    ):
        subprocess.run(["git", "-C", str(clone), *args], check=True, env=env, capture_output=True)
