"""Verification outcomes and results (plain frozen data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LIVE, INVALID, UNVERIFIABLE, UNKNOWN, SKIPPED = (
    "live",
    "invalid",
    "unverifiable",
    "unknown",
    "skipped",
)
OUTCOMES = (LIVE, INVALID, UNVERIFIABLE, UNKNOWN, SKIPPED)

BARE_DEVELOPER_TOKEN = (
    "developer tokens are ignored by the Google Ads API since 2026-09-09 (access follows the "
    "Cloud project of the OAuth credentials); no OAuth material found with it"
)
TOKEN_WITH_OAUTH = (
    "developer tokens are ignored by the Google Ads API since 2026-09-09; it leaked with OAuth "
    "credentials, which are what was checked: reset the token anyway and rotate those"
)

NOT_CHECKED_BY_RULE = 'its rule asks for no check (verify = "none")'


@dataclass(frozen=True)
class Verification:
    status: str  # one of OUTCOMES
    reason: str
    reach: tuple[str, ...] | None = None  # customer ids the credentials open, when checked

    def __post_init__(self) -> None:
        if self.status not in OUTCOMES:
            raise ValueError(f"not an outcome: {self.status}")

    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"status": self.status, "reason": self.reason}
        if self.reach is not None:
            record["reach"] = list(self.reach)
        return record


@dataclass(frozen=True)
class BundleVerification:
    bundle_id: str
    outcome: Verification
    members: dict[str, Verification] = field(default_factory=dict)  # by finding fingerprint
