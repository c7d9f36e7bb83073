"""Where and how fast verification may call: from the user's environment or config only.

Nothing found in scanned content (a service-account file's `token_uri`, a URL
next to a token, a `.devtoken.toml` in the scanned tree) ever reaches these
settings, so a planted file cannot send leaked credentials to an attacker's
server. The [verify] table handed in comes from trusted config files only
(scanner.config drops it from a repository config). Keys, variables, checks and
defaults are rows of scanner.config_schema.SCHEMA; this is a typed view of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scanner.config_schema import defaults, resolve_table

_DEFAULT = defaults("verify")
GOOGLE_TOKEN_URL: str = _DEFAULT["token_url"]


@dataclass(frozen=True)
class VerifySettings:
    token_url: str = GOOGLE_TOKEN_URL
    ads_endpoint: str | None = _DEFAULT["ads_endpoint"]  # None: the google-ads client's default
    timeout: float = _DEFAULT["timeout"]  # seconds, every call
    requests_per_second: float = _DEFAULT["requests_per_second"]
    concurrency: int = _DEFAULT["concurrency"]
    max_retries: int = _DEFAULT["max_retries"]  # on rate limits, honouring the server's delay
    max_retry_delay: float = _DEFAULT["max_retry_delay"]


def settings_from(
    env: Mapping[str, str], config: Mapping[str, Any] | None = None
) -> VerifySettings:
    """DEVTOKEN_* environment variables (an empty one is unset) win over the [verify] table.

    Both pass the same schema check as a config file (a URL must be http(s), a limit
    positive), so a typo is a one-line ConfigError, never a silent default.
    """
    return VerifySettings(**resolve_table("verify", env, config))
