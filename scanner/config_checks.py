"""Value checks for the settings table (scanner.config_schema): each returns the normalised
value or raises ValueError, and the table says what was expected; `from_env` helpers turn a
DEVTOKEN_* variable's text into the value a config file would hold."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from scanner.errors import ConfigError

_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$")
_OWNER_NAME = re.compile(r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+$")
SIZE_HELP = 'a size such as "100MiB", "512k" or a whole number of bytes (0: no limit)'


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


def text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError
    return value


def path(value: object) -> str:
    """A path to open; control characters in one are a mistake or an attack on the terminal."""
    if not text(value).isprintable():
        raise ValueError
    return str(value)


def globs(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError
    return tuple(value)


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def url(value: object) -> str:
    parts = urlsplit(text(value))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError
    return str(value)


def host_port(value: object) -> str:
    if not _HOST_PORT.match(text(value)):
        raise ValueError
    return str(value)


def number(minimum: float, strict: bool) -> Callable[[object], float]:
    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            raise ValueError
        return float(value)

    return check


def whole(minimum: int, maximum: int | None = None) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError
        if maximum is not None and value > maximum:
            raise ValueError
        return value

    return check


def choice(*choices: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if value not in choices:
            raise ValueError
        return str(value)

    return check


def owner_name(value: object) -> str:
    if not _OWNER_NAME.match(text(value)):
        raise ValueError
    return str(value)


def one_line(value: object) -> str:
    """Text that goes into a mail header or a request line: no line breaks."""
    line = text(value)
    if any(c in line for c in "\r\n"):
        raise ValueError
    return line


def recipients(value: object) -> tuple[str, ...]:
    """Addresses as a list or separated by commas; at least one; each on one line."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValueError
    addresses = tuple(item.strip() for item in items if item.strip())
    if not addresses or any(c in a for a in addresses for c in "\r\n"):
        raise ValueError
    return addresses


def between(low: float, high: float, integer: bool = False) -> Callable[[object], float]:
    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError
        if integer and not isinstance(value, int):
            raise ValueError
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError
        return value if integer else float(value)

    return check


# How a DEVTOKEN_* variable's text becomes the value a config file would hold.
def env_text(text: str) -> object:
    return text


def env_int(text: str) -> object:
    try:
        return int(text.strip())
    except ValueError:
        return text  # the check refuses it, naming the variable


def env_float(text: str) -> object:
    try:
        return float(text.strip())
    except ValueError:
        return text


def env_bool(text: str) -> object:
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    return text
