"""`scanner.secret`: the fingerprint contract, how much of a value redaction shows,
and a `Secret` that never prints itself."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from scanner.engine import Engine
from scanner.rules import load_rules
from scanner.scan import scan_text
from scanner.secret import MASK, Secret, fingerprint, redact, redaction_label

T = "Zk3mQ9vTb2LxWc7RnP4s_g"


def test_fingerprint_is_sha256_of_rule_colon_value() -> None:
    # printf '%s' 'google-ads-developer-token:Zk3mQ9vTb2LxWc7RnP4s_g' | sha256sum
    assert (
        fingerprint("google-ads-developer-token", T)
        == "356c4fb93fce170360332fdd97891f047a6acdb474b8fd346734cd453d21b13e"
    )


def test_fingerprint_of_an_undecodable_byte_hashes_that_byte() -> None:
    # a lone surrogate from surrogateescape is byte 0xff: sha256(b"r:\xff")
    assert (
        fingerprint("r", "\udcff")
        == "d8b05e1b9171c98253c0ff8a5d3cce429f4e5505cbaf9f3d7a04766e377d85dc"
    )


@pytest.mark.parametrize(
    ("value", "keep", "shown"),
    [
        ("", 4, "…"),
        ("abcdefg", 4, "…"),  # under 8 characters: nothing shown
        ("abcdefgh", 4, "ab…"),  # at most a third: 8 // 3 = 2 leading
        ("abcdefghijklmno", 4, "abcd…"),  # under 16: no tail
        ("abcdefghijklmnop", 4, "abcd…op"),
        (T, 4, "Zk3m…_g"),
        ("a" * 29 + "z", 9, "aaaaaaaaa…az"),
        ("abcdefghijklmnop", 0, "…op(16 chars)"),
        ("abcdefghij", 0, "…(10 chars)"),
    ],
)
def test_redact_shows_at_most_a_third(value: str, keep: int, shown: str) -> None:
    assert redact(value, keep) == shown
    assert MASK == "…"


def test_a_secret_prints_redacted_and_reveals_on_request() -> None:
    secret = Secret(T)
    assert (str(secret), repr(secret), f"{secret}") == ("Zk3m…_g", "Secret('Zk3m…_g')", "Zk3m…_g")
    assert (secret.reveal(), secret.redacted, len(secret)) == (T, "Zk3m…_g", 22)
    assert repr([secret]) == "[Secret('Zk3m…_g')]"
    assert str(Secret(T, 2)) == "Zk…_g"


def test_secrets_compare_by_value_and_keep() -> None:
    assert Secret(T) == Secret(T, 4)
    assert Secret(T) != Secret(T, 2)
    assert Secret(T) != Secret(T[:-1] + "h")
    assert {Secret(T): 1}[Secret(T)] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        secret = Secret(T)
        secret.keep = 9  # type: ignore[misc]


def test_a_secret_pickles_as_its_value_and_how_it_is_redacted() -> None:
    secret = Secret(T, 2, 0, "key id 3f1c…")
    assert secret.__reduce__() == (Secret, (T, 2, 0, "key id 3f1c…"))
    back = pickle.loads(pickle.dumps(secret))
    assert (back, back.reveal(), back.keep, back.redacted) == (secret, T, 2, "Zk… (key id 3f1c…)")


KEY_ID = "3f1c0e9a7b5d2e8f6a4c1b9d7e5f3a2c0b8d6e4f"
BODY = "q7Rk2VbXw9LmTz4NcPa8sJd1FgHy6Ue3Io5KtQ0rWnEx"
PEM = f"-----BEGIN PRIVATE KEY-----\\n{BODY}\\n-----END PRIVATE KEY-----\\n"


@pytest.mark.parametrize(
    ("value", "keep", "tail", "label", "shown"),
    [
        ("abcdefghijklmnop", 4, 0, None, "abcd…"),
        ("abcdefghijklmnop", 4, 1, None, "abcd…p"),
        ("abcdefghijklmnop", 4, 9, None, "abcd…op"),  # never more than 2 trailing
        ("abcdefghijklmnop", 4, 0, "key id 12ab…", "abcd… (key id 12ab…)"),
        ("abcdefghijklmnop", 4, 2, "12 chars", "abcd…op (12 chars)"),
        ("abcdefg", 4, 0, "key id 12ab…", "…"),  # a short value shows nothing, label or not
    ],
)
def test_redact_keeps_the_tail_it_is_told_and_adds_the_label(
    value: str, keep: int, tail: int, label: str | None, shown: str
) -> None:
    assert redact(value, keep, tail, label) == shown


@pytest.mark.parametrize(
    ("template", "attributes", "label"),
    [
        ("", [("private_key_id", KEY_ID)], None),  # a rule without a label
        ("key id {private_key_id:.12}", [("private_key_id", KEY_ID)], "key id 3f1c0e9a7b5d…"),
        ("key id {private_key_id}", [("private_key_id", KEY_ID)], f"key id {KEY_ID}"),
        ("key id {private_key_id:.40}", [("private_key_id", KEY_ID)], f"key id {KEY_ID}"),
        ("{a} and {b}", [("a", "x"), ("b", "y@z.example")], "x and y@z.example"),
        # missing, or anything but identifier characters: the length, never the value
        ("key id {private_key_id:.12}", [], "1,704 chars"),
        ("{a} and {b}", [("a", "x")], "1,704 chars"),
        ("key id {private_key_id}", [("private_key_id", "")], "1,704 chars"),
        ("key id {private_key_id}", [("private_key_id", "<b>x</b>")], "1,704 chars"),
        ("key id {private_key_id}", [("private_key_id", "ab\x1b[2Jcd")], "1,704 chars"),
        ("key id {private_key_id}", [("private_key_id", "ab cd")], "1,704 chars"),
        ("key id {private_key_id}", [("private_key_id", "a" * 255)], "1,704 chars"),
    ],
)
def test_a_label_holds_plain_attributes_only(
    template: str, attributes: list[tuple[str, str]], label: str | None
) -> None:
    assert redaction_label(template, attributes, "k" * 1704) == label


def _redacted(text: str) -> list[str]:
    found = scan_text(text, Engine(load_rules()), "sa.json").findings
    return [f.match.secret.redacted for f in found]


def test_a_service_account_key_is_shown_by_its_key_id_never_its_material() -> None:
    key = (
        f'{{"type": "service_account", "private_key_id": "{KEY_ID}", "private_key": "{PEM}",'
        ' "client_email": "r@ads-4411.iam.gserviceaccount.com"}'
    )
    assert _redacted(key) == ["-----BEGIN PRIVATE KEY-----… (key id 3f1c0e9a7b5d…)"]
    yaml = f"private_key_id: {KEY_ID}\nprivate_key: |\n  -----BEGIN PRIVATE KEY-----\n  {BODY}\n  -----END PRIVATE KEY-----\n"
    assert _redacted(yaml) == ["-----BEGIN PRIVATE KEY-----… (key id 3f1c0e9a7b5d…)"]


def test_a_bare_private_key_is_shown_by_its_length() -> None:
    (shown,) = _redacted(f'{{"private_key": "{PEM}"}}')
    assert shown == f"-----BEGIN PRIVATE KEY-----… ({len(PEM)} chars)"
    assert BODY[:4] not in shown and "END" not in shown


def test_a_key_id_that_is_not_one_does_not_name_the_key() -> None:
    # not 40 hex digits: the attribute does not match, the key is shown by its length
    for hostile in ("3f1c0e9a7b5d2e8f6a4c1b9d7e5f3a2c0b8d6e4f;rm -rf ~", "$(curl evil)", "XYZ"):
        (shown,) = _redacted(f'{{"private_key_id": "{hostile}", "private_key": "{PEM}"}}')
        assert shown == f"-----BEGIN PRIVATE KEY-----… ({len(PEM)} chars)"
