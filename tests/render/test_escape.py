"""render/escape.py on literal strings: terminal, Markdown and CSV escaping."""

from __future__ import annotations

import io

import pytest

from scanner.render.escape import csv_cell, md_code, md_text, say, visible


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain/path.env", "plain/path.env"),
        ("a\tb\nc\rd", "a\\tb\\nc\\rd"),
        ("\x1b[2J\x7f\x85", "\\x1b[2J\\x7f\\x85"),
        ("\u202eevil\u2066", "\\u202eevil\\u2066"),
        ("bad\udcffbyte", "bad\\xffbyte"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("café ü", "café ü"),
    ],
)
def test_visible(text: str, shown: str) -> None:
    assert visible(text) == shown


def test_say_writes_one_escaped_line() -> None:
    stream = io.StringIO()
    say("wrote a\nb", stream)
    assert stream.getvalue() == "devtoken: wrote a\\nb\n"


def test_md_text_escapes_every_construct_and_breaks_mentions() -> None:
    assert md_text("[x](javascript:1) *b* @team #1") == (
        "\\[x\\]\\(javascript\\:1\\) \\*b\\* @&#8203;team \\#1"
    )


@pytest.mark.parametrize(
    ("text", "table", "code"),
    [
        ("a.env", False, "`a.env`"),
        ("a`b", False, "``a`b``"),
        ("`x", False, "`` `x ``"),
        ("a|b", True, "`a\\|b`"),
        ("a|b", False, "`a|b`"),
        ("", False, "` `"),
    ],
)
def test_md_code(text: str, table: bool, code: str) -> None:
    assert md_code(text, table=table) == code


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+1", "'=1+1"), ("+x", "'+x"), ("-x", "'-x"), ("@x", "'@x"), ("a=b", "a=b"), (3, "3")],
)
def test_csv_cell(value: object, cell: str) -> None:
    assert csv_cell(value) == cell
