"""Reset runbooks (reports/runbooks.toml): what to do about each leaked credential."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanner.render.incidents import Incident

RUNBOOK_ORDER = (
    "developer_token",
    "client_secret",
    "refresh_token",
    "access_token",
    "service_account_key",
    "client_id",
)


def templates_dir() -> Path:
    """reports/ in a checkout, scanner/_reports when installed."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "reports", here / "_reports"):
        if (candidate / "runbooks.toml").is_file():
            return candidate
    raise FileNotFoundError(f"no report templates next to {here}")


def runbooks() -> dict[str, dict[str, Any]]:
    with (templates_dir() / "runbooks.toml").open("rb") as handle:
        return tomllib.load(handle)


def runbook_roles(roles: tuple[str, ...] | list[str], has_history: bool = False) -> list[str]:
    """Which runbooks an incident needs, most urgent first (history rewriting last)."""
    ordered = [role for role in RUNBOOK_ORDER if role in roles]
    return [*ordered, "history"] if has_history else ordered


@dataclass(frozen=True)
class Runbook:
    """One role's runbook for one incident: its steps, and its commands with the values the
    scan knows filled in (a key id, a service account's email); every report shows these."""

    role: str
    title: str
    steps: tuple[str, ...]
    commands: tuple[str, ...]


def incident_runbooks(incident: Incident) -> list[Runbook]:
    """Every runbook an incident needs, most urgent first."""
    books = runbooks()
    return [
        Runbook(
            role=role,
            title=books[role]["title"],
            steps=tuple(books[role].get("steps", ())),
            commands=tuple(books[role].get("commands", ())),
        )
        for role in runbook_roles(incident.roles, incident.has_history)
    ]
