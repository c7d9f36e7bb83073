"""The one table of settings: every config key and DEVTOKEN_* variable, checked one way.

Each row says a key's check, what a message calls it, its default, the variables that set
it (an empty variable is unset) and who may set it; config files (scanner.config) and the
[verify]/[respond] views (resolve_table) read it, so the same slip is said the same way:
"DEVTOKEN_SMTP_PORT must be a port number (1-65535), not 'abc'",
"FILE: [respond] smtp_port must be a port number (1-65535), not the string 'abc'".

A key marked `repository` may come from a `.devtoken.toml` found in the
scanned tree: those keys only narrow what is scanned or reported (the
repository's own fixtures, its allow-lists). Everything else (rules,
verification and responder endpoints and limits) is trusted-only: it comes
from `--config FILE`, the user's config or the environment, never from
scanned content.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from scanner import config_checks as checks
from scanner.config_checks import parse_size as parse_size
from scanner.config_checks import safe_text as safe_text
from scanner.config_checks import shown as shown
from scanner.errors import ConfigError as ConfigError  # its old home

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class Key:
    """One setting: its check, and where else than a config file it may come from."""

    check: Callable[[object], Any]  # the normalised value, or ValueError
    expected: str
    repository: bool = False  # may a config found in the scanned tree set it
    narrows: bool = False  # reduces what is scanned or reported: said when a repository sets it
    is_path: bool = False  # resolved against the config file's directory
    env: tuple[str, ...] = ()  # DEVTOKEN_* variables that set it (first set wins); empty = unset
    from_env: Callable[[str], object] = checks.env_text  # a variable's text as a config value
    default: Any = None  # what applies when neither a config file nor a variable sets it
    env_only: bool = False  # a secret: never from a file that may be committed
    in_files: bool = True  # False: only its variables set it (secrets, where the store is)


def _setting(
    check: Callable[[object], Any],
    expected: str,
    variable: str,
    default: Any = None,
    parse: Callable[[str], object] = checks.env_text,
) -> Key:
    """A trusted-only [verify] or [respond] key that a DEVTOKEN_* variable may set too."""
    return Key(check, expected, env=(variable,), from_env=parse, default=default)


def _secret(*variables: str) -> Key:
    """Any text at all: a message about a secret would have to show it."""
    return Key(_any_text, "a secret", env=variables, env_only=True, in_files=False)


def _any_text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value


def _table(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError
    return value


_POSITIVE = "a number greater than 0"
_URL = "an http(s) URL"
SCHEMA: Mapping[str, Key] = {
    "exclude": Key(checks.globs, "a list of glob strings", repository=True, narrows=True),
    "max_file_size": Key(checks.parse_size, checks.SIZE_HELP, repository=True, narrows=True),
    "scan_binary": Key(checks.boolean, "true or false", repository=True),
    "baseline": Key(checks.path, "a file path", repository=True, narrows=True, is_path=True),
    "rules_dir": Key(checks.path, "a directory path", is_path=True),
    # decompression and archive bounds (0: no bound): trusted-only, since a scanned repository
    # that lifted them could make CI expand a bomb it ships
    "max_decompressed_size": Key(checks.parse_size, checks.SIZE_HELP),
    "max_decompression_ratio": Key(checks.whole(0), "a whole number, 0 or more"),
    "max_archive_depth": Key(checks.whole(0), "a whole number, 0 or more"),
    # seconds one rule pattern may run in one search window (trusted-only: a repository that
    # raised it could stall CI on a pattern that backtracks)
    "rule_timeout": Key(checks.number(0, strict=True), _POSITIVE),
    # the org scan's sources and mirrors, one table parsed by scanner.org.config
    "org": Key(_table, "a table ([org])"),
    # where and how fast verification calls (scanner.verify.settings)
    "verify.token_url": _setting(
        checks.url, _URL, "DEVTOKEN_OAUTH_TOKEN_URL", "https://oauth2.googleapis.com/token"
    ),
    # None: the google-ads client's default (googleads.googleapis.com)
    "verify.ads_endpoint": _setting(
        checks.host_port, "host or host:port", "DEVTOKEN_GOOGLE_ADS_ENDPOINT"
    ),
    "verify.timeout": _setting(
        checks.number(0, strict=True), _POSITIVE, "DEVTOKEN_VERIFY_TIMEOUT", 10.0, checks.env_float
    ),
    "verify.requests_per_second": _setting(
        checks.number(0, strict=True), _POSITIVE, "DEVTOKEN_VERIFY_RPS", 5.0, checks.env_float
    ),
    "verify.concurrency": _setting(
        checks.whole(1),
        "a whole number, at least 1",
        "DEVTOKEN_VERIFY_CONCURRENCY",
        4,
        checks.env_int,
    ),
    # on rate limits, honouring the server's retry delay
    "verify.max_retries": _setting(
        checks.whole(0), "a whole number, 0 or more", "DEVTOKEN_VERIFY_RETRIES", 2, checks.env_int
    ),
    "verify.max_retry_delay": _setting(
        checks.number(0, strict=False),
        "a number, 0 or more",
        "DEVTOKEN_VERIFY_MAX_RETRY_DELAY",
        30.0,
        checks.env_float,
    ),
    # where responders send (scanner.respond.settings)
    "respond.webhook_url": _setting(checks.url, _URL, "DEVTOKEN_WEBHOOK_URL"),
    "respond.webhook_format": _setting(
        checks.choice("slack", "json"), '"slack" or "json"', "DEVTOKEN_WEBHOOK_FORMAT", "slack"
    ),
    "respond.smtp_host": _setting(checks.one_line, "a host name", "DEVTOKEN_SMTP_HOST"),
    "respond.smtp_port": _setting(
        checks.whole(1, 65535), "a port number (1-65535)", "DEVTOKEN_SMTP_PORT", 25, checks.env_int
    ),
    "respond.smtp_from": _setting(
        checks.one_line, "an e-mail address on one line", "DEVTOKEN_SMTP_FROM", "devtoken@localhost"
    ),
    "respond.smtp_to": _setting(
        checks.recipients, "a list of e-mail addresses", "DEVTOKEN_SMTP_TO", ()
    ),
    "respond.smtp_starttls": _setting(
        checks.boolean, "true or false", "DEVTOKEN_SMTP_STARTTLS", False, checks.env_bool
    ),
    "respond.smtp_user": _setting(checks.one_line, "a user name", "DEVTOKEN_SMTP_USER"),
    "respond.github_repo": _setting(checks.owner_name, "owner/name", "DEVTOKEN_GITHUB_REPO"),
    "respond.github_api": _setting(
        checks.url, _URL, "DEVTOKEN_GITHUB_API", "https://api.github.com"
    ),
    "respond.revoke_url": _setting(
        checks.url, _URL, "DEVTOKEN_REVOKE_URL", "https://oauth2.googleapis.com/revoke"
    ),
    # seconds, each delivery
    "respond.timeout": _setting(
        checks.between(0.1, 3600),
        "a number from 0.1 to 3600",
        "DEVTOKEN_RESPOND_TIMEOUT",
        10.0,
        checks.env_float,
    ),
    # seconds, the whole run: what is not done by then waits for the next
    "respond.deadline": _setting(
        checks.between(0.1, 86400),
        "a number from 0.1 to 86400",
        "DEVTOKEN_RESPOND_DEADLINE",
        60.0,
        checks.env_float,
    ),
    # deliveries in flight at once
    "respond.concurrency": _setting(
        checks.between(1, 64, integer=True),
        "a whole number from 1 to 64",
        "DEVTOKEN_RESPOND_CONCURRENCY",
        8,
        checks.env_int,
    ),
    # seconds before a failed delivery is retried, doubling per attempt
    "respond.backoff": _setting(
        checks.between(0, 86400),
        "a number from 0 to 86400",
        "DEVTOKEN_RESPOND_BACKOFF",
        60.0,
        checks.env_float,
    ),
    # the store a command uses, and how long it waits for one another process has locked
    "store.path": Key(_any_text, "a file path", env=("DEVTOKEN_STORE",), in_files=False),
    "store.timeout": Key(
        checks.between(0, 86400),
        "a number of seconds",
        env=("DEVTOKEN_STORE_TIMEOUT",),
        from_env=checks.env_float,
        default=30.0,  # seconds: another devtoken writing the same store is soon done
        in_files=False,
    ),
    # secrets are never read from a file that may be committed
    "respond.smtp_password": _secret("DEVTOKEN_SMTP_PASSWORD"),
    "respond.github_token": _secret("GITHUB_TOKEN", "DEVTOKEN_GITHUB_TOKEN"),
}
TABLES = frozenset(name.split(".")[0] for name in SCHEMA if "." in name)


def label(name: str) -> str:
    """How messages name a key: `[respond] smtp_port`, or `exclude` at the top level."""
    table, _, key = name.rpartition(".")
    return f"[{table}] {key}" if table else name


def check_value(name: str, value: object, where: str | None = None) -> Any:
    """One key's normalised value; a one-line ConfigError naming `where` (a file), the key and
    the type: "FILE: [respond] smtp_port must be a port number (1-65535), not the string '25'"."""
    key = SCHEMA[name]
    try:
        return key.check(value)
    except ValueError:
        prefix = f"{where}: " if where else ""
        raise ConfigError(
            f"{prefix}{label(name)} must be {key.expected}, not {_type_name(value)} {shown(value)}"
        ) from None


def from_environment(name: str, env: Mapping[str, str]) -> tuple[bool, Any]:
    """(True, value) when a variable of `name` is set (an empty one is unset), else (False, None).

    A bad value is a one-line ConfigError naming the variable:
    "DEVTOKEN_SMTP_PORT must be a port number (1-65535), not 'abc'".
    """
    key = SCHEMA[name]
    for variable in key.env:
        text = env.get(variable, "")
        if text == "":
            continue
        try:
            return True, key.check(key.from_env(text))
        except ValueError:
            raise ConfigError(f"{variable} must be {key.expected}, not {shown(text)}") from None
    return False, None


def resolve_table(
    table: str, env: Mapping[str, str], values: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Every key of `[table]`: its variable, else `values` (a trusted config's table), else its
    default. The one loader behind scanner.verify.settings and scanner.respond.settings."""
    values = dict(values or {})
    names = {name.partition(".")[2]: name for name in SCHEMA if name.startswith(table + ".")}
    unknown = sorted(k for k in values if k not in names or not SCHEMA[names[k]].in_files)
    if unknown:
        known = ", ".join(sorted(k for k in names if SCHEMA[names[k]].in_files))
        raise ConfigError(
            f"unknown [{table}] setting(s): {', '.join(safe_text(k) for k in unknown)} "
            f"(known: {known})"
        )
    resolved: dict[str, Any] = {}
    for key, name in names.items():
        found, value = from_environment(name, env)
        if found:
            resolved[key] = value
        elif key in values and SCHEMA[name].in_files:
            resolved[key] = check_value(name, values[key])
        else:
            resolved[key] = SCHEMA[name].default
    return resolved


def defaults(table: str) -> dict[str, Any]:
    """The defaults of `[table]`'s keys, for the settings dataclasses."""
    prefix = table + "."
    return {n[len(prefix) :]: k.default for n, k in SCHEMA.items() if n.startswith(prefix)}


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
        key = SCHEMA.get(name)
        if key is not None and not key.in_files:
            what = "is a secret: set it" if key.env_only else "is set"
            raise ConfigError(
                f"{where}: {name} {what} in the environment "
                f"({' or '.join(key.env)}), not in a config file"
            )
        if key is None:
            unknown.append(safe_text(name))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s): {', '.join(sorted(unknown))}")
    return flat


def _type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "the string"}
    names.update({list: "a list", dict: "a table"})
    return names.get(type(value), type(value).__name__)
