"""What a GitHub or GitLab source is (plain settings), apart from the clients that list it.

The config parser and the CLI only need these, so an org scan of plain clone URLs works
without the `devtoken[org]` extra (PyGithub, python-gitlab); only listing a GitHub or
GitLab source imports its client.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

ORG_EXTRA = "pip install 'devtoken[org]'"

GITHUB_API = "https://api.github.com"


@dataclass(frozen=True)
class GitHubSource:
    """`owner` is an organisation (kind "org") or a user (kind "user")."""

    owner: str
    kind: Literal["org", "user"] = "org"
    api_url: str = GITHUB_API
    per_page: int = 100
    # The name of the environment variable holding the token (never the token itself).
    token_env: str | None = None

    @property
    def label(self) -> str:
        return f"github:{web_host(self.api_url)}/{self.owner}"


def web_host(api_url: str) -> str:
    """github.com for the public API, the Enterprise host (with port) otherwise."""
    host = urlsplit(api_url).netloc.lower()
    return "github.com" if host == "api.github.com" else host


GITLAB_URL = "https://gitlab.com"
# GitLab writes a project's last_activity_at at most once an hour (gitlab-foss MR 6391).
LAST_ACTIVITY_LAG = 3600.0


@dataclass(frozen=True)
class GitLabSource:
    """`group` is a full path ("parent/child"); `include_subgroups` lists their projects too."""

    group: str
    url: str = GITLAB_URL
    include_subgroups: bool = True
    per_page: int = 100
    # The name of the environment variable holding the token (never the token itself).
    token_env: str | None = None

    @property
    def label(self) -> str:
        return f"gitlab:{urlsplit(self.url).netloc.lower()}/{self.group}"


def missing_client(spec: object) -> str | None:
    """The one-line error for a source whose client library is not installed, else None."""
    needed = {GitHubSource: ("github", "PyGithub"), GitLabSource: ("gitlab", "python-gitlab")}
    module, package = needed.get(type(spec), (None, None))
    if module is None:
        return None
    try:
        importlib.import_module(module)  # it lists this source anyway: no extra cost
    except ImportError:
        return f"{getattr(spec, 'label', module)} needs {package}: {ORG_EXTRA}"
    return None
