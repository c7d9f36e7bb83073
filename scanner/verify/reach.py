"""What live OAuth credentials open: CustomerService.ListAccessibleCustomers via google-ads.

The official client is imported here and nowhere else, lazily, so scans
without --verify never pay for grpc/protobuf. Every GoogleAdsFailure the
call can return is mapped to an outcome and a sentence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from scanner.verify.limits import RateLimiter
from scanner.verify.outcomes import INVALID, LIVE, UNKNOWN
from scanner.verify.settings import VerifySettings

# (error kind, enum name) -> (outcome of the access, sentence)
FAILURES: dict[tuple[str, str], tuple[str, str]] = {
    ("authentication_error", "OAUTH_TOKEN_INVALID"): (INVALID, "the access token is invalid"),
    ("authentication_error", "OAUTH_TOKEN_EXPIRED"): (INVALID, "the access token has expired"),
    ("authentication_error", "OAUTH_TOKEN_DISABLED"): (INVALID, "the access token is disabled"),
    ("authentication_error", "OAUTH_TOKEN_REVOKED"): (INVALID, "the access token was revoked"),
    ("authentication_error", "OAUTH_TOKEN_HEADER_INVALID"): (
        INVALID,
        "the OAuth header is malformed",
    ),
    ("authentication_error", "GOOGLE_ACCOUNT_DELETED"): (INVALID, "the Google account was deleted"),
    ("authentication_error", "NOT_ADS_USER"): (LIVE, "the Google account has no Google Ads access"),
    ("authentication_error", "DEVELOPER_TOKEN_INVALID"): (
        LIVE,
        "the API called the developer token invalid (tokens are ignored since 2026-09-09)",
    ),
    ("authentication_error", "TWO_STEP_VERIFICATION_NOT_ENROLLED"): (
        LIVE,
        "the account must enroll in 2-step verification before the API serves it",
    ),
    ("authentication_error", "ADVANCED_PROTECTION_NOT_ENROLLED"): (
        LIVE,
        "the account must enroll in Advanced Protection before the API serves it",
    ),
    ("authorization_error", "DEVELOPER_TOKEN_NOT_APPROVED"): (
        LIVE,
        "the API called the developer token not approved (tokens are ignored since 2026-09-09)",
    ),
    ("authorization_error", "DEVELOPER_TOKEN_PROHIBITED"): (
        LIVE,
        "the developer token is prohibited for this Cloud project",
    ),
    ("authorization_error", "DEVELOPER_TOKEN_NOT_ON_ALLOWLIST"): (
        LIVE,
        "the developer token is not on the allowlist for this call",
    ),
    ("authorization_error", "CLOUD_PROJECT_NOT_APPROVED_FOR_PRODUCTION"): (
        LIVE,
        "the Cloud project behind these credentials is not approved for production access",
    ),
    ("authorization_error", "CLOUD_PROJECT_NOT_UNDER_ORGANIZATION"): (
        LIVE,
        "the Cloud project is not under an organization the API accepts",
    ),
    ("authorization_error", "PROJECT_DISABLED"): (
        LIVE,
        "the Google Ads API is disabled in the Cloud project behind these credentials",
    ),
    ("authorization_error", "USER_PERMISSION_DENIED"): (
        LIVE,
        "the user has no permission for this",
    ),
    ("authorization_error", "CUSTOMER_NOT_ENABLED"): (LIVE, "the customer account is not enabled"),
    ("authorization_error", "MISSING_TOS"): (LIVE, "the API terms of service are not accepted"),
    ("authorization_error", "INCOMPLETE_SIGNUP"): (LIVE, "the Google Ads signup is incomplete"),
    ("authorization_error", "SERVICE_ACCESS_DENIED"): (LIVE, "access to this service is denied"),
    ("authentication_error", "AUTHENTICATION_ERROR"): (INVALID, "authentication failed"),
    ("authentication_error", "GOOGLE_ACCOUNT_COOKIE_INVALID"): (
        INVALID,
        "the account cookie is invalid",
    ),
    ("authentication_error", "GOOGLE_ACCOUNT_AUTHENTICATION_FAILED"): (
        INVALID,
        "the Google account failed to authenticate",
    ),
    ("authentication_error", "LOGIN_COOKIE_REQUIRED"): (INVALID, "a login cookie is required"),
    ("authentication_error", "LOGIN_COOKIE_INVALID"): (INVALID, "the login cookie is invalid"),
    ("authentication_error", "USER_ID_INVALID"): (INVALID, "the user id is invalid"),
    ("authentication_error", "CLIENT_CUSTOMER_ID_INVALID"): (
        LIVE,
        "the credentials authenticate; the customer id sent was invalid",
    ),
    ("authentication_error", "CUSTOMER_NOT_FOUND"): (
        LIVE,
        "the credentials authenticate; the customer was not found",
    ),
    ("authentication_error", "GOOGLE_ACCOUNT_USER_AND_ADS_USER_MISMATCH"): (
        LIVE,
        "the Google account and the Ads user differ",
    ),
    ("authentication_error", "INVALID_EMAIL_ADDRESS"): (
        LIVE,
        "the account's email address is invalid",
    ),
    ("authentication_error", "ORGANIZATION_NOT_RECOGNIZED"): (
        LIVE,
        "the Cloud organization is not recognized",
    ),
    ("authentication_error", "ORGANIZATION_NOT_APPROVED"): (
        LIVE,
        "the Cloud organization is not approved",
    ),
    ("authentication_error", "ORGANIZATION_NOT_ASSOCIATED_WITH_DEVELOPER_TOKEN"): (
        LIVE,
        "the Cloud organization is not associated with the developer token",
    ),
    ("authorization_error", "AUTHORIZATION_ERROR"): (
        LIVE,
        "the credentials authenticate but are not authorized",
    ),
    ("authorization_error", "ACTION_NOT_PERMITTED"): (LIVE, "the action is not permitted"),
    ("authorization_error", "INVALID_LOGIN_CUSTOMER_ID_SERVING_CUSTOMER_ID_COMBINATION"): (
        LIVE,
        "the login customer id cannot serve this customer",
    ),
    ("authorization_error", "ACCESS_DENIED_FOR_ACCOUNT_TYPE"): (
        LIVE,
        "access is denied for this account type",
    ),
    ("authorization_error", "METRIC_ACCESS_DENIED"): (LIVE, "access to the metric is denied"),
    ("authorization_error", "ACTION_NOT_PERMITTED_FOR_SUSPENDED_ACCOUNT"): (
        LIVE,
        "the account is suspended",
    ),
}


@dataclass(frozen=True)
class ReachResult:
    status: str  # live: the credentials work (customers may be empty); invalid; unknown
    reason: str
    customers: tuple[str, ...] | None = None


class ReachChecker:
    def __init__(self, settings: VerifySettings, limiter: RateLimiter) -> None:
        self.settings = settings
        self.limiter = limiter

    def accessible_customers(self, access_token: str, developer_token: str | None) -> ReachResult:
        from google.ads.googleads.errors import GoogleAdsException
        from google.api_core import exceptions as api

        settings = self.settings
        for attempt in range(settings.max_retries + 1):
            self.limiter.wait()
            try:
                customers = self._call(access_token, developer_token)
            except GoogleAdsException as exc:
                result, delay = _from_failure(exc)
            except (api.ResourceExhausted, api.TooManyRequests) as exc:
                result, delay = (
                    ReachResult(UNKNOWN, "rate limited by the Google Ads API"),
                    _delay(exc),
                )
            except (api.DeadlineExceeded, api.ServiceUnavailable, api.RetryError):
                return ReachResult(
                    UNKNOWN, f"the Google Ads API gave no answer within {settings.timeout:g}s"
                )
            except api.Unauthenticated:
                return ReachResult(
                    INVALID, "the Google Ads API rejected the credentials (unauthenticated)"
                )
            except api.GoogleAPICallError as exc:
                return ReachResult(
                    UNKNOWN, f"unexpected Google Ads API answer ({type(exc).__name__})"
                )
            else:
                ids = tuple(sorted(name.split("/")[-1] for name in customers))
                return ReachResult(
                    LIVE, f"the credentials open {len(ids)} Google Ads account(s)", ids
                )
            if delay is None or attempt == settings.max_retries:
                return result
            time.sleep(min(delay, settings.max_retry_delay))
        return ReachResult(UNKNOWN, "rate limited by the Google Ads API")

    def _call(self, access_token: str, developer_token: str | None) -> list[str]:
        from google.ads.googleads.client import GoogleAdsClient
        from google.oauth2.credentials import Credentials

        credentials_class: Any = Credentials
        client = GoogleAdsClient(
            credentials=credentials_class(token=access_token),
            developer_token=developer_token or None,
            endpoint=self.settings.ads_endpoint,
            use_proto_plus=True,
        )
        service = client.get_service("CustomerService")
        response = service.list_accessible_customers(timeout=self.settings.timeout)
        return list(response.resource_names)


def _from_failure(exc: Any) -> tuple[ReachResult, float | None]:
    """Map a GoogleAdsException: the first error the table knows decides; quota means retry."""
    for error in exc.failure.errors:
        kind = error.error_code._pb.WhichOneof("error_code")
        name = getattr(error.error_code, kind).name if kind else ""
        if kind == "quota_error":
            delay = error.details.quota_error_details.retry_delay
            seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else 0.0
            return ReachResult(UNKNOWN, f"Google Ads API quota exhausted ({name})"), seconds or 1.0
        if (kind, name) in FAILURES:
            status, sentence = FAILURES[(kind, name)]
            return ReachResult(status, f"{sentence} ({name})", () if status == LIVE else None), None
    code = exc.error.code().name if hasattr(exc.error, "code") else "?"
    return ReachResult(UNKNOWN, f"unexpected Google Ads API failure ({code})"), None


def _delay(exc: Any) -> float:
    for detail in getattr(exc, "details", None) or []:
        seconds = getattr(getattr(detail, "retry_delay", None), "seconds", None)
        if seconds:
            return float(seconds)
    return 1.0
