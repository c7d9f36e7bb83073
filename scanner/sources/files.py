"""Paths and stdin as scan inputs: directory walks, explicit files, `-`.

Walks never follow symlinks (so they cannot leave the tree or loop), skip
`.git/` and excluded globs, and report every file they pass over with a
reason instead of failing. Explicitly named files are always read, whatever
their size: the user asked for them.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from scanner.models import Skipped

SKIP_DIRS = frozenset({".git"})


@dataclass(frozen=True)
class Input:
    """One thing to read: a file path, or stdin when `path` is None."""

    display: str
    path: str | None
    size: int | None = None

    @property
    def is_stdin(self) -> bool:
        return self.path is None

    def open(self) -> BinaryIO:
        if self.path is None:
            return sys.stdin.buffer
        return open(self.path, "rb")


class MissingPath(Exception):
    """A path named on the command line does not exist."""


def iter_inputs(
    paths: Sequence[str], exclude: Sequence[str] = (), max_file_size: int = 0
) -> Iterator[Input | Skipped]:
    """Inputs and skipped entries for every named path, in a stable order."""
    for given in paths:
        if given == "-":
            yield Input(display="-", path=None)
        elif os.path.isdir(given):
            yield from _walk(given, exclude, max_file_size)
        elif os.path.lexists(given):
            yield _explicit(given)
        else:
            raise MissingPath(f"no such file or directory: {given}")


def _explicit(given: str) -> Input | Skipped:
    display = os.path.normpath(given)
    try:
        info = os.stat(given)
    except OSError as exc:
        return Skipped(display, "unreadable", exc.strerror or str(exc))
    if not stat.S_ISREG(info.st_mode) and not stat.S_ISFIFO(info.st_mode):
        return Skipped(display, "not-a-regular-file", "device, socket or broken link")
    return Input(display=display, path=given, size=info.st_size)


def _walk(root: str, exclude: Sequence[str], max_file_size: int) -> Iterator[Input | Skipped]:
    errors: list[OSError] = []
    for directory, dirnames, filenames in os.walk(root, onerror=errors.append):
        prefix = _display_prefix(root, directory)
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not _excluded(prefix + d, exclude)
        )
        for name in sorted(filenames):
            display = prefix + name
            if not _excluded(display, exclude):
                yield _classify(os.path.join(directory, name), display, max_file_size)
        for symlinked_dir in _symlinked(directory, dirnames):
            yield Skipped(prefix + symlinked_dir, "symlink", "not followed")
    for error in errors:
        where = error.filename or root
        yield Skipped(
            _display_prefix(root, where).rstrip("/") or root,
            "unreadable",
            error.strerror or str(error),
        )


def _display_prefix(root: str, directory: str) -> str:
    """How paths in `directory` are shown: relative to '.', else under the root as given."""
    relative = os.path.relpath(directory, root)
    shown = relative if root == "." else os.path.normpath(os.path.join(root, relative))
    return "" if shown == "." else shown + os.sep


def _symlinked(directory: str, dirnames: list[str]) -> list[str]:
    links = [d for d in dirnames if os.path.islink(os.path.join(directory, d))]
    for link in links:
        dirnames.remove(link)
    return links


def _classify(path: str, display: str, max_file_size: int) -> Input | Skipped:
    try:
        info = os.lstat(path)
    except OSError as exc:
        return Skipped(display, "unreadable", exc.strerror or str(exc))
    if stat.S_ISLNK(info.st_mode):
        return Skipped(display, "symlink", "not followed")
    if not stat.S_ISREG(info.st_mode):
        return Skipped(display, "not-a-regular-file", "device, socket or fifo")
    if max_file_size and info.st_size > max_file_size:
        return Skipped(display, "too-large", f"{info.st_size} bytes > limit {max_file_size}")
    return Input(display=display, path=path, size=info.st_size)


def _excluded(display: str, patterns: Sequence[str]) -> bool:
    return bool(patterns) and any(
        fnmatch.fnmatch(display, p) or fnmatch.fnmatch(os.path.basename(display), p)
        for p in patterns
    )
