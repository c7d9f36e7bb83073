"""The one schema every config file is checked against: each key's type and who may set it.

A key marked `repository` may come from a `.devtoken.toml` found in the
scanned tree: those keys only narrow what is scanned or reported (the
repository's own fixtures, its allow-lists). Everything else (rules,
verification and responder endpoints and limits) is trusted-only: it comes
from `--config FILE`, the user's config or the environment, never from
scanned content.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scanner.errors import ConfigError as ConfigError  # its old home

_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$")
_OWNER_NAME = re.compile(r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+$")
_SIZE_HELP = 'a size such as "100MiB", "512k" or a whole number of bytes (0: no limit)'


def parse_size(text: object) -> int:
    """'100MiB', '512k', '0' or a non-negative int of bytes."""
    if isinstance(text, int) and not isinstance(text, bool) and text >= 0:
        return text
    match = _SIZE.match(text) if isinstance(text, str) else None
    if not match:
        raise ConfigError(f"not a size: {shown(text)} (e.g. 100MiB, 512k, 0 for no limit)")
    return int(match.group(1)) * _UNITS[(match.group(2) or "")[:1].lower()]


def shown(value: object, limit: int = 60) -> str:
    """A value for a one-line message: repr escapes control and bidi characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_text(text: str) -> str:
    """`text` as is when it is plain, else escaped: config values reach a terminal."""
    return text if text.isprintable() else repr(text)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError
    return value


def _path(value: object) -> str:
    """A path to open; control characters in one are a mistake or an attack on the terminal."""
    if not _text(value).isprintable():
        raise ValueError
    return str(value)


def _globs(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError
    return tuple(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _url(value: object) -> str:
    parts = urlsplit(_text(value))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError
    return str(value)


def _host_port(value: object) -> str:
    if not _HOST_PORT.match(_text(value)):
        raise ValueError
    return str(value)


def _number(minimum: float, strict: bool) -> Callable[[object], float]:
    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            raise ValueError
        return float(value)

    return check


def _whole(minimum: int, maximum: int | None = None) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError
        if maximum is not None and value > maximum:
            raise ValueError
        return value

    return check


def _choice(*choices: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if value not in choices:
            raise ValueError
        return str(value)

    return check


def _addresses(value: object) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError
    return tuple(_text(item).strip() for item in items)


def _owner_name(value: object) -> str:
    if not _OWNER_NAME.match(_text(value)):
        raise ValueError
    return str(value)


@dataclass(frozen=True)
class Key:
    check: Callable[[object], Any]  # the normalised value, or ValueError
    expected: str
    repository: bool = False  # may a config found in the scanned tree set it
    narrows: bool = False  # reduces what is scanned or reported: said when a repository sets it
    is_path: bool = False  # resolved against the config file's directory


_POSITIVE = "a number greater than 0"
SCHEMA: Mapping[str, Key] = {
    "exclude": Key(_globs, "a list of glob strings", repository=True, narrows=True),
    "max_file_size": Key(parse_size, _SIZE_HELP, repository=True, narrows=True),
    "scan_binary": Key(_bool, "true or false", repository=True),
    "baseline": Key(_path, "a file path", repository=True, narrows=True, is_path=True),
    "rules_dir": Key(_path, "a directory path", is_path=True),
    # decompression and archive bounds (0: no bound): trusted-only, since a scanned repository
    # that lifted them could make CI expand a bomb it ships
    "max_decompressed_size": Key(parse_size, _SIZE_HELP),
    "max_decompression_ratio": Key(_whole(0), "a whole number, 0 or more"),
    "max_archive_depth": Key(_whole(0), "a whole number, 0 or more"),
    "verify.token_url": Key(_url, "an http(s) URL"),
    "verify.ads_endpoint": Key(_host_port, "host or host:port"),
    "verify.timeout": Key(_number(0, strict=True), _POSITIVE),
    "verify.requests_per_second": Key(_number(0, strict=True), _POSITIVE),
    "verify.concurrency": Key(_whole(1), "a whole number, at least 1"),
    "verify.max_retries": Key(_whole(0), "a whole number, 0 or more"),
    "verify.max_retry_delay": Key(_number(0, strict=False), "a number, 0 or more"),
    "respond.webhook_url": Key(_url, "an http(s) URL"),
    "respond.webhook_format": Key(_choice("slack", "json"), '"slack" or "json"'),
    "respond.smtp_host": Key(_text, "a host name"),
    "respond.smtp_port": Key(_whole(1, 65535), "a port number (1-65535)"),
    "respond.smtp_from": Key(_text, "an e-mail address"),
    "respond.smtp_to": Key(_addresses, "a list of e-mail addresses"),
    "respond.smtp_starttls": Key(_bool, "true or false"),
    "respond.smtp_user": Key(_text, "a user name"),
    "respond.github_repo": Key(_owner_name, "owner/name"),
    "respond.github_api": Key(_url, "an http(s) URL"),
    "respond.revoke_url": Key(_url, "an http(s) URL"),
    "respond.timeout": Key(_number(0, strict=True), _POSITIVE),
    "respond.deadline": Key(_number(0, strict=True), _POSITIVE),
    "respond.concurrency": Key(_whole(1), "a whole number, at least 1"),
    "respond.backoff": Key(_number(0, strict=False), "a number, 0 or more"),
}
TABLES = frozenset(name.split(".")[0] for name in SCHEMA if "." in name)
# Secrets are never read from a file that may be committed: where each one comes from instead.
_ENV_ONLY = {
    "respond.smtp_password": "DEVTOKEN_SMTP_PASSWORD",
    "respond.github_token": "GITHUB_TOKEN or DEVTOKEN_GITHUB_TOKEN",
}


def check_value(name: str, value: object, where: str) -> Any:
    """One key's normalised value; a one-line ConfigError naming `where`, the key and the type."""
    key = SCHEMA[name]
    try:
        return key.check(value)
    except ValueError:
        raise ConfigError(
            f"{where}: {name} must be {key.expected}, not {_type_name(value)} {shown(value)}"
        ) from None


def flatten(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A parsed config file as dotted keys, refusing unknown keys and non-table tables."""
    flat: dict[str, Any] = {}
    unknown: list[str] = []
    for name, value in data.items():
        if name in TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{name}] must be a table, not {_type_name(value)}")
            flat.update({f"{name}.{sub}": item for sub, item in value.items()})
        else:
            flat[name] = value
    for name in flat:
        if name in _ENV_ONLY:
            raise ConfigError(
                f"{where}: {name} is a secret: set it in the environment ({_ENV_ONLY[name]}), "
                "not in a config file"
            )
        if name not in SCHEMA:
            unknown.append(safe_text(name))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s): {', '.join(sorted(unknown))}")
    return flat


def _type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "the string"}
    names.update({list: "a list", dict: "a table"})
    return names.get(type(value), type(value).__name__)
