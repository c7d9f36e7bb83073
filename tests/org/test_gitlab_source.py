"""GitLab listings through python-gitlab for real, against a fake v4 API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from scanner.org.gitlab_source import GitLabSource, list_gitlab
from scanner.org.ratelimit import RateBudget, Wait
from scanner.org.repositories import Filters, RepositoryRef
from tests.org.fake_gitlab import FakeGitLab, project


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as fake:
        fake.projects = [
            project("acme", "api", 11, "2024-05-05T10:00:00.000Z"),
            project("acme", "web", 12, "2024-05-04T10:00:00.000Z"),
            project("acme/infra", "terraform", 21, "2024-05-03T10:00:00.000Z"),
            project("acme/infra/deep", "ansible", 31, "2024-05-02T10:00:00.000Z"),
            project("acme", "mirror-of-x", 13, "2024-05-01T10:00:00.000Z", forked=True),
            project("acme/infra", "legacy", 22, "2024-04-01T10:00:00.000Z", archived=True),
            project("other", "unrelated", 99, "2024-05-06T10:00:00.000Z"),
        ]
        yield fake


def test_a_group_with_its_subgroups_is_paged_through(gitlab: FakeGitLab) -> None:
    source = GitLabSource("acme", url=gitlab.base, per_page=2)
    got = list_gitlab(source, Filters(), token="glpat-test")
    assert [r.full_name for r in got.refs] == [
        "acme/api",
        "acme/web",
        "acme/infra/terraform",
        "acme/infra/deep/ansible",
    ]
    assert got.skipped == {"fork": 1, "archived": 1}
    assert (got.exhaustive, got.error) == (True, None)
    assert gitlab.pages_asked() == [1, 2, 3]
    assert all("include_subgroups=true" in p and "with_shared=false" in p for p in gitlab.requests)
    assert gitlab.tokens == ["glpat-test"] * 3
    host = gitlab.base.removeprefix("http://")
    assert got.refs[2] == RepositoryRef(
        host_kind="gitlab",
        host=host,
        stable_id="21",
        full_name="acme/infra/terraform",
        clone_url="https://gitlab.example/acme/infra/terraform.git",
        default_branch="main",
        pushed_at=datetime(2024, 5, 3, 10, tzinfo=UTC),
        visibility="private",
        source=f"gitlab:{host}/acme",
        pushed_at_lag=3600.0,
    )


def test_a_subgroup_alone_without_its_own_subgroups(gitlab: FakeGitLab) -> None:
    source = GitLabSource("acme/infra", url=gitlab.base, include_subgroups=False)
    got = list_gitlab(source, Filters(archived=True))
    assert [r.full_name for r in got.refs] == ["acme/infra/terraform", "acme/infra/legacy"]
    assert gitlab.requests[0].startswith("/api/v4/groups/acme%2Finfra/projects?")
    assert gitlab.tokens == [None]


def test_last_activity_since_stops_paging(gitlab: FakeGitLab) -> None:
    source = GitLabSource("acme", url=gitlab.base, per_page=2)
    got = list_gitlab(source, Filters(pushed_since=datetime(2024, 5, 4, 12, tzinfo=UTC)))
    assert [r.name for r in got.refs] == ["api"]
    assert gitlab.pages_asked() == [1]
    assert got.exhaustive is False


def test_last_activity_is_given_an_hour_of_slack(gitlab: FakeGitLab) -> None:
    # GitLab writes last_activity_at at most hourly: "web" may have been pushed at 10:59.
    source = GitLabSource("acme", url=gitlab.base, per_page=2)
    got = list_gitlab(source, Filters(pushed_since=datetime(2024, 5, 4, 10, 30, tzinfo=UTC)))
    assert [r.name for r in got.refs] == ["api", "web"]
    assert gitlab.pages_asked() == [1, 2]


def test_an_unknown_group_is_a_listing_error(gitlab: FakeGitLab) -> None:
    got = list_gitlab(GitLabSource("ghost", url=gitlab.base), Filters(), token="glpat-test")
    host = gitlab.base.removeprefix("http://")
    assert got.error == f"gitlab:{host}/ghost: GitLab answered 404: 404: 404 Group Not Found"
    assert got.refs == () and got.exhaustive is False


def test_rate_limits_are_waited_out_from_the_shared_budget(gitlab: FakeGitLab) -> None:
    slept: list[float] = []
    budget = RateBudget(100.0, clock=lambda: 5_000.0, sleep=slept.append)
    gitlab.faults = [(2, 429, {"Retry-After": "1"}), (3, 429, {"RateLimit-Reset": "5004"})]
    source = GitLabSource("acme", url=gitlab.base, per_page=2)
    got = list_gitlab(source, Filters(), budget=budget)
    assert (len(got.refs), got.error) == (4, None)
    assert gitlab.pages_asked() == [1, 2, 2, 3, 3]
    assert budget.waits == [Wait("retry-after", 1.0), Wait("primary", 5.0)]
    assert slept == [1.0, 5.0]

    # The same run again: a limit that would overrun what is left ends the listing.
    gitlab.faults = [(1, 429, {"Retry-After": "95"})]
    stopped = list_gitlab(source, Filters(), budget=budget)
    host = gitlab.base.removeprefix("http://")
    assert stopped.error == (
        f"gitlab:{host}/acme: rate limited: waiting 95s more would exceed the run's "
        "budget of 100s (6s already waited)"
    )
    assert stopped.refs == () and slept == [1.0, 5.0]
