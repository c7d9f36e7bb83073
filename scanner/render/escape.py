"""Escape text from scanned content for the place it is shown: terminal, Markdown, CSV.

Paths, commit authors, messages and branch names come from whoever wrote the scanned
tree. On a terminal an ESC sequence can clear the screen or hide a finding, a bidi
override (Trojan Source) can reorder what is read; in Markdown a newline or a backtick
can open a heading, a link or an @mention. Every writer passes such text through here.
"""

from __future__ import annotations

import re
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import TextIO

_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape_char(char: str) -> str:
    code = ord(char)
    if char in _SHORT:
        return _SHORT[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str) -> str:
    """Text safe on a terminal: every character `str.isprintable` rejects becomes an escape.

    That is C0 and C1 controls, DEL, format characters (bidi overrides and isolates,
    zero-width characters, BOM, tags), line and paragraph separators, spaces other than
    U+0020, surrogates, private-use and unassigned code points. Nothing else changes.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape_char(char) for char in text)


def say(message: str, stream: TextIO | None = None) -> None:
    """One `devtoken: ...` line on stderr, escaped (messages carry paths and git text)."""
    target = stream if stream is not None else sys.stderr
    target.write(f"devtoken: {visible(message)}\n")
    target.flush()


# ASCII punctuation (CommonMark lets each be backslash-escaped) except , ; ? ' " % / ^,
# which start no construct in CommonMark, GFM or GitHub math.
_MD_PUNCTUATION = re.compile(r"[!#$&()*+\-.:<=>@\[\\\]_`{|}~]")


def _md_punct(match: re.Match[str]) -> str:
    char = match.group()
    # A zero-width space after @ stops GitHub, GitLab and Slack from making a mention.
    return "@&#8203;" if char == "@" else "\\" + char


def md_text(text: str) -> str:
    """Markdown prose that shows exactly `text`: no emphasis, link, HTML, heading or mention."""
    return _MD_PUNCTUATION.sub(_md_punct, visible(text))


_BACKTICKS = re.compile(r"`+")


def md_code(text: str, table: bool = False) -> str:
    """An inline code span that shows exactly `text` (nothing in a code span is markup).

    The fence is one backtick longer than the longest run inside; a space pads content
    that starts or ends with a backtick or space. In a GFM table `|` must be `\\|` even
    inside code, everywhere else a backslash there would be shown.
    """
    shown = visible(text)
    if table:
        shown = shown.replace("|", "\\|")
    if not shown:
        return "` `"
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(shown)), default=0) + 1)
    pad = " " if shown[0] in "` " or shown[-1] in "` " else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


_FORMULA_START = ("=", "+", "-", "@")  # tab, CR and LF are already escapes here


def csv_cell(value: object) -> str:
    """A CSV cell: controls made visible, and no spreadsheet formula (OWASP CSV injection)."""
    text = visible(str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text
