"""The hook through the real pre-commit framework, installed offline from a wheelhouse."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.secret import fingerprint
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
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_", "PIP_")) and k not in ("PYTHONPATH", "PYTHONHOME")
    }  # the hook must run the devtoken pre-commit installed, not this checkout's path
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


def readme_section() -> str:
    """README.md's "### Pre-commit hook" section: the instructions under test."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("### Pre-commit hook\n")
    return text[start : text.index("\n### ", start + 1)]


def readme_blocks(language: str) -> list[str]:
    """The section's fenced blocks of `language`, exactly as written."""
    fence = rf"^```{language}\n(.*?)^```$"
    blocks: list[str] = re.findall(fence, readme_section(), flags=re.M | re.S)
    return blocks


def readme_config(kind: str) -> str:
    """The README's `.pre-commit-config.yaml` of `kind`: "hosted" (repo: URL) or "local"."""
    blocks = [b for b in readme_blocks("yaml") if "repos:" in b]
    (block,) = [b for b in blocks if ("repo: local" in b) == (kind == "local")]
    return block


def readme_rev() -> str:
    revs: list[str] = re.findall(r"^\s*rev: (\S+)", readme_config("hosted"), flags=re.M)
    (rev,) = revs
    return rev


def with_local_url(config: str, source: Path) -> str:
    """The README's hosted config with its URL, and only that, replaced by `source`."""
    (url,) = re.findall(r"^\s*- repo: (\S+)", config, flags=re.M)
    assert url.startswith("https://"), url
    return config.replace(f"repo: {url}", f"repo: {source}", 1)


@pytest.fixture(scope="module")
def hook_source(
    tmp_path_factory: pytest.TempPathFactory, pre_commit_env: dict[str, str]
) -> tuple[Path, str]:
    """A clone of this checkout (uncommitted changes included), released as the README's rev.

    The release tag is made by scripts/release.sh, as a maintainer makes it. Every
    project below names the same repo and rev, so pre-commit builds the hook's
    environment once under PRE_COMMIT_HOME and reuses it.
    """
    clone = tmp_path_factory.mktemp("hook") / "hook-source"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, env=pre_commit_env)
    _overlay_working_tree(clone)
    rev = readme_rev()
    subprocess.run(["git", "-C", str(clone), "tag", "-d", rev], capture_output=True, check=False)
    release = subprocess.run(
        [str(clone / "scripts" / "release.sh")],
        env={**pre_commit_env, **_IDENTITY},
        capture_output=True,
        text=True,
        check=False,
    )
    assert release.returncode == 0, release.stderr
    return clone, rev


_IDENTITY = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}


def write_config(repo: Repo, hook_source: tuple[Path, str], args: tuple[str, ...] = ()) -> None:
    """The README's hosted config for `hook_source`, the hook given `args` when there are any."""
    config = with_local_url(readme_config("hosted"), hook_source[0])
    assert config.endswith("      - id: devtoken\n"), config
    extra = f"        args: [{', '.join(args)}]\n" if args else ""
    repo.write(".pre-commit-config.yaml", config + extra)


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


@pytest.mark.parametrize("kind", ["hosted", "local"])
def test_the_readme_instructions_block_a_leak_and_pass_a_clean_commit(
    kind: str, project: Repo, pre_commit_env: dict[str, str], hook_source: tuple[Path, str]
) -> None:
    """README's config (hosted: only the URL replaced; local: as written) and its commands."""
    config = readme_config(kind)
    project.write(
        ".pre-commit-config.yaml",
        with_local_url(config, hook_source[0]) if kind == "hosted" else config,
    )
    env = dict(pre_commit_env)
    if kind == "local":  # a team's own install of this checkout: `devtoken` on PATH runs it
        env["PYTHONPATH"] = str(REPO)
    for command in readme_commands():
        done = run_in(project, command, env)
        assert done.returncode == 0, done.stdout + done.stderr
    assert (project.path / ".git" / "hooks" / "pre-commit").is_file()
    project.git("add", ".pre-commit-config.yaml")
    project.write("settings.py", "DEBUG = False\n")
    project.git("add", "settings.py")
    code, out = git_commit(project, ("commit", "-m", "clean"), env)
    assert code == 0 and re.search(r"^devtoken\b[^\n]*\.\.\.Passed$", out, flags=re.M), out
    assert project.git("log", "--format=%s", "-1") == "clean"
    project.write("google-ads.yaml", f"developer_token: {TOKEN}\n")
    project.git("add", "google-ads.yaml")
    code, out = git_commit(project, ("commit", "-m", "leak"), env)
    assert code == 1 and re.search(r"^devtoken\b[^\n]*\.\.\.Failed$", out, flags=re.M), out
    short = fingerprint("google-ads-developer-token", TOKEN)[:12]
    assert f"google-ads.yaml:1 google-ads-developer-token Qm3x…A1 (fingerprint {short})" in out
    assert "add a `devtoken:allow` comment on its line, or" in out
    ignore_line = f"{short}  # google-ads-developer-token in google-ads.yaml:1"
    assert f"\n    {ignore_line}\n" in out
    assert TOKEN not in out
    assert project.git("log", "--format=%s", "-1") == "clean"
    # the second way the message names: its line in .devtokenignore lets the commit through
    project.write(".devtokenignore", ignore_line + "\n")
    project.git("add", ".devtokenignore")
    code, out = git_commit(project, ("commit", "-m", "allowed"), env)
    assert code == 0 and re.search(r"^devtoken\b[^\n]*\.\.\.Passed$", out, flags=re.M), out
    assert project.git("log", "--format=%s", "-1") == "allowed"


