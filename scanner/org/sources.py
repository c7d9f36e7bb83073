"""One entry point over every source, and the tokens each needs, from the environment only.

A config names at most the variable a token is in (`token_env`), never the token; the
same token is then handed to git for the source's own host, and to no other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scanner.git.mirror import HttpAuth
from scanner.org.listed import ListedSource, list_listed
from scanner.org.repositories import Filters, Listing
from scanner.org.specs import GitHubSource, GitLabSource, web_host

if TYPE_CHECKING:
    from scanner.org.ratelimit import RateBudget

SourceSpec = GitHubSource | GitLabSource | ListedSource

_DEFAULT_ENV = {
    "github": ("DEVTOKEN_GITHUB_TOKEN", "GITHUB_TOKEN"),
    "gitlab": ("DEVTOKEN_GITLAB_TOKEN", "GITLAB_TOKEN"),
}


def token_for(spec: SourceSpec, env: Mapping[str, str] | None = None) -> str | None:
    """The source's token: its own `token_env` if named, else the usual variables."""
    env = os.environ if env is None else env
    if isinstance(spec, ListedSource):
        return None
    kind = "github" if isinstance(spec, GitHubSource) else "gitlab"
    names = (spec.token_env,) if spec.token_env else _DEFAULT_ENV[kind]
    for name in names:
        if env.get(name, "").strip():
            return env[name].strip()
    return None


def enumerate_source(
    spec: SourceSpec,
    filters: Filters,
    env: Mapping[str, str] | None = None,
    budget: RateBudget | None = None,
    pace: float | None = 0.25,
) -> Listing:
    """List one source; errors come back in the Listing, never as an exception."""
    if isinstance(spec, GitHubSource):
        from scanner.org.github_source import list_github

        return list_github(spec, filters, token_for(spec, env), budget, pace=pace)
    if isinstance(spec, GitLabSource):
        from scanner.org.gitlab_source import list_gitlab

        return list_gitlab(spec, filters, token_for(spec, env), budget)
    return list_listed(spec, filters)


def git_auths(specs: Sequence[SourceSpec], env: Mapping[str, str] | None = None) -> list[HttpAuth]:
    """HTTPS credentials for git, one per source host that has a token."""
    auths: dict[str, HttpAuth] = {}
    for spec in specs:
        token = token_for(spec, env)
        if not token:
            continue
        if isinstance(spec, GitHubSource):
            prefix = f"https://{web_host(spec.api_url)}/"
            auths[prefix] = HttpAuth(prefix, "x-access-token", token)
        elif isinstance(spec, GitLabSource):
            prefix = f"https://{urlsplit(spec.url).netloc.lower()}/"
            auths[prefix] = HttpAuth(prefix, "oauth2", token)
    return list(auths.values())
