"""Reset runbooks (reports/runbooks.toml): what to do about each leaked credential.

A runbook's steps and commands name what they act on by placeholders (KEY_ID, CLIENT_EMAIL,
PROJECT_ID, PROJECT_NUMBER, CLIENT_ID); `incident_runbooks` fills in those the scan found.
Every value comes from scanned content, and a user copies the commands into a shell: a value
is filled in only when it matches the strict form of what it names (a key id is 40 hex
digits, a service account's address has only `a-z 0-9 . - @`), else the placeholder stays.
"""

from __future__ import annotations

import functools
import re
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

PLACEHOLDERS = ("KEY_ID", "CLIENT_EMAIL", "PROJECT_ID", "PROJECT_NUMBER", "CLIENT_ID")
PLACEHOLDER = re.compile(rf"\b({'|'.join(PLACEHOLDERS)})\b")
KEY_ID = re.compile(r"[0-9a-f]{40}")
# A service account: user-managed (name@project.iam...), or a default one (developer, appspot).
PROJECT_ID = r"[a-z][a-z0-9\-]{4,28}[a-z0-9]"
SERVICE_ACCOUNT = re.compile(
    rf"[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?@(?:(?P<project>{PROJECT_ID})(?:\.[a-z0-9\-]+)*\.iam"
    r"|developer|appspot)\.gserviceaccount\.com"
)
PROJECT = re.compile(rf"(?:[a-z0-9\-]+(?:\.[a-z0-9\-]+)+:)?{PROJECT_ID}")  # domain:project too
PROJECT_NUMBER = re.compile(r"[0-9]{6,20}")
# How the store keeps a client id (redacted): shown in steps only, never in a command.
REDACTED_CLIENT_ID = re.compile(r"[0-9]{6,20}-[a-z0-9]*…[a-z0-9.]*")
SHELL_SAFE = re.compile(r"[A-Za-z0-9._@:\-]+")  # the last guard on what a command gets


def templates_dir() -> Path:
    """reports/ in a checkout, scanner/_reports when installed."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "reports", here / "_reports"):
        if (candidate / "runbooks.toml").is_file():
            return candidate
    raise FileNotFoundError(f"no report templates next to {here}")


@functools.cache
def runbooks() -> dict[str, dict[str, Any]]:
    """The runbooks file, read once per process (every incident of a report asks for it;
    callers only read it)."""
    with (templates_dir() / "runbooks.toml").open("rb") as handle:
        return tomllib.load(handle)


def runbook_roles(roles: tuple[str, ...] | list[str], has_history: bool = False) -> list[str]:
    """Which runbooks an incident needs, most urgent first (history rewriting last)."""
    ordered = [role for role in RUNBOOK_ORDER if role in roles]
    return [*ordered, "history"] if has_history else ordered


@dataclass(frozen=True)
class Runbook:
    """One role's runbook for one incident: its steps, and its commands with the values the
    scan knows filled in (a key id, a service account's email); every report shows these.
    `missing` names the placeholders left in it, which the scan did not find."""

    role: str
    title: str
    steps: tuple[str, ...]
    commands: tuple[str, ...]
    missing: tuple[str, ...] = ()


def incident_runbooks(incident: Incident) -> list[Runbook]:
    """Every runbook an incident needs, most urgent first, filled with what the scan found."""
    books = runbooks()
    shell, prose = known_values(incident)
    filled = []
    for role in runbook_roles(incident.roles, incident.has_history):
        steps = tuple(fill(step, prose) for step in books[role].get("steps", ()))
        commands = tuple(fill(command, shell) for command in books[role].get("commands", ()))
        left = {name for text in (*steps, *commands) for name in PLACEHOLDER.findall(text)}
        filled.append(
            Runbook(
                role=role,
                title=books[role]["title"],
                steps=steps,
                commands=commands,
                missing=tuple(sorted(left)),
            )
        )
    return filled


def fill(text: str, values: dict[str, str]) -> str:
    """`text` with each placeholder it has replaced by its value, if known (one pass: a
    value is never read for placeholders itself)."""
    return PLACEHOLDER.sub(lambda found: values.get(found[1], found[1]), text)


def known_values(incident: Incident) -> tuple[dict[str, str], dict[str, str]]:
    """(the values a command may hold, those steps may hold) for this incident.

    Each is checked against the strict form of what it names; the project of an OAuth
    client (its number) is the incident's only when a client id leaked with it, and a
    service account's project is its address's, else the incident's when no client id did.
    """
    shell: dict[str, str] = {}
    if incident.private_key_id and KEY_ID.fullmatch(incident.private_key_id):
        shell["KEY_ID"] = incident.private_key_id
    account = SERVICE_ACCOUNT.fullmatch(incident.client_email or "")
    if account:
        shell["CLIENT_EMAIL"] = account[0]
    project = incident.project or ""
    oauth = "client_id" in incident.roles
    if account and account["project"]:
        shell["PROJECT_ID"] = account["project"]
    elif not oauth and PROJECT.fullmatch(project):
        shell["PROJECT_ID"] = project
    if oauth and PROJECT_NUMBER.fullmatch(project):
        shell["PROJECT_NUMBER"] = project
    shell = {name: value for name, value in shell.items() if SHELL_SAFE.fullmatch(value)}
    prose = dict(shell)
    for member in incident.members:
        if member.role == "client_id" and REDACTED_CLIENT_ID.fullmatch(member.secret_redacted):
            prose["CLIENT_ID"] = member.secret_redacted
            break
    return shell, prose
