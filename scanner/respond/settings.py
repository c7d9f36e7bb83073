"""Where responders send: the user's environment or `[respond]` config, never scanned content.

Each value comes from its DEVTOKEN_* variable (an empty one is unset), else from the `[respond]`
table, else its default; a bad value is a one-line ConfigError naming the variable (or table
key) it came from, so the CLI exits 2. Keys, variables, checks and defaults are rows of
scanner.config_schema.SCHEMA; this is a typed view of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scanner.config_schema import SCHEMA, defaults, resolve_table

_DEFAULT = defaults("respond")
GOOGLE_REVOKE_URL: str = _DEFAULT["revoke_url"]
GITHUB_API: str = _DEFAULT["github_api"]


@dataclass(frozen=True)
class RespondSettings:
    webhook_url: str | None = None
    webhook_format: str = _DEFAULT["webhook_format"]  # slack | json
    smtp_host: str | None = None
    smtp_port: int = _DEFAULT["smtp_port"]
    smtp_from: str = _DEFAULT["smtp_from"]
    smtp_to: tuple[str, ...] = _DEFAULT["smtp_to"]
    smtp_starttls: bool = _DEFAULT["smtp_starttls"]
    smtp_user: str | None = None
    smtp_password: str | None = None  # environment only
    github_repo: str | None = None  # owner/name
    github_api: str = GITHUB_API
    github_token: str | None = None  # environment only
    revoke_url: str = GOOGLE_REVOKE_URL
    timeout: float = _DEFAULT["timeout"]  # seconds, each delivery
    deadline: float = _DEFAULT["deadline"]  # seconds, the whole run
    concurrency: int = _DEFAULT["concurrency"]  # deliveries in flight at once
    backoff: float = _DEFAULT["backoff"]  # seconds before a failed delivery is retried


# the keys a `[respond]` table may hold (the secrets come from the environment only)
TABLE_KEYS = frozenset(
    name.partition(".")[2]
    for name, key in SCHEMA.items()
    if name.startswith("respond.") and not key.env_only
)


def respond_settings(
    env: Mapping[str, str], table: Mapping[str, Any] | None = None
) -> RespondSettings:
    return RespondSettings(**resolve_table("respond", env, table))
