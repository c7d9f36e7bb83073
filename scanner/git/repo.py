"""Open a repository with GitPython: what it is, its refs, stashes, shallowness."""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.git.mirror import HELD_PREFIX
from scanner.git.runner import GitError
from scanner.urls import public_url


@dataclass(frozen=True)
class RepoInfo:
    path: str  # work tree, or the git directory of a bare repository / mirror
    bare: bool
    shallow: bool
    branches: tuple[tuple[str, str], ...]  # (ref name, commit sha): local and remote branches
    tags: tuple[str, ...]
    stashes: tuple[str, ...] = field(default=())  # commit shas of every stash entry
    remote_url: str | None = None  # credentials stripped (scanner.urls.public_url)
    # (ref name, commit sha) under refs/devtoken/rewritten/: tips a force-push dropped,
    # held by the mirror cache
    held: tuple[tuple[str, str], ...] = field(default=())
    head: str | None = None  # the commit HEAD names, None when unborn
    head_branch: str | None = None  # the branch HEAD is on, None when detached


def open_repo(path: str) -> RepoInfo:
    """Describe the repository at `path`; GitError when it is not one or is broken."""
    import git

    try:
        repo = git.Repo(path, search_parent_directories=True)
    except git.NoSuchPathError:
        raise GitError(f"no such directory: {path}") from None
    except git.InvalidGitRepositoryError:
        raise GitError(f"not a git repository: {path}") from None
    except git.GitError as exc:
        raise GitError(f"cannot open repository {path}: {exc}") from None
    with repo:
        try:
            return _describe(repo, path)
        except (git.GitCommandError, ValueError) as exc:
            raise GitError(f"cannot read repository {path}: {_short(exc)}") from None


def _describe(repo: object, path: str) -> RepoInfo:
    import git

    assert isinstance(repo, git.Repo)
    branches: list[tuple[str, str]] = []
    tags: list[str] = []
    held: list[tuple[str, str]] = []
    for ref in repo.references:
        name = ref.path
        if name.startswith(("refs/heads/", "refs/remotes/")) and not name.endswith("/HEAD"):
            sha = _commit_sha(ref)
            if sha:
                branches.append((name, sha))
        elif name.startswith("refs/tags/"):
            tags.append(name)
        elif name.startswith(HELD_PREFIX):
            sha = _commit_sha(ref)
            if sha:
                held.append((name, sha))
    shallow = repo.git.rev_parse("--is-shallow-repository").strip() == "true"
    stashes: tuple[str, ...] = ()
    if any(ref.path == "refs/stash" for ref in repo.references):
        listing = repo.git.log("-g", "--format=%H", "refs/stash")
        stashes = tuple(line for line in listing.splitlines() if line)
    remote_url = None
    if repo.remotes:
        try:
            remote_url = public_url(repo.remotes[0].url)
        except (git.GitCommandError, ValueError, AttributeError):
            remote_url = None
    head, head_branch = _head(repo)
    return RepoInfo(
        path=str(repo.working_tree_dir or repo.git_dir),
        bare=repo.bare,
        shallow=shallow,
        branches=tuple(sorted(branches)),
        tags=tuple(sorted(tags)),
        stashes=stashes,
        remote_url=remote_url,
        held=tuple(sorted(held)),
        head=head,
        head_branch=head_branch,
    )


def _head(repo: object) -> tuple[str | None, str | None]:
    """(HEAD's commit, its branch): what a report names as the scanned revision."""
    try:
        head = str(repo.head.commit.hexsha)  # type: ignore[attr-defined]
    except (ValueError, Exception):
        return None, None
    try:
        return head, str(repo.head.reference.path)  # type: ignore[attr-defined]
    except (TypeError, ValueError, Exception):
        return head, None


def _commit_sha(ref: object) -> str | None:
    try:
        return str(ref.commit.hexsha)  # type: ignore[attr-defined]
    except (ValueError, Exception):
        return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__
