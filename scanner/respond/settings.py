"""Where responders send: the user's environment or `[respond]` config, never scanned content."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

GOOGLE_REVOKE_URL = "https://oauth2.googleapis.com/revoke"
GITHUB_API = "https://api.github.com"


@dataclass(frozen=True)
class RespondSettings:
    webhook_url: str | None = None
    webhook_format: str = "slack"  # slack | json
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "devtoken@localhost"
    smtp_to: tuple[str, ...] = field(default=())
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    github_repo: str | None = None  # owner/name
    github_api: str = GITHUB_API
    github_token: str | None = None
    revoke_url: str = GOOGLE_REVOKE_URL
    timeout: float = 10.0


def respond_settings(
    env: Mapping[str, str], table: Mapping[str, Any] | None = None
) -> RespondSettings:
    table = dict(table or {})

    def get(key: str, variable: str) -> Any:
        value = env.get(variable)
        return value if value not in (None, "") else table.get(key)

    values: dict[str, Any] = {}
    for key, variable in (
        ("webhook_url", "DEVTOKEN_WEBHOOK_URL"),
        ("webhook_format", "DEVTOKEN_WEBHOOK_FORMAT"),
        ("smtp_host", "DEVTOKEN_SMTP_HOST"),
        ("smtp_from", "DEVTOKEN_SMTP_FROM"),
        ("smtp_user", "DEVTOKEN_SMTP_USER"),
        ("github_repo", "DEVTOKEN_GITHUB_REPO"),
        ("github_api", "DEVTOKEN_GITHUB_API"),
        ("revoke_url", "DEVTOKEN_REVOKE_URL"),
    ):
        value = get(key, variable)
        if value is not None:
            values[key] = str(value)
    port = get("smtp_port", "DEVTOKEN_SMTP_PORT")
    if port is not None:
        values["smtp_port"] = int(port)
    recipients = get("smtp_to", "DEVTOKEN_SMTP_TO")
    if recipients:
        values["smtp_to"] = tuple(
            recipients.split(",") if isinstance(recipients, str) else recipients
        )
    starttls = get("smtp_starttls", "DEVTOKEN_SMTP_STARTTLS")
    if starttls is not None:
        values["smtp_starttls"] = str(starttls).lower() in ("1", "true", "yes")
    values["smtp_password"] = env.get("DEVTOKEN_SMTP_PASSWORD")
    values["github_token"] = env.get("GITHUB_TOKEN") or env.get("DEVTOKEN_GITHUB_TOKEN")
    return RespondSettings(**values)
