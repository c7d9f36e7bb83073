"""Members of .zip and .tar archives as streams of bytes, read in place.

Nothing is extracted: members are read through `zipfile`/`tarfile` file
objects block by block, so a member's name (`../../etc/passwd`, `/abs`) is
only ever a label, shown as `archive.zip!name` with control characters
escaped. Symlink and hard-link members are not followed; a corrupt member is
skipped and said, and the members after it are still read. Tar streams (also
inside .tar.gz) are read sequentially; a zip needs its central directory, so
a zip on disk is read in place and a nested one from memory, up to a bound.
"""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from scanner.models import Skipped
from scanner.sources.compressed import Budget, DecompressionLimit, UnreadableInput

NESTED_ZIP_MAX = 64 << 20
# tarfile skips these silently with ignore_zeros (not in typeshed, hence getattr).
_BAD_HEADER: tuple[type[Exception], ...] = tuple(
    getattr(tarfile, name) for name in ("InvalidHeaderError", "TruncatedHeaderError")
)
# Hostile archive data can make the libraries raise nearly anything (struct.error,
# KeyError, OverflowError...): all of it means "this archive or member is corrupt".
_MEMBER_ERRORS = (Exception,)


@dataclass
class Member:
    display: str  # archive!name
    blocks: Iterator[bytes]


def shown_name(name: str) -> str:
    """A member name as a label: non-printable characters escaped, nothing else changed."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def members(
    kind: str,
    display: str,
    blocks: Iterator[bytes],
    file: BinaryIO | None,
    budget: Budget,
    block_size: int,
) -> Iterator[Member | Skipped]:
    if kind == "zip":
        return _zip_members(display, blocks, file, budget, block_size)
    return _tar_members(display, blocks, block_size)


def _zip_members(
    display: str,
    blocks: Iterator[bytes],
    file: BinaryIO | None,
    budget: Budget,
    block_size: int,
) -> Iterator[Member | Skipped]:
    source = file
    if source is None:
        try:
            data = _read_at_most(blocks, NESTED_ZIP_MAX)
        except UnreadableInput as exc:
            yield Skipped(display, exc.reason, f"zip archive not opened: {exc}")
            return
        if data is None:
            yield Skipped(
                display, "archive-limit", f"nested zip archive over {NESTED_ZIP_MAX} bytes"
            )
            return
        source = io.BytesIO(data)
    try:
        archive = zipfile.ZipFile(source)
    except _MEMBER_ERRORS as exc:
        yield Skipped(display, "unreadable", f"corrupt zip archive: {exc}")
        return
    with archive:
        infos = archive.infolist()
        for index, info in enumerate(infos):
            name = f"{display}!{shown_name(info.filename)}"
            mode = stat.S_IFMT(info.external_attr >> 16)  # 0: no type recorded (DOS)
            if info.is_dir() or stat.S_ISDIR(mode):
                continue
            if stat.S_ISLNK(mode):
                yield Skipped(name, "symlink", "archive member not followed")
            elif mode and not stat.S_ISREG(mode):
                yield Skipped(name, "not-a-regular-file", "device or fifo archive member")
            elif info.flag_bits & 0x1:
                yield Skipped(name, "encrypted", "encrypted archive member")
            elif budget.exhausted:
                left = len(infos) - index
                yield Skipped(
                    display, "decompression-limit", f"{left} members left: {budget.describe()}"
                )
                return
            else:
                yield Member(name, _zip_blocks(archive, info, budget, block_size))


def _zip_blocks(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, block_size: int
) -> Iterator[bytes]:
    inflated = info.compress_type != zipfile.ZIP_STORED
    try:
        with archive.open(info) as member:
            while block := member.read(block_size):
                kept = budget.take(block) if inflated else block
                if kept:
                    yield kept
                if len(kept) < len(block):
                    raise DecompressionLimit(budget.describe())
    except UnreadableInput:
        raise
    except _MEMBER_ERRORS as exc:
        raise UnreadableInput(f"corrupt archive member: {exc}") from None


def _read_at_most(blocks: Iterator[bytes], limit: int) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    for block in blocks:
        parts.append(block)
        size += len(block)
        if size > limit:
            return None
    return b"".join(parts)


class _BlockReader(io.RawIOBase):
    """A read-only file over a block iterator; a read error stays raised."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = blocks
        self._buffer = b""
        self._pos = 0  # start of the unread part of _buffer (no copy per small read)
        self.error: UnreadableInput | None = None
        self.reported = False  # the error was already recorded against a member

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self.error:
            raise self.error
        want = -1 if size is None else size
        try:
            while want < 0 or len(self._buffer) - self._pos < want:
                block = next(self._blocks, None)
                if block is None:
                    break
                self._buffer = self._buffer[self._pos :] + block
                self._pos = 0
        except UnreadableInput as exc:
            self.error = exc
            if len(self._buffer) == self._pos:
                raise
        end = len(self._buffer) if want < 0 else min(len(self._buffer), self._pos + want)
        out = self._buffer[self._pos : end]
        self._pos = end
        return out


def _tar_members(
    display: str, blocks: Iterator[bytes], block_size: int
) -> Iterator[Member | Skipped]:
    reader = _BlockReader(blocks)
    corrupt: list[int] = []  # offsets of headers that failed their checksum
    try:
        archive = tarfile.open(  # noqa: SIM115 (closed by the `with` below)
            fileobj=reader,
            mode="r|",
            ignore_zeros=True,
            tarinfo=_noting_tarinfo(corrupt),
            bufsize=block_size,
        )
    except (UnreadableInput, *_MEMBER_ERRORS) as exc:
        yield Skipped(display, getattr(exc, "reason", "unreadable"), f"corrupt tar archive: {exc}")
        return
    with archive:
        while True:
            noted = len(corrupt)
            try:
                info = archive.next()
            except UnreadableInput as exc:
                if not reader.reported:
                    yield Skipped(display, exc.reason, str(exc))
                return
            except _MEMBER_ERRORS as exc:
                yield Skipped(display, "partial", f"corrupt tar archive: {exc}")
                return
            if len(corrupt) > noted:
                yield Skipped(
                    display,
                    "partial",
                    f"corrupt tar header at byte {corrupt[noted]}: its member was skipped",
                )
            if info is None:
                return
            name = f"{display}!{shown_name(info.name)}"
            if info.issym() or info.islnk():
                yield Skipped(name, "symlink", "archive member not followed")
            elif info.isreg():
                yield Member(name, _tar_blocks(archive, info, reader, block_size))
            elif not info.isdir():
                yield Skipped(name, "not-a-regular-file", "device or fifo archive member")


def _noting_tarinfo(corrupt: list[int]) -> type[tarfile.TarInfo]:
    """A TarInfo that notes where a header was corrupt (tarfile skips those silently)."""

    class NotingTarInfo(tarfile.TarInfo):
        @classmethod
        def fromtarfile(cls, tar: tarfile.TarFile) -> NotingTarInfo:
            try:
                return super().fromtarfile(tar)
            except _BAD_HEADER:
                corrupt.append(tar.offset)
                raise

    return NotingTarInfo


def _tar_blocks(
    archive: tarfile.TarFile, info: tarfile.TarInfo, reader: _BlockReader, block_size: int
) -> Iterator[bytes]:
    try:
        member = archive.extractfile(info)
        if member is None:
            return
        while block := member.read(block_size):
            yield block
    except UnreadableInput:
        reader.reported = True
        raise
    except _MEMBER_ERRORS as exc:
        raise UnreadableInput(f"corrupt archive member: {exc}") from None
