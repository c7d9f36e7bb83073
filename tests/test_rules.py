"""Every rule's examples and negative examples run through the whole engine."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from scanner.engine import Engine
from scanner.rules import RuleError, default_rules_dir, load_rules
from scanner.scan import scan_text
from tests.conftest import REPO, require

RULES = load_rules(validate=True)
WHEELHOUSE = Path(os.environ.get("DEVTOKEN_WHEELHOUSE", REPO / ".venv" / "wheelhouse"))
REQUIRED_IDS = {
    "google-ads-developer-token",
    "google-oauth-client-secret",
    "google-oauth-refresh-token",
    "google-oauth-client-id",
    "google-oauth-access-token",
    "gcp-service-account-key",
}
EXAMPLES = [(r.id, i, text) for r in RULES for i, text in enumerate(r.examples)]
NEGATIVES = [(r.id, i, text) for r in RULES for i, text in enumerate(r.negative_examples)]


def test_the_contract_rule_ids_exist() -> None:
    assert {r.id for r in RULES} >= REQUIRED_IDS


@pytest.mark.parametrize(("rule_id", "index", "text"), EXAMPLES)
def test_example_is_found(engine: Engine, rule_id: str, index: int, text: str) -> None:
    result = scan_text(text, engine)
    found = [f for f in result.findings if f.rule.id == rule_id]
    reasons = [s.reason for s in result.suppressed if s.match.rule.id == rule_id]
    assert found, f"example {index} of {rule_id} not found (suppressed: {reasons})"


@pytest.mark.parametrize(("rule_id", "index", "text"), NEGATIVES)
def test_negative_example_is_not_found(engine: Engine, rule_id: str, index: int, text: str) -> None:
    result = scan_text(text, engine)
    assert not [f for f in result.findings if f.rule.id == rule_id]


def _rule_text(**overrides: str) -> str:
    fields = {
        "id": '"demo-rule"',
        "name": '"Demo"',
        "severity": '"high"',
        "description": '"demo"',
        "keywords": '["demo"]',
        "patterns": """['demo=(?P<secret>[a-z]{8})']""",
        "examples": '["demo=abcdefgh"]',
        "negative_examples": '["demo=short"]',
    }
    fields.update(overrides)
    return "\n".join(f"{k} = {v}" for k, v in fields.items() if v) + "\n"


def _rules_dir(tmp_path: Path, text: str) -> Path:
    (tmp_path / "_fragments.toml").write_text("[fragments]\n")
    (tmp_path / "demo.toml").write_text(text)
    return tmp_path


def test_a_well_formed_rule_file_loads(tmp_path: Path) -> None:
    (rule,) = load_rules(_rules_dir(tmp_path, _rule_text()))
    assert rule.id == "demo-rule"
    assert rule.examples == ("demo=abcdefgh",)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"examples": ""}, "'examples' must not be empty"),
        ({"negative_examples": ""}, "'negative_examples' must not be empty"),
        ({"patterns": "['demo=([a-z]{8})']"}, "no named group 'secret'"),
        ({"patterns": "['demo=(?P<secret>[a-z]{8']"}, "invalid pattern"),
        ({"patterns": "['<<nope>>(?P<secret>x)']"}, "unknown fragment <<nope>>"),
        ({"severity": '"urgent"'}, "severity must be one of"),
        ({"id": '"Bad Id"'}, "must be lowercase words"),
        ({"keywords": '"demo"'}, "'keywords' must be a list of strings"),
        (
            {"role": '"password"'},
            "role must be one of developer_token, client_id, client_secret, refresh_token, "
            "access_token, service_account_key, not 'password'",
        ),
        (
            {"role": '"client_secret"', "verify": '"jwt-bearer"'},
            "verify must be one of oauth-client, none for a client_secret rule, not 'jwt-bearer'",
        ),
        (
            {"verify": '"oauth-client"'},
            "verify must be one of none for a rule without a role, not 'oauth-client'",
        ),
        ({"redact_tail": '"2"'}, "'redact_tail' must be a non-negative integer"),
        ({"redact_label": "3"}, "'redact_label' must be a non-empty string"),
        (
            {"redact_label": '"key id {key_id}"'},
            "redact_label names 'key_id', not one of its [attributes]",
        ),
    ],
)
def test_malformed_rule_files_are_rejected_with_the_field_named(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(RuleError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_rules(_rules_dir(tmp_path, _rule_text(**overrides)))


def test_a_rule_s_redacted_form_is_its_data(tmp_path: Path) -> None:
    """keep, tail and a label filled with the rule's attributes, for any rule (not only keys)."""
    text = _rule_text(redact_keep="2", redact_tail="0", redact_label='"serial {serial:.3}"')
    text += "[attributes]\nserial = 'serial=(?P<value>[0-9]+)'\n"
    (rule,) = load_rules(_rules_dir(tmp_path, text))
    engine = Engine([rule])
    (labelled,) = scan_text("serial=123456 demo=qzmxkwvr", engine).findings
    assert labelled.match.secret.redacted == "qz… (serial 123…)"
    (bare,) = scan_text("demo=qzmxkwvr", engine).findings
    assert bare.match.secret.redacted == "qz… (8 chars)"
    (plain,) = load_rules(_rules_dir(tmp_path, _rule_text()))
    assert (plain.redact_tail, plain.redact_label) == (2, "")


