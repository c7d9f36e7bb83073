"""The org scan's settings, from `org.toml` or the `[org]` table of the user config.

Tokens are never settings: a source may only name the environment variable its token is
in (`token_env`); a `token` key is refused with the reason.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from scanner.config import ConfigError
from scanner.org.listed import ListedSource
from scanner.org.mirror import default_root
from scanner.org.repositories import Filters
from scanner.org.sources import SourceSpec
from scanner.org.specs import GITHUB_API, GITLAB_URL, GitHubSource, GitLabSource

_TOP = {"mirrors", "timeout", "jobs", "rate_limit_budget", "filters", "github", "gitlab", "listed"}
_FILTERS = {"include", "exclude", "forks", "archived", "visibility", "pushed_since"}
_GITHUB = {"org", "user", "api_url", "token_env", "per_page"}
_GITLAB = {"group", "url", "include_subgroups", "token_env", "per_page"}
_VISIBILITIES = {"public", "private", "internal"}


@dataclass(frozen=True)
class OrgConfig:
    sources: tuple[SourceSpec, ...]
    filters: Filters = field(default_factory=Filters)
    mirrors: Path = field(default_factory=default_root)
    timeout: float = 900.0  # per repository, over all its git calls
    jobs: int = 4
    rate_limit_budget: float = 3600.0  # seconds of rate-limit waiting per run


def load_org_config(path: Path) -> OrgConfig:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    return parse_org_config(data.get("org", data), str(path))


def parse_org_config(data: Mapping[str, Any], origin: str) -> OrgConfig:
    """`data` is the `[org]` table; `origin` names it in errors."""
    _known(data, _TOP, origin)
    sources: list[SourceSpec] = []
    for index, table in enumerate(_tables(data, "github", origin)):
        sources.append(_github(table, f"{origin}: github[{index}]"))
    for index, table in enumerate(_tables(data, "gitlab", origin)):
        sources.append(_gitlab(table, f"{origin}: gitlab[{index}]"))
    listed = data.get("listed", [])
    if listed:
        sources.append(ListedSource(_strings(listed, f"{origin}: listed")))
    if not sources:
        raise ConfigError(f"{origin}: no sources: add [[org.github]], [[org.gitlab]] or listed")
    mirrors = data.get("mirrors")
    return OrgConfig(
        sources=tuple(sources),
        filters=_filters(data.get("filters", {}), f"{origin}: filters"),
        mirrors=Path(_string(mirrors, f"{origin}: mirrors")).expanduser()
        if mirrors is not None
        else default_root(),
        timeout=_positive(data.get("timeout", 900.0), f"{origin}: timeout"),
        jobs=int(_positive(data.get("jobs", 4), f"{origin}: jobs")),
        rate_limit_budget=_positive(
            data.get("rate_limit_budget", 3600.0), f"{origin}: rate_limit_budget"
        ),
    )


def _github(table: Mapping[str, Any], where: str) -> GitHubSource:
    _known(table, _GITHUB, where)
    if ("org" in table) == ("user" in table):
        raise ConfigError(f'{where}: give exactly one of org = "..." or user = "..."')
    kind: Literal["org", "user"] = "org" if "org" in table else "user"
    return GitHubSource(
        owner=_string(table[kind], f"{where}: {kind}"),
        kind=kind,
        api_url=_url(table.get("api_url", GITHUB_API), f"{where}: api_url"),
        per_page=int(_positive(table.get("per_page", 100), f"{where}: per_page")),
        token_env=_optional_string(table.get("token_env"), f"{where}: token_env"),
    )


def _gitlab(table: Mapping[str, Any], where: str) -> GitLabSource:
    _known(table, _GITLAB, where)
    if "group" not in table:
        raise ConfigError(f'{where}: group = "..." is required')
    subgroups = table.get("include_subgroups", True)
    if not isinstance(subgroups, bool):
        raise ConfigError(f"{where}: include_subgroups must be true or false")
    return GitLabSource(
        group=_string(table["group"], f"{where}: group"),
        url=_url(table.get("url", GITLAB_URL), f"{where}: url"),
        include_subgroups=subgroups,
        per_page=int(_positive(table.get("per_page", 100), f"{where}: per_page")),
        token_env=_optional_string(table.get("token_env"), f"{where}: token_env"),
    )


def _filters(table: Any, where: str) -> Filters:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table")
    _known(table, _FILTERS, where)
    visibility = _strings(table.get("visibility", []), f"{where}: visibility")
    if set(visibility) - _VISIBILITIES:
        bad = ", ".join(sorted(set(visibility) - _VISIBILITIES))
        raise ConfigError(f"{where}: visibility {bad}: expected public, private or internal")
    for flag in ("forks", "archived"):
        if not isinstance(table.get(flag, False), bool):
            raise ConfigError(f"{where}: {flag} must be true or false")
    return Filters(
        include=_strings(table.get("include", []), f"{where}: include"),
        exclude=_strings(table.get("exclude", []), f"{where}: exclude"),
        forks=table.get("forks", False),
        archived=table.get("archived", False),
        visibility=visibility,
        pushed_since=_moment(table.get("pushed_since"), f"{where}: pushed_since"),
    )


def _moment(value: Any, where: str) -> datetime | None:
    """A TOML date or datetime, or an ISO string; a time without zone is taken as UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{where}: not a date: {value!r} (e.g. 2024-01-31)") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if not isinstance(value, datetime):
        raise ConfigError(f"{where}: not a date (e.g. 2024-01-31 or 2024-01-31T00:00:00Z)")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _known(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    if "token" in table:
        raise ConfigError(
            f"{where}: tokens are never read from a file: set token_env to the name of the "
            "environment variable that holds it"
        )
    unknown = set(table) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s): {', '.join(sorted(unknown))}")


def _tables(data: Mapping[str, Any], name: str, origin: str) -> list[Mapping[str, Any]]:
    value = data.get(name, [])
    value = [value] if isinstance(value, Mapping) else value
    if not isinstance(value, list) or not all(isinstance(t, Mapping) for t in value):
        raise ConfigError(f"{origin}: {name} must be a table or an array of tables")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a list of non-empty strings")
    return tuple(value)


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a non-empty string")
    return value.strip()


def _optional_string(value: Any, where: str) -> str | None:
    return None if value is None else _string(value, where)


def _url(value: Any, where: str) -> str:
    """https://, or http:// to this machine only: a token never crosses a network in clear."""
    url = _string(value, where)
    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "::1") or (parts.hostname or "").startswith("127.")
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        raise ConfigError(f"{where}: expected an https:// URL, got {url!r}")
    return url.rstrip("/")


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where} must be a positive number")
    return float(value)
