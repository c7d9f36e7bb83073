"""Verify each unique credential bundle once, within concurrency and rate limits."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from scanner.bundles import Bundle
from scanner.digests import sha256
from scanner.verify.limits import RateLimiter
from scanner.verify.oauth import OAuthChecker, OAuthResult
from scanner.verify.outcomes import (
    BARE_DEVELOPER_TOKEN,
    INVALID,
    LIVE,
    NOT_CHECKED_BY_RULE,
    TOKEN_WITH_OAUTH,
    UNKNOWN,
    UNVERIFIABLE,
    BundleVerification,
    Verification,
)
from scanner.verify.reach import ReachChecker, ReachResult
from scanner.verify.settings import VerifySettings

T = TypeVar("T")

# what the lazy imports in oauth.py and reach.py need; from the `verify` extra
VERIFY_MODULES = ("google.auth", "google.ads.googleads")


def missing_verify_extra() -> str | None:
    """Why --verify cannot run here (one line), or None when the `verify` extra is importable.

    `find_spec` of a dotted name imports its parents, so a missing or broken `google` package
    raises ImportError rather than returning None; either way it is a usage error, not a crash.
    """
    for name in VERIFY_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return (
                f"--verify needs the Google Ads client ({name} cannot be imported): "
                "pip install 'devtoken[verify]'"
            )
    return None


class Verifier:
    def __init__(self, settings: VerifySettings) -> None:
        limiter = RateLimiter(settings.requests_per_second)
        self.settings = settings
        self.oauth = OAuthChecker(settings, limiter)
        self.reach = ReachChecker(settings, limiter)
        self._cache: dict[str, BundleVerification] = {}
        self._calls: dict[str, object] = {}
        self._gates: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def verify_all(self, bundles: Iterable[Bundle]) -> dict[str, BundleVerification]:
        unique = {bundle.id: bundle for bundle in bundles}
        with ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency)) as pool:
            results = pool.map(self.verify, unique.values())
            return {result.bundle_id: result for result in results}

    def verify(self, bundle: Bundle) -> BundleVerification:
        if bundle.id in self._cache:
            return self._cache[bundle.id]
        result = self._verify(bundle)
        self._cache[bundle.id] = result
        return result

    def _verify(self, bundle: Bundle) -> BundleVerification:
        client_id, client_secret = _clear(bundle, "client_id"), _clear(bundle, "client_secret")
        refresh, key = _clear(bundle, "refresh_token"), _clear(bundle, "service_account_key")
        oauth: OAuthResult | None = None
        if key:
            email = bundle.attribute("client_email")
            oauth = self._once("sa", key, lambda: self.oauth.service_account(key, email))
        elif refresh and client_id and client_secret:
            oauth = self._once(
                "rt",
                refresh + client_id + client_secret,
                lambda: self.oauth.refresh(client_id, client_secret, refresh),
            )
        elif client_id and client_secret:
            oauth = self._once(
                "cp",
                client_id + client_secret,
                lambda: self.oauth.client_pair(client_id, client_secret),
            )
        token = (
            oauth.access_token if oauth and oauth.access_token else _clear(bundle, "access_token")
        )
        reach = None
        if token:
            developer_token = bundle.clear_value("developer_token")
            reach = self._once(
                "reach", token, lambda: self.reach.accessible_customers(token, developer_token)
            )
        outcome = _bundle_outcome(bundle, oauth, reach)
        members = {
            f.fingerprint: _member(f.rule.role or "", f.rule.verify, oauth, reach, outcome, bundle)
            for f in bundle.members
        }
        return BundleVerification(bundle.id, outcome, members)

    def _once(self, kind: str, material: str, call: Callable[[], T]) -> T:
        """One network check per unique credential per run, whatever bundles share it.

        Bundles checked at the same time that share a credential wait for the first one's
        call (the same credentials in two files are two bundles, checked once).
        """
        key = kind + sha256(material.encode()).hexdigest()
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:
            if key not in self._calls:
                self._calls[key] = call()
            return self._calls[key]  # type: ignore[return-value]


def _clear(bundle: Bundle, role: str) -> str | None:
    """The value a check of `role` uses: only from a member whose rule asks to be checked."""
    secret = bundle.secret(role)
    return secret.reveal() if secret else None


def _bundle_outcome(
    bundle: Bundle, oauth: OAuthResult | None, reach: ReachResult | None
) -> Verification:
    if oauth is None and reach is None:
        if bundle.roles == ["developer_token"]:
            return Verification(UNVERIFIABLE, BARE_DEVELOPER_TOKEN)
        return Verification(UNVERIFIABLE, _missing_material(bundle.roles))
    if reach is not None and (oauth is None or oauth.status == LIVE):
        if reach.status == LIVE:
            prefix = f"{oauth.reason}; " if oauth else ""
            return Verification(LIVE, prefix + reach.reason, reach.customers or ())
        if oauth is not None:  # OAuth works, the Ads call did not
            return Verification(
                LIVE, f"{oauth.reason}; Google Ads reach not confirmed: {reach.reason}"
            )
        return Verification(reach.status, reach.reason)
    assert oauth is not None
    return Verification(oauth.status, oauth.reason)


def _member(
    role: str,
    check: str,
    oauth: OAuthResult | None,
    reach: ReachResult | None,
    outcome: Verification,
    bundle: Bundle,
) -> Verification:
    if role == "developer_token":
        others = [r for r in bundle.roles if r not in ("developer_token", "client_id")]
        return Verification(UNVERIFIABLE, TOKEN_WITH_OAUTH if others else BARE_DEVELOPER_TOKEN)
    if role and check == "none":
        return Verification(UNVERIFIABLE, NOT_CHECKED_BY_RULE)
    if role in ("client_id", "client_secret"):
        if oauth is None or oauth.client_status is None:
            status = UNKNOWN if oauth and oauth.status == UNKNOWN else UNVERIFIABLE
            return Verification(status, oauth.reason if oauth else _missing_material(bundle.roles))
        return Verification(oauth.client_status, oauth.reason)
    if role in ("refresh_token", "service_account_key"):
        if oauth is None:
            return Verification(UNVERIFIABLE, _missing_material(bundle.roles))
        if oauth.status == INVALID and oauth.client_status == INVALID:
            return Verification(
                UNVERIFIABLE, "its OAuth client is rejected, so the token cannot be judged"
            )
        return Verification(oauth.status, oauth.reason, outcome.reach)
    if role == "access_token":
        if reach is None:
            return Verification(UNVERIFIABLE, "no access token call was made")
        if oauth is not None and oauth.access_token:
            return Verification(
                UNVERIFIABLE, "the bundle was checked with a freshly minted token instead"
            )
        return Verification(reach.status, reach.reason, reach.customers)
    return outcome


def _missing_material(roles: list[str]) -> str:
    have = ", ".join(roles)
    return (
        f"not enough OAuth material to check ({have}): a refresh token needs its client id and "
        "secret; a client secret needs its client id"
    )
