"""GitHub listings through PyGithub for real, against a fake REST API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from scanner.org.github_source import GitHubSource, list_github
from scanner.org.ratelimit import RateBudget, Wait
from scanner.org.repositories import Filters, Listing, RepositoryRef
from tests.org.fake_github import FakeGitHub, Fault, repo

NOW = 1_000_000.0


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.repos["acme"] = [
            repo("acme", f"svc-{i}", 100 + i, f"2024-01-{10 + i:02d}T08:00:00Z") for i in range(5)
        ]
        yield fake


def budget(max_wait: float = 3600.0) -> tuple[RateBudget, list[float]]:
    slept: list[float] = []
    return RateBudget(max_wait, clock=lambda: NOW, sleep=slept.append), slept


def listing(
    fake: FakeGitHub,
    filters: Filters | None = None,
    rate: RateBudget | None = None,
    owner: str = "acme",
) -> Listing:
    source = GitHubSource(owner, api_url=fake.base, per_page=2)
    return list_github(
        source, filters or Filters(), token="tok-123", budget=rate or budget()[0], pace=None
    )


def test_pages_are_followed_newest_push_first_without_a_request_per_repository(
    github: FakeGitHub,
) -> None:
    got = listing(github)
    assert [r.full_name for r in got.refs] == [f"acme/svc-{i}" for i in (4, 3, 2, 1, 0)]
    assert github.pages_asked() == [1, 2, 3]
    assert all(p.startswith("/orgs/acme/repos?") and "sort=pushed" in p for p in github.requests)
    assert github.auth_headers == ["token tok-123"] * 3
    assert (got.exhaustive, got.error, got.skipped) == (True, None, {})
    assert got.refs[0] == RepositoryRef(
        host_kind="github",
        host=github.base.removeprefix("http://"),
        stable_id="104",
        full_name="acme/svc-4",
        clone_url="https://github.example/acme/svc-4.git",
        default_branch="main",
        pushed_at=datetime(2024, 1, 14, 8, tzinfo=UTC),
        archived=False,
        fork=False,
        visibility="public",
        source=f"github:{github.base.removeprefix('http://')}/acme",
    )


def test_a_user_is_listed_through_the_users_endpoint(github: FakeGitHub) -> None:
    github.repos["alice"] = [repo("alice", "dots", 7, "2024-02-01T00:00:00Z")]
    source = GitHubSource("alice", kind="user", api_url=github.base)
    got = list_github(source, Filters(), budget=budget()[0], pace=None)
    assert [r.full_name for r in got.refs] == ["alice/dots"]
    assert github.requests == [
        "/users/alice/repos?direction=desc&per_page=100&sort=pushed&type=owner"
    ]
    assert github.auth_headers == [None]


def test_forks_archived_visibility_and_globs_are_filtered_and_counted(github: FakeGitHub) -> None:
    github.repos["acme"] += [
        repo("acme", "old-tool", 201, "2024-01-05T00:00:00Z", archived=True),
        repo("acme", "upstream-fork", 202, "2024-01-06T00:00:00Z", fork=True),
        repo("acme", "secret-svc", 203, "2024-01-07T00:00:00Z", visibility="private"),
    ]
    assert {r.name for r in listing(github).refs} == {f"svc-{i}" for i in range(5)} | {"secret-svc"}
    assert listing(github).skipped == {"archived": 1, "fork": 1}

    everything = Filters(forks=True, archived=True)
    assert len(listing(github, everything).refs) == 8
    narrowed = listing(github, Filters(include=("svc-*", "acme/secret-*"), exclude=("svc-[13]",)))
    assert [r.name for r in narrowed.refs] == ["svc-4", "svc-2", "svc-0", "secret-svc"]
    assert narrowed.skipped == {"excluded": 2, "archived": 1, "fork": 1}
    private = listing(github, Filters(visibility=("private",)))
    assert [r.name for r in private.refs] == ["secret-svc"]
    assert private.skipped == {"visibility": 5, "archived": 1, "fork": 1}
    # Filtered-out repositories were still seen: their mirrors are not "deleted".
    assert len(narrowed.seen_keys) == 8


def test_pushed_since_stops_at_the_first_untouched_repository(github: FakeGitHub) -> None:
    since = datetime(2024, 1, 14, tzinfo=UTC)
    got = listing(github, Filters(pushed_since=since))
    assert [r.name for r in got.refs] == ["svc-4"]
    assert github.pages_asked() == [1]
    assert (got.exhaustive, got.error, got.skipped) == (False, None, {"not_pushed_since": 1})


@pytest.mark.parametrize("status", [403, 429])
def test_a_primary_rate_limit_waits_until_the_reset(github: FakeGitHub, status: int) -> None:
    limited = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 2)}
    github.faults.append(Fault(2, status, limited, {"message": "API rate limit exceeded"}))
    rate, slept = budget()
    got = listing(github, rate=rate)
    assert len(got.refs) == 5 and got.error is None
    assert github.pages_asked() == [1, 2, 2, 3]
    assert rate.waits == [Wait("primary", 3.0)]  # reset - now, +1 for the unknown fraction
    assert slept == [3.0]


def test_a_secondary_rate_limit_honours_retry_after(github: FakeGitHub) -> None:
    message = {"message": "You have exceeded a secondary rate limit."}
    github.faults.append(Fault(3, 403, {"retry-after": "1"}, message))
    rate, slept = budget()
    assert len(listing(github, rate=rate).refs) == 5
    assert (rate.waits, slept) == ([Wait("secondary", 1.0)], [1.0])


def test_secondary_limits_without_retry_after_back_off_exponentially_within_one_budget(
    github: FakeGitHub,
) -> None:
    message = {"message": "You have exceeded a secondary rate limit."}
    rate, slept = budget(max_wait=150.0)
    github.faults.append(Fault(1, 403, {}, message))
    first = listing(github, rate=rate)
    assert (len(first.refs), first.error, slept) == (5, None, [60.0])

    # The same run lists another source: the next wait doubles, and 60 + 120 > 150.
    github.repos["beta"] = [repo("beta", "one", 900, "2024-03-01T00:00:00Z")]
    github.faults.append(Fault(1, 429, {}, message))
    second = listing(github, rate=rate, owner="beta")
    assert second.refs == () and second.exhaustive is False
    assert second.error is not None and second.error.startswith(
        f"github:{github.base.removeprefix('http://')}/beta: rate limited: waiting 120s more"
    )
    assert slept == [60.0]


def test_a_limit_in_the_middle_keeps_the_pages_already_listed(github: FakeGitHub) -> None:
    limited = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 7200)}
    github.faults.append(Fault(2, 403, limited, {"message": "API rate limit exceeded"}))
    got = listing(github, rate=budget(max_wait=600.0)[0])
    assert [r.name for r in got.refs] == ["svc-4", "svc-3"]
    assert got.exhaustive is False and "rate limited: waiting 7201s" in (got.error or "")


def test_an_unknown_organisation_is_a_listing_error_not_an_exception(github: FakeGitHub) -> None:
    got = listing(github, owner="nobody")
    assert got.refs == () and got.exhaustive is False
    assert (
        got.error
        == f"github:{github.base.removeprefix('http://')}/nobody: GitHub answered 404: Not Found"
    )
    assert "tok-123" not in repr(got)


def test_a_forbidden_answer_that_is_no_rate_limit_is_an_error_at_once(github: FakeGitHub) -> None:
    message = {"message": "Resource not accessible by integration"}
    github.faults.append(Fault(1, 403, {}, message))
    rate, slept = budget()
    got = listing(github, rate=rate)
    host = github.base.removeprefix("http://")
    assert (
        got.error
        == f"github:{host}/acme: GitHub answered 403: Resource not accessible by integration"
    )
    assert (github.pages_asked(), slept) == ([1], [])


def test_a_server_error_is_retried(github: FakeGitHub) -> None:
    github.faults.append(Fault(2, 502, {}, {"message": "Server Error"}))
    rate, slept = budget()
    got = listing(github, rate=rate)
    assert (len(got.refs), got.error) == (5, None)
    assert github.pages_asked() == [1, 2, 2, 3]
    assert slept == []  # urllib3's first retry does not back off
