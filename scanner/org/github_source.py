"""GitHub organisations and users (github.com or Enterprise) through PyGithub.

PyGithub pages (Link headers) and retries through urllib3; `BudgetedRetry` makes every
rate-limit wait go through the run's one `RateBudget`: primary limits wait until
`x-ratelimit-reset`, secondary ones for `retry-after` or else 60 s doubling.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.Repository import Repository
from github.Requester import Requester
from urllib3 import Retry

from scanner.org.ratelimit import RateBudget, RateLimitBudgetExceeded, SpendingRetry
from scanner.org.repositories import (
    Filters,
    Listing,
    RepositoryRef,
    SourceError,
    Visibility,
    collect,
)
from scanner.org.specs import GITHUB_API as GITHUB_API
from scanner.org.specs import GitHubSource as GitHubSource
from scanner.org.specs import web_host as web_host


class BudgetedRetry(SpendingRetry, GithubRetry):
    """GithubRetry whose rate-limit waits are decided here and spent from a shared budget."""

    def __init__(
        self, budget: RateBudget, planned: tuple[str, float] | None = None, **kwargs: Any
    ) -> None:
        # GitHub signals a primary limit with 429 as well as 403.
        kwargs.setdefault("status_forcelist", [*range(500, 600), 429])
        super().__init__(budget, planned, **kwargs)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        if response is not None and response.status in (403, 429):
            planned = self._rate_limit_wait(response, url)
            if planned is not None:
                retry = Retry.increment(self, method, url, response, error, _pool, _stacktrace)
                assert isinstance(retry, BudgetedRetry)
                retry.planned = planned
                return retry
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def _rate_limit_wait(self, response: Any, url: str | None) -> tuple[str, float] | None:
        headers = response.headers
        reset = headers.get("x-ratelimit-reset", "")
        if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            # +1: it is not said where in that second the window resets.
            return ("primary", max(0.0, int(reset) - self.budget.clock()) + 1.0)
        after = headers.get("retry-after", "")
        if after.isdigit():
            return ("secondary", float(after))
        if response.status == 429:
            return ("secondary", self.budget.secondary_backoff())
        content = GithubRetry.get_content(response, url or "")
        if Requester.isRateLimitError(_message(content)):
            return ("secondary", self.budget.secondary_backoff())
        raise GithubException(response.status, _json_or_text(content), dict(headers))


def _message(content: bytes) -> str:
    data = _json_or_text(content)
    return str(data.get("message", "")) if isinstance(data, dict) else ""


def _json_or_text(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


def list_github(
    source: GitHubSource,
    filters: Filters,
    token: str | None = None,
    budget: RateBudget | None = None,
    timeout: int = 30,
    pace: float | None = 0.25,
) -> Listing:
    """List `source`'s repositories, most recently pushed first, through `filters`.

    Inputs are plain and picklable except `budget`, which the run shares between sources.
    `pace` is PyGithub's pause between requests (its politeness default).
    """
    client = Github(
        auth=Auth.Token(token) if token else None,
        base_url=source.api_url.rstrip("/"),
        per_page=source.per_page,
        timeout=timeout,
        retry=BudgetedRetry(budget or RateBudget(), total=10, backoff_factor=1.0),
        seconds_between_requests=pace,
        lazy=True,
    )
    try:
        return collect(source.label, _refs(client, source), filters, sorted_by_push=True)
    finally:
        client.close()


def _refs(client: Github, source: GitHubSource) -> Iterator[RepositoryRef]:
    try:
        if source.kind == "org":
            repos = client.get_organization(source.owner).get_repos(
                type="all", sort="pushed", direction="desc"
            )
        else:
            repos = client.get_user(source.owner, lazy=True).get_repos(
                type="owner", sort="pushed", direction="desc"
            )
        host = web_host(source.api_url)
        for repo in repos:
            yield _ref(repo, host, source.label)
    except GithubException as exc:
        raise SourceError(f"{source.label}: GitHub answered {exc.status}: {_said(exc)}") from None
    except RateLimitBudgetExceeded as exc:
        raise SourceError(f"{source.label}: {exc}") from None
    except requests.RequestException as exc:
        raise SourceError(f"{source.label}: {type(exc).__name__}: {_first_line(exc)}") from None


def _ref(repo: Repository, host: str, label: str) -> RepositoryRef:
    visibility: Visibility = (
        repo.visibility if repo.visibility in ("public", "private", "internal") else "unknown"  # type: ignore[assignment]
    )
    pushed = repo.pushed_at
    return RepositoryRef(
        host_kind="github",
        host=host,
        stable_id=str(repo.id),
        full_name=repo.full_name,
        clone_url=repo.clone_url,
        default_branch=repo.default_branch,
        pushed_at=pushed.astimezone(UTC) if isinstance(pushed, datetime) else None,
        archived=bool(repo.archived),
        fork=bool(repo.fork),
        visibility=visibility,
        source=label,
    )


def _said(exc: GithubException) -> str:
    data = exc.data
    message = data.get("message") if isinstance(data, dict) else data
    return _first_line(message or "no message")


def _first_line(value: object) -> str:
    text = str(value).strip().splitlines()
    return text[0][:200] if text else "no message"
