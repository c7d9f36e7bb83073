"""Text that SQLite can hold: a non-UTF-8 name (surrogate-escaped str) stored without loss.

Paths, repository names and commit metadata arrive as `str` decoded with surrogateescape, so a
file named with a byte that is not UTF-8 carries lone surrogates that SQLite's UTF-8 text cannot
encode. The store keeps a readable rendering (each such byte as `\\xNN`) in the text column and,
for paths, the raw bytes beside it, so nothing is lost and two distinct names never merge.
"""

from __future__ import annotations


def storable(text: str) -> str:
    """`text` itself when it is valid Unicode; else each undecodable byte shown as `\\xNN`."""
    if _valid(text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no undecodable byte produced
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def raw_bytes(text: str) -> bytes:
    """The original bytes of a name that is not valid UTF-8; empty for every other name."""
    if _valid(text):
        return b""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _valid(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
