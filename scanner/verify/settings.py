"""Where and how fast verification may call: from the user's environment or config only.

Nothing found in scanned content (a service-account file's `token_uri`, a URL
next to a token, a `.devtoken.toml` in the scanned tree) ever reaches these
settings, so a planted file cannot send leaked credentials to an attacker's
server. The [verify] table handed in comes from trusted config files only
(scanner.config drops it from a repository config).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scanner.config_schema import check_value

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True)
class VerifySettings:
    token_url: str = GOOGLE_TOKEN_URL
    ads_endpoint: str | None = (
        None  # None: the google-ads client's default (googleads.googleapis.com)
    )
    timeout: float = 10.0  # seconds, every call
    requests_per_second: float = 5.0
    concurrency: int = 4
    max_retries: int = 2  # on rate limits, honouring the server's retry delay
    max_retry_delay: float = 30.0


def settings_from(
    env: Mapping[str, str], config: Mapping[str, Any] | None = None
) -> VerifySettings:
    """DEVTOKEN_* environment variables win over the trusted config's [verify] table.

    Both pass the same schema check as a config file (a URL must be http(s), a
    limit positive), so a typo is a one-line error, never a silent default.
    """
    table = dict(config or {})

    def pick(key: str, variable: str) -> Any:
        return env.get(variable, table.get(key))

    values: dict[str, Any] = {}
    for key, variable, kind in (
        ("token_url", "DEVTOKEN_OAUTH_TOKEN_URL", str),
        ("ads_endpoint", "DEVTOKEN_GOOGLE_ADS_ENDPOINT", str),
        ("timeout", "DEVTOKEN_VERIFY_TIMEOUT", float),
        ("requests_per_second", "DEVTOKEN_VERIFY_RPS", float),
        ("concurrency", "DEVTOKEN_VERIFY_CONCURRENCY", int),
        ("max_retries", "DEVTOKEN_VERIFY_RETRIES", int),
        ("max_retry_delay", "DEVTOKEN_VERIFY_MAX_RETRY_DELAY", float),
    ):
        raw = pick(key, variable)
        if raw is not None and raw != "":
            try:
                value = kind(raw) if isinstance(raw, str) else raw
            except ValueError:
                raise ValueError(
                    f"{variable} / [verify] {key}: not a valid {kind.__name__}: {raw!r}"
                ) from None
            values[key] = check_value(f"verify.{key}", value, variable)
    return VerifySettings(**values)


def default_settings() -> VerifySettings:
    return settings_from(os.environ)
