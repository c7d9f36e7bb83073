"""Where responders send: the user's environment or `[respond]` config, never scanned content.

Each value comes from its DEVTOKEN_* variable, else from the `[respond]` table; a bad value is a
`ValueError` naming the variable (or table key) it came from, so the CLI exits 2 with one line.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
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
    timeout: float = 10.0  # seconds, each delivery
    deadline: float = 60.0  # seconds, the whole run: what is not done by then waits for the next
    concurrency: int = 8  # deliveries in flight at once
    backoff: float = 60.0  # seconds before a failed delivery is retried, doubling per attempt


# table key -> environment variable; the only keys a `[respond]` table may hold
VARIABLES: dict[str, str] = {
    "webhook_url": "DEVTOKEN_WEBHOOK_URL",
    "webhook_format": "DEVTOKEN_WEBHOOK_FORMAT",
    "smtp_host": "DEVTOKEN_SMTP_HOST",
    "smtp_port": "DEVTOKEN_SMTP_PORT",
    "smtp_from": "DEVTOKEN_SMTP_FROM",
    "smtp_to": "DEVTOKEN_SMTP_TO",
    "smtp_starttls": "DEVTOKEN_SMTP_STARTTLS",
    "smtp_user": "DEVTOKEN_SMTP_USER",
    "github_repo": "DEVTOKEN_GITHUB_REPO",
    "github_api": "DEVTOKEN_GITHUB_API",
    "revoke_url": "DEVTOKEN_REVOKE_URL",
    "timeout": "DEVTOKEN_RESPOND_TIMEOUT",
    "deadline": "DEVTOKEN_RESPOND_DEADLINE",
    "concurrency": "DEVTOKEN_RESPOND_CONCURRENCY",
    "backoff": "DEVTOKEN_RESPOND_BACKOFF",
}
TABLE_KEYS = frozenset(VARIABLES)


def respond_settings(
    env: Mapping[str, str], table: Mapping[str, Any] | None = None
) -> RespondSettings:
    table = dict(table or {})
    unknown = sorted(set(table) - TABLE_KEYS)
    if unknown:
        raise ValueError(
            f"unknown [respond] setting(s): {', '.join(unknown)} "
            f"(known: {', '.join(sorted(TABLE_KEYS))})"
        )
    values: dict[str, Any] = {}
    for key, variable in VARIABLES.items():
        raw: Any = env.get(variable)
        source = variable
        if raw in (None, ""):
            raw, source = table.get(key), f"[respond] {key}"
        if raw is not None:
            parse: Callable[[Any, str], Any] = _PARSERS.get(key, _text)
            values[key] = parse(raw, source)
    values["smtp_password"] = env.get("DEVTOKEN_SMTP_PASSWORD") or None
    values["github_token"] = env.get("GITHUB_TOKEN") or env.get("DEVTOKEN_GITHUB_TOKEN") or None
    return RespondSettings(**values)


def _text(raw: Any, source: str) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"{source} must be text, not {raw!r}")
    return raw


def _number(low: float, high: float, kind: type) -> Callable[[Any, str], Any]:
    def parse(raw: Any, source: str) -> Any:
        try:
            if isinstance(raw, bool):
                raise ValueError
            value = kind(raw.strip() if isinstance(raw, str) else raw)
        except (TypeError, ValueError):
            value = None
        if value is None or not low <= value <= high or (kind is int and value != float(raw)):
            unit = "a whole number" if kind is int else "a number"
            raise ValueError(f"{source} must be {unit} from {low:g} to {high:g}, not {raw!r}")
        return value

    return parse


def _url(raw: Any, source: str) -> str:
    text = _text(raw, source)
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{source} must be an http(s) URL, not {text!r}")
    return text


def _format(raw: Any, source: str) -> str:
    text = _text(raw, source)
    if text not in ("slack", "json"):
        raise ValueError(f"{source} must be slack or json, not {text!r}")
    return text


def _recipients(raw: Any, source: str) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValueError(f"{source} must be addresses separated by commas, not {raw!r}")
    addresses = tuple(i.strip() for i in items if i.strip())
    bad = [a for a in addresses if any(c in a for c in "\r\n")]
    if bad:
        raise ValueError(f"{source}: not an e-mail address: {bad[0]!r}")
    return addresses


def _flag(raw: Any, source: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{source} must be true or false, not {raw!r}")


def _header_safe(raw: Any, source: str) -> str:
    text = _text(raw, source)
    if any(c in text for c in "\r\n"):
        raise ValueError(f"{source} must be one line")
    return text


_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "webhook_url": _url,
    "github_api": _url,
    "revoke_url": _url,
    "webhook_format": _format,
    "smtp_port": _number(1, 65535, int),
    "smtp_to": _recipients,
    "smtp_from": _header_safe,
    "smtp_starttls": _flag,
    "timeout": _number(0.1, 3600, float),
    "deadline": _number(0.1, 86400, float),
    "concurrency": _number(1, 64, int),
    "backoff": _number(0, 86400, float),
}
