"""Bundle.project: the Google Cloud project a bundle's access follows (org scans group by it)."""

from __future__ import annotations

import pytest

from scanner.bundles import Bundle, make_bundles
from scanner.engine import Engine
from scanner.models import Finding, Match, Provenance
from scanner.rules import load_rules
from scanner.scan import scan_text
from scanner.secret import Secret

RULES = {rule.id: rule for rule in load_rules()}
CLIENT_ID = "278534944592-6vbtcjbs73z4z61numlhm5zme0k1y5g3.apps.googleusercontent.com"
KEY = "-----BEGIN PRIVATE KEY-----\nq7Rk2VbXw9LmTz4NcPa8sJd1FgHy6Ue3Io5KtQ0rWnEx\n-----END PRIVATE KEY-----\n"


def finding(rule_id: str, value: str, line: int, **attributes: str) -> Finding:
    rule = RULES[rule_id]
    match = Match(
        rule,
        Secret(value, rule.redact_keep),
        10 * line,
        line,
        1,
        "",
        "",
        value,
        tuple(attributes.items()),
    )
    return Finding(match, Provenance("a.json", "file"))


def bundle(*members: Finding) -> Bundle:
    (only,) = make_bundles(members)
    return only


def test_a_client_id_names_its_project_number() -> None:
    client = finding("google-oauth-client-id", CLIENT_ID, 3, project="278534944592")
    token = finding("google-ads-developer-token", "Qm3xK9_pL2vN8rT4wY6zA1", 1)
    assert bundle(token, client).project == "278534944592"


def test_a_service_account_key_names_its_project_id() -> None:
    key = finding("gcp-service-account-key", KEY, 2, project="ads-reporting-4411")
    assert bundle(key).project == "ads-reporting-4411"


def test_the_client_id_wins_over_a_service_account_key_whatever_the_line_order() -> None:
    key = finding("gcp-service-account-key", KEY, 1, project="ads-reporting-4411")
    client = finding("google-oauth-client-id", CLIENT_ID, 9, project="278534944592")
    assert bundle(key, client).project == "278534944592"


def test_no_project_attribute_no_project() -> None:
    token = finding("google-ads-developer-token", "Qm3xK9_pL2vN8rT4wY6zA1", 1)
    key = finding("gcp-service-account-key", KEY, 2, client_email="a@example.com")
    assert bundle(token, key).project is None


def _scanned(text: str, engine: Engine) -> Bundle:
    result = scan_text(text, engine)
    (only,) = make_bundles(result.findings)
    return only


@pytest.mark.parametrize(
    ("rule_id", "needle", "project"),
    [
        ("google-oauth-client-id", "278534944592-", "278534944592"),
        ("google-oauth-client-id", "271558501720-", "271558501720"),
        ("gcp-service-account-key", '"project_id": "ads-reporting-4411"', "ads-reporting-4411"),
        ("gcp-service-account-key", "@billing-sync-prod.iam", "billing-sync-prod"),
        ("gcp-service-account-key", "resource ", None),
    ],
)
def test_the_rules_capture_the_project_from_their_examples(
    engine: Engine, rule_id: str, needle: str, project: str | None
) -> None:
    """The rule files' own examples (which tests/test_rules.py runs) carry the captures."""
    (example,) = [text for text in RULES[rule_id].examples if needle in text]
    assert _scanned(example, engine).project == project


def test_a_client_id_nearby_does_not_lend_its_number_to_another(engine: Engine) -> None:
    """The nearest hit is the match itself: two client ids keep their own project numbers."""
    other = "617384920183-q8w2e4r6t8y0u2i4o6p8a0s2d4f6g8h0.apps.googleusercontent.com"
    result = scan_text(f"a: {CLIENT_ID}\nb: {other}\n", engine)
    projects = {f.match.secret.reveal(): dict(f.match.attributes) for f in result.findings}
    assert projects == {CLIENT_ID: {"project": "278534944592"}, other: {"project": "617384920183"}}


def test_a_service_account_address_outside_iam_names_no_project(engine: Engine) -> None:
    text = f"private_key: |\n  {KEY.replace(chr(10), chr(10) + '  ')}client_email: 'x@my-proj.iam.gserviceaccount.com.evil.test'\n"
    assert _scanned(text, engine).project is None