def readme_commands() -> list[list[str]]:
    """The pre-commit commands of the README's shell block (pre-commit itself is installed)."""
    (block,) = [b for b in readme_blocks("sh") if "pre-commit install" in b]
    lines = [line.split("#")[0].split() for line in block.splitlines()]
    commands = [words for words in lines if words and words[0] == "pre-commit"]
    assert commands == [["pre-commit", "install"]], block
    return commands


def test_the_readme_pins_this_version_and_names_the_shipped_hook() -> None:
    """rev is the release tag of pyproject's version; the local variant runs the hook's entry."""
    version = re.search(r'^version = "([^"]+)"$', (REPO / "pyproject.toml").read_text(), re.M)
    assert version is not None
    assert readme_rev() == f"v{version.group(1)}"
    hooks = (REPO / ".pre-commit-hooks.yaml").read_text()
    local = readme_config("local")
    for key in ("id", "entry", "pass_filenames", "always_run"):
        (shipped,) = re.findall(rf"^-? *{key}: (.+)$", hooks, flags=re.M)
        assert re.findall(rf"^ *-? *{key}: (.+)$", local, flags=re.M) == [shipped], key
    assert re.findall(r"^ *language: (.+)$", local, flags=re.M) == ["system"]


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


def release_repo(tmp_path: Path, version: str, rev: str) -> Repo:
    """A repository with this release script, a pyproject at `version`, a README pinning `rev`."""
    repo = Repo(tmp_path / "released")
    (repo.path / "scripts").mkdir()
    shutil.copy2(REPO / "scripts" / "release.sh", repo.path / "scripts" / "release.sh")
    readme = readme_section().replace(f"rev: {readme_rev()}", f"rev: {rev}")
    pyproject = f'[project]\nname = "devtoken"\nversion = "{version}"\n'
    repo.commit("init", {"README.md": readme, "pyproject.toml": pyproject})
    return repo


def release(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(repo.path / "scripts" / "release.sh"), *args],
        env=repo.env(),
        capture_output=True,
        text=True,
        check=False,
    )


def test_release_tags_head_with_the_version_the_readme_pins(tmp_path: Path) -> None:
    repo = release_repo(tmp_path, "1.2.3", "v1.2.3")
    done = release(repo)
    short = repo.git("rev-parse", "--short", "HEAD")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout == f"tagged v1.2.3 at {short}\npublish it with: git push origin v1.2.3\n"
    assert repo.git("cat-file", "-t", "v1.2.3") == "tag"  # annotated, as pre-commit pins it
    assert repo.git("rev-parse", "v1.2.3^{commit}") == repo.git("rev-parse", "HEAD")
    again = release(repo)
    assert (again.returncode, again.stderr) == (1, "release: tag v1.2.3 exists already\n")


@pytest.mark.parametrize(
    ("version", "rev", "change", "said"),
    [
        ("1.3.0", "v1.2.3", None, "README's pre-commit snippet pins rev: 'v1.2.3', not v1.3.0"),
        ("1.2.3", "v1.2.3", "README.md", "uncommitted changes: commit them first"),
        ("1.2", "v1.2", None, "pyproject.toml version '1.2' is not X.Y.Z"),
    ],
    ids=["readme-pins-another-rev", "uncommitted-changes", "not-x-y-z"],
)
def test_release_refuses_a_tag_the_readme_or_the_tree_does_not_match(
    tmp_path: Path, version: str, rev: str, change: str | None, said: str
) -> None:
    repo = release_repo(tmp_path, version, rev)
    if change:
        repo.write(change, "edited\n")
    done = release(repo)
    assert done.returncode == 1 and done.stderr.startswith(f"release: {said}"), done.stderr
    assert repo.git("tag", "--list") == ""
