"""The hook through the real pre-commit framework, installed offline from a wheelhouse."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require
from tests.git.test_staged_matrix import NEW, OLD, Case, params
from tests.gitrepo import Repo

REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path(os.environ.get("DEVTOKEN_WHEELHOUSE", REPO / ".venv" / "wheelhouse"))
TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    require(WHEELHOUSE.is_dir(), f"a wheelhouse at {WHEELHOUSE} (scripts/test.sh builds one)")
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


def run_in(repo: Repo, command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`command` in the repository's work tree, its output captured as text."""
    return subprocess.run(
        command, cwd=repo.path, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def try_repo(repo: Repo, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_in(repo, ["pre-commit", "try-repo", str(REPO), "devtoken", "--verbose"], env)


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


@pytest.fixture(scope="module")
def hook_source(
    tmp_path_factory: pytest.TempPathFactory, pre_commit_env: dict[str, str]
) -> tuple[Path, str]:
    """A clone of this checkout (uncommitted changes included) and its commit, as a hook repo.

    Every project below names the same repo and rev, so pre-commit builds the hook's
    environment once under PRE_COMMIT_HOME and reuses it.
    """
    clone = tmp_path_factory.mktemp("hook") / "hook-source"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, env=pre_commit_env)
    _overlay_working_tree(clone)
    rev = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return clone, rev


def write_config(repo: Repo, hook_source: tuple[Path, str], args: tuple[str, ...] = ()) -> None:
    source, rev = hook_source
    extra = f"    args: [{', '.join(args)}]\n" if args else ""
    repo.write(
        ".pre-commit-config.yaml",
        f"repos:\n- repo: {source}\n  rev: {rev}\n  hooks:\n  - id: devtoken\n{extra}",
    )


@pytest.fixture(scope="module")
def hook_script(tmp_path_factory: pytest.TempPathFactory, pre_commit_env: dict[str, str]) -> bytes:
    """The git hook `pre-commit install` writes (the same in every project: it reads the config)."""
    scratch = Repo(tmp_path_factory.mktemp("install") / "scratch")
    subprocess.run(
        ["pre-commit", "install"],
        cwd=scratch.path,
        env=pre_commit_env,
        check=True,
        capture_output=True,
    )
    return (scratch.path / ".git" / "hooks" / "pre-commit").read_bytes()


def install_hook(repo: Repo, script: bytes) -> None:
    """pre-commit's git hook, installed once the case's history is written."""
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_bytes(script)
    hook.chmod(0o755)


def git_commit(repo: Repo, args: tuple[str, ...], env: dict[str, str]) -> tuple[int, str]:
    done = run_in(repo, ["git", *args], env)
    return done.returncode, done.stdout + done.stderr


def test_installed_hook_stops_git_commit(
    project: Repo,
    pre_commit_env: dict[str, str],
    hook_source: tuple[Path, str],
    hook_script: bytes,
) -> None:
    write_config(project, hook_source)
    project.git("add", ".pre-commit-config.yaml")
    project.git("commit", "-q", "-m", "add hook config")
    install_hook(project, hook_script)
    project.write("ads.properties", f"api.googleads.developerToken={TOKEN}\n")
    project.git("add", "ads.properties")
    code, out = git_commit(project, ("commit", "-m", "leak"), pre_commit_env)
    assert code != 0, out
    assert "ads.properties:1 google-ads-developer-token" in out
    assert project.git("log", "--format=%s", "-1") == "add hook config"


@pytest.mark.parametrize("case", params())
def test_every_staged_secret_blocks_the_commit(
    case: Case,
    tmp_path: Path,
    pre_commit_env: dict[str, str],
    hook_source: tuple[Path, str],
    hook_script: bytes,
) -> None:
    """The staged matrix (tests/git/test_staged_matrix.py) through `git commit` and pre-commit."""
    repo = Repo(tmp_path / "project")
    write_config(repo, hook_source, case.scan_args)
    case.setup(repo)  # commits or stages the hook config with everything else
    install_hook(repo, hook_script)
    before = repo.git("rev-parse", "-q", "--verify", "HEAD") if case.id != "first-commit" else ""
    code, out = git_commit(repo, case.commit, pre_commit_env)
    if case.framework_refuses:
        assert code != 0 and case.framework_refuses in out, out
        assert repo.git("rev-parse", "HEAD") == before
        return
    reported = sorted(re.findall(r":(\d+) ((?:google|gcp)[a-z0-9-]+) ", out))
    assert reported == sorted((str(line), rule) for _path, line, rule in case.expected), out
    if case.printable:
        for path, line, rule in case.expected:
            assert f"{path}:{line} {rule} " in out, out
    after = subprocess.run(
        ["git", "-C", str(repo.path), "rev-parse", "-q", "--verify", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if case.expected:
        assert (code, after) == (1, before), out
    else:
        assert code == 0 and after != before, out
    assert NEW not in out and OLD not in out


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
