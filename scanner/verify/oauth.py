"""The OAuth checks: refresh grant, client-pair probe, service-account JWT grant.

Google answers `invalid_grant` when the client authenticated but the grant is
bad, and `invalid_client` when the client id/secret pair is wrong; that is
what tells a live client pair from a dead one without a user's consent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from scanner.verify.http import HttpAnswer, NetworkFailure, post_form
from scanner.verify.limits import RateLimiter
from scanner.verify.outcomes import INVALID, LIVE, UNKNOWN, UNVERIFIABLE
from scanner.verify.settings import VerifySettings

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ADS_SCOPE = "https://www.googleapis.com/auth/adwords"
PROBE_CODE = "devtoken-verification-probe-not-a-real-code"


@dataclass(frozen=True)
class OAuthResult:
    status: str
    reason: str
    client_status: str | None = None  # what the answer says about the client id/secret pair
    access_token: str | None = None  # only from a live grant; never printed


class OAuthChecker:
    def __init__(self, settings: VerifySettings, limiter: RateLimiter) -> None:
        self.settings = settings
        self.limiter = limiter

    def refresh(self, client_id: str, client_secret: str, refresh_token: str) -> OAuthResult:
        answer = self._post(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": client_id,
                "client_secret": client_secret,
            }
        )
        return _grant_result(answer, "refresh token")

    def client_pair(self, client_id: str, client_secret: str) -> OAuthResult:
        answer = self._post(
            {
                "grant_type": "authorization_code",
                "code": PROBE_CODE,
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uri": "http://127.0.0.1",
            }
        )
        if isinstance(answer, OAuthResult):
            return answer
        error = str(answer.body.get("error", ""))
        if error in ("invalid_grant", "redirect_uri_mismatch", "unauthorized_client"):
            return OAuthResult(
                LIVE, f"the client id/secret pair authenticates ({error} for a probe code)", LIVE
            )
        if error == "invalid_client":
            return OAuthResult(
                INVALID, "the client id/secret pair is rejected (invalid_client)", INVALID
            )
        return _unexpected(answer)

    def service_account(self, private_key: str, client_email: str | None) -> OAuthResult:
        if not client_email:
            return OAuthResult(UNVERIFIABLE, "no client_email found next to the private key")
        try:
            assertion = _signed_assertion(private_key, client_email, self.settings.token_url)
        except ValueError:
            return OAuthResult(UNVERIFIABLE, "the private key does not parse as an RSA key")
        answer = self._post({"grant_type": JWT_BEARER, "assertion": assertion})
        return _grant_result(answer, "service-account key")

    def _post(self, fields: dict[str, str]) -> HttpAnswer | OAuthResult:
        """POST with rate limiting and retry-after backoff; network trouble is UNKNOWN."""
        settings = self.settings
        for attempt in range(settings.max_retries + 1):
            self.limiter.wait()
            try:
                answer = post_form(settings.token_url, fields, settings.timeout)
            except NetworkFailure as failure:
                return OAuthResult(UNKNOWN, f"OAuth endpoint: {failure}")
            if answer.status != 429 and answer.status < 500:
                return answer
            if attempt < settings.max_retries:
                time.sleep(min(answer.retry_after or 2.0**attempt, settings.max_retry_delay))
        what = "rate limited" if answer.status == 429 else f"server error {answer.status}"
        return OAuthResult(UNKNOWN, f"OAuth endpoint {what} after {settings.max_retries + 1} tries")


def _grant_result(answer: HttpAnswer | OAuthResult, what: str) -> OAuthResult:
    if isinstance(answer, OAuthResult):
        return answer
    token = answer.body.get("access_token")
    if answer.status == 200 and isinstance(token, str) and token:
        return OAuthResult(LIVE, f"the {what} grants access tokens", LIVE, access_token=token)
    error = str(answer.body.get("error", ""))
    if error == "invalid_grant":
        detail = str(answer.body.get("error_description", "revoked, expired or deleted"))[:80]
        return OAuthResult(INVALID, f"the {what} is rejected (invalid_grant: {detail})", LIVE)
    if error in ("invalid_client", "unauthorized_client"):
        return OAuthResult(INVALID, f"its OAuth client is rejected ({error})", INVALID)
    return _unexpected(answer)


def _unexpected(answer: HttpAnswer) -> OAuthResult:
    error = str(answer.body.get("error", "")) or "no error code"
    return OAuthResult(UNKNOWN, f"unexpected OAuth answer: HTTP {answer.status}, {error}")


def _signed_assertion(private_key: str, client_email: str, audience: str) -> str:
    from google.auth import crypt, jwt

    key = private_key.replace("\\n", "\n")
    signer_class: Any = crypt.RSASigner
    encode: Any = jwt.encode
    try:
        signer = signer_class.from_string(key)
    except Exception as exc:
        raise ValueError("unparseable key") from exc
    now = int(time.time())
    payload = {
        "iss": client_email,
        "scope": ADS_SCOPE,
        "aud": audience,
        "iat": now,
        "exp": now + 300,
    }
    return str(encode(signer, payload).decode())