def test_role_and_check_default_from_the_role(tmp_path: Path) -> None:
    (rule,) = load_rules(_rules_dir(tmp_path, _rule_text(role='"refresh_token"')))
    assert (rule.role, rule.verify) == ("refresh_token", "oauth-refresh")
    (rule,) = load_rules(_rules_dir(tmp_path, _rule_text()))
    assert (rule.role, rule.verify) == (None, "none")


def test_every_bundled_rule_names_its_role_and_check() -> None:
    import tomllib

    for path in sorted(default_rules_dir().glob("*.toml")):
        if path.name == "_fragments.toml":
            continue
        data = tomllib.loads(path.read_text())
        assert {"role", "verify"} <= set(data), path.name
    assert {r.id: (r.role, r.verify) for r in load_rules()} == {
        "gcp-service-account-key": ("service_account_key", "jwt-bearer"),
        "google-ads-developer-token": ("developer_token", "none"),
        "google-oauth-access-token": ("access_token", "ads-reach"),
        "google-oauth-client-id": ("client_id", "oauth-client"),
        "google-oauth-client-secret": ("client_secret", "oauth-client"),
        "google-oauth-refresh-token": ("refresh_token", "oauth-refresh"),
    }


def test_invalid_toml_is_a_rule_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="not valid TOML"):
        load_rules(_rules_dir(tmp_path, "id = 'unterminated\n"))


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    _rules_dir(tmp_path, _rule_text())
    (tmp_path / "copy.toml").write_text(_rule_text())
    with pytest.raises(RuleError, match="duplicate rule id"):
        load_rules(tmp_path)


def test_malformed_rules_dir_is_exit_2_with_a_clear_message(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "r").mkdir()
    rules = _rules_dir(tmp_path / "r", "x = [")
    target = tmp_path / "t.txt"
    target.write_text("hello\n")
    run = cli("scan", str(target), "--rules", str(rules))
    assert run.code == 2
    assert "not valid TOML" in run.err and "demo.toml" in run.err


def test_bundled_rules_are_the_installed_ones() -> None:
    """The built wheel carries every rule file as scanner/_rules (the package-data that
    default_rules_dir() finds first once installed); a checkout would find rules/ anyway."""
    wheels = sorted(WHEELHOUSE.glob("devtoken-*.whl"))
    require(wheels, f"a devtoken wheel in {WHEELHOUSE} (scripts/test.sh builds one)")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        packaged = {
            name.removeprefix("scanner/_rules/")
            for name in wheel.namelist()
            if name.startswith("scanner/_rules/") and name.endswith(".toml")
        }
    assert packaged == {p.name for p in default_rules_dir().glob("*.toml")}
    assert "google-ads-developer-token.toml" in packaged
