"""Write a report file; one that holds secrets in clear is never readable by others."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


def write_output(target: Path, text: str, private: bool = False) -> None:
    """Write `text` as UTF-8 to `target` (OSError for the caller to report).

    `private` (a --show-secrets report): the bytes go to a new file created 0600 next to
    the target, which then replaces it, so no moment exists where the secrets sit in a
    file with the umask's mode or in an old file someone else may already hold open.
    A FIFO or device (`-o /dev/stdout`) is written in place.
    """
    data = text.encode("utf-8", "backslashreplace")
    if private and _regular_or_missing(target):
        _replace_privately(target, data)
        return
    with open(target, "wb") as handle:
        handle.write(data)


def _regular_or_missing(target: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(target).st_mode)
    except FileNotFoundError:
        return True


def _replace_privately(target: Path, data: bytes) -> None:
    import tempfile  # only when a file is written: not on the hook path

    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
