"""`scanner.secret`: the fingerprint contract, how much of a value redaction shows,
and a `Secret` that never prints itself."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from scanner.secret import MASK, Secret, fingerprint, redact

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


def test_a_secret_pickles_as_its_value_and_keep() -> None:
    secret = Secret(T, 2)
    assert secret.__reduce__() == (Secret, (T, 2))
    back = pickle.loads(pickle.dumps(secret))
    assert (back, back.reveal(), back.keep) == (secret, T, 2)
