"""Every authentication/authorization failure the API can return maps to an outcome."""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any, cast

import pytest
from google.ads.googleads.v26.errors.types import authentication_error, authorization_error, errors

from scanner.verify.outcomes import INVALID, LIVE, UNKNOWN
from scanner.verify.reach import FAILURES, _from_failure

AUTH = authentication_error.AuthenticationErrorEnum.AuthenticationError
AUTHZ = authorization_error.AuthorizationErrorEnum.AuthorizationError
# proto-plus enums iterate like enum.Enum, but their metaclass hides that from mypy.
MEMBERS = [
    ("authentication_error", e)
    for e in cast("Iterable[Any]", AUTH)
    if e.name not in ("UNSPECIFIED", "UNKNOWN")
]
MEMBERS += [
    ("authorization_error", e)
    for e in cast("Iterable[Any]", AUTHZ)
    if e.name not in ("UNSPECIFIED", "UNKNOWN")
]


def _exception(kind: str, value: Any) -> Any:
    failure = errors.GoogleAdsFailure(
        errors=[errors.GoogleAdsError(error_code=errors.ErrorCode(**{kind: value}))]
    )
    return SimpleNamespace(
        failure=failure, error=SimpleNamespace(code=lambda: SimpleNamespace(name="X"))
    )


@pytest.mark.parametrize(("kind", "value"), MEMBERS, ids=[m[1].name for m in MEMBERS])
def test_every_enum_member_has_an_outcome_and_a_sentence(kind: str, value: Any) -> None:
    assert (kind, value.name) in FAILURES
    result, retry = _from_failure(_exception(kind, value))
    assert result.status in (LIVE, INVALID) and value.name in result.reason and retry is None


# Stated here from the API's documentation, not read from reach.FAILURES: these failures
# mean the OAuth credential itself is dead; every other auth failure comes from a server
# that accepted the credential (a live credential without, or with limited, Ads access).
DEAD = {
    "OAUTH_TOKEN_INVALID",
    "OAUTH_TOKEN_EXPIRED",
    "OAUTH_TOKEN_DISABLED",
    "OAUTH_TOKEN_REVOKED",
    "OAUTH_TOKEN_HEADER_INVALID",
    "GOOGLE_ACCOUNT_DELETED",
    "AUTHENTICATION_ERROR",
    "GOOGLE_ACCOUNT_COOKIE_INVALID",
    "GOOGLE_ACCOUNT_AUTHENTICATION_FAILED",
    "LOGIN_COOKIE_REQUIRED",
    "LOGIN_COOKIE_INVALID",
    "USER_ID_INVALID",
}


@pytest.mark.parametrize(("kind", "value"), MEMBERS, ids=[m[1].name for m in MEMBERS])
def test_token_problems_are_invalid_and_access_problems_live(kind: str, value: Any) -> None:
    result, _ = _from_failure(_exception(kind, value))
    dead = kind == "authentication_error" and value.name in DEAD
    assert (result.status, result.customers) == ((INVALID, None) if dead else (LIVE, ()))
    assert result.reason.endswith(f" ({value.name})")


def test_the_revoked_token_sentence() -> None:
    result, retry = _from_failure(_exception("authentication_error", AUTH.OAUTH_TOKEN_REVOKED))
    assert (result.status, result.reason, retry) == (
        INVALID,
        "the access token was revoked (OAUTH_TOKEN_REVOKED)",
        None,
    )


def test_an_unmapped_failure_is_unknown_never_invalid() -> None:
    result, _ = _from_failure(_exception("request_error", 5))
    assert result.status == UNKNOWN
