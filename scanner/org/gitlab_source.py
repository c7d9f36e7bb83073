"""GitLab groups (with subgroups), gitlab.com or self-managed, through python-gitlab.

python-gitlab follows the Link headers page by page; 429s and 5xx are retried underneath
it, in the session's urllib3 adapter, with every wait spent from the run's RateBudget.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import gitlab
import requests
from requests.adapters import HTTPAdapter

from scanner.org.ratelimit import BudgetRetry, RateBudget, RateLimitBudgetExceeded
from scanner.org.repositories import (
    Filters,
    Listing,
    RepositoryRef,
    SourceError,
    Visibility,
    collect,
)
from scanner.org.specs import GITLAB_URL as GITLAB_URL
from scanner.org.specs import LAST_ACTIVITY_LAG
from scanner.org.specs import GitLabSource as GitLabSource


def list_gitlab(
    source: GitLabSource,
    filters: Filters,
    token: str | None = None,
    budget: RateBudget | None = None,
    timeout: float = 30.0,
) -> Listing:
    """List the group's own projects, most recently active first, through `filters`.

    Retries and rate-limit waits happen in the session's urllib3 adapter, spent from the
    run's shared `budget`; python-gitlab's own sleeping retries are off.
    """
    session = requests.Session()
    adapter = HTTPAdapter(
        max_retries=BudgetRetry(budget or RateBudget(), total=10, backoff_factor=1.0)
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    client = gitlab.Gitlab(
        source.url.rstrip("/"),
        private_token=token or None,
        per_page=source.per_page,
        timeout=timeout,
        session=session,
    )
    try:
        return collect(source.label, _refs(client, source), filters, sorted_by_push=True)
    finally:
        client.session.close()


def _refs(client: gitlab.Gitlab, source: GitLabSource) -> Iterator[RepositoryRef]:
    host = urlsplit(source.url).netloc.lower()
    try:
        group = client.groups.get(source.group, lazy=True)
        projects = group.projects.list(
            iterator=True,
            # GitLab's own spelling of booleans in a query string.
            include_subgroups="true" if source.include_subgroups else "false",
            with_shared="false",
            order_by="last_activity_at",
            sort="desc",
            obey_rate_limit=False,
        )
        for project in projects:
            yield _ref(project.attributes, host, source.label)
    except gitlab.GitlabError as exc:
        code = exc.response_code or "an error"
        raise SourceError(f"{source.label}: GitLab answered {code}: {_first_line(exc)}") from None
    except RateLimitBudgetExceeded as exc:
        raise SourceError(f"{source.label}: {exc}") from None
    except requests.RequestException as exc:
        raise SourceError(f"{source.label}: {type(exc).__name__}: {_first_line(exc)}") from None


def _ref(data: Mapping[str, Any], host: str, label: str) -> RepositoryRef:
    visibility: Visibility = "unknown"
    if data.get("visibility") in ("public", "private", "internal"):
        visibility = data["visibility"]
    return RepositoryRef(
        host_kind="gitlab",
        host=host,
        stable_id=str(data["id"]),
        full_name=str(data["path_with_namespace"]),
        clone_url=str(data["http_url_to_repo"]),
        default_branch=data.get("default_branch"),
        pushed_at=_when(data.get("last_activity_at")),
        archived=bool(data.get("archived", False)),
        fork=bool(data.get("forked_from_project")),
        visibility=visibility,
        source=label,
        pushed_at_lag=LAST_ACTIVITY_LAG,
    )


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _first_line(value: object) -> str:
    text = str(value).strip().splitlines()
    return text[0][:200] if text else "no message"
