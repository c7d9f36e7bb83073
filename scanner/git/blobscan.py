"""Scan many blobs with few native calls: batch, prefilter once, rescan the few.

Small blobs are concatenated (separated by a NUL line that no rule can match
across) into batches of a few MiB; one prefilter pass finds the candidate
offsets of the whole batch, and only the blobs holding a candidate are scanned
alone through the full engine. A history of 300k blobs thus costs ~1,500
native scans instead of 300k Python-level ones.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from scanner.engine import Engine
from scanner.engine.chunks import ScanNotes, scan_blocks
from scanner.filters import SuppressionCap
from scanner.git.messages import SEPARATOR, message_text
from scanner.secret import Secret
from scanner.sources.decode import utf8_readings

BATCH_BYTES = 4 << 20
# Suppressed matches one blob keeps for --explain; past it a match suppressed by its value
# alone (a mask, a placeholder) is dropped unlocated, so a blob of a million masked tokens
# costs neither minutes nor gigabytes.
KEEP_SUPPRESSED = 1000
LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"


@dataclass(frozen=True)
class BlobMatch:
    blob: bytes
    rule_id: str
    secret: Secret  # redacted in repr; pickles as its value and keep
    line: int
    column: int
    reason: str | None  # why it was suppressed; None for a finding
    attributes: tuple[tuple[str, str], ...] = ()
    in_message: bool = False  # `blob` is a commit or tag object; the match is in its message


@dataclass
class BlobScanResult:
    matches: list[BlobMatch] = field(default_factory=list)
    skipped: list[tuple[bytes, str, str]] = field(default_factory=list)  # (blob, reason, detail)
    bytes_scanned: int = 0
    blobs_scanned: int = 0
    messages_scanned: int = 0  # commit messages
    tag_messages_scanned: int = 0  # annotated tag objects' messages

    def merge(self, other: BlobScanResult) -> None:
        self.matches.extend(other.matches)
        self.skipped.extend(other.skipped)
        self.bytes_scanned += other.bytes_scanned
        self.blobs_scanned += other.blobs_scanned
        self.messages_scanned += other.messages_scanned
        self.tag_messages_scanned += other.tag_messages_scanned


class BlobScanner:
    """Feed (sha, content, note) triples; collects matches for every blob and message (of a
    commit or an annotated tag)."""

    def __init__(self, engine: Engine, scan_binary: bool = False) -> None:
        # scan_binary: scan blobs that look binary instead of skipping them
        self.engine = engine
        self.scan_binary = scan_binary
        self.result = BlobScanResult()
        self._batch: list[tuple[bytes, bytes]] = []
        self._commits: set[bytes] = set()  # shas in the batch that are messages
        self._batch_size = 0

    def feed_all(self, items: Iterable[tuple[bytes, bytes | None, str]]) -> BlobScanResult:
        for sha, data, note in items:
            self.feed(sha, data, note)
        self.flush()
        return self.result

    def feed(self, sha: bytes, data: bytes | None, note: str = "") -> None:
        if data is None:
            if note.startswith("too-large:"):
                size = note.partition(":")[2]
                self.result.skipped.append((sha, "too-large", f"{size} bytes over the size limit"))
            elif note == "corrupt":
                self.result.skipped.append((sha, "corrupt-object", "git cannot read this object"))
            else:
                self.result.skipped.append((sha, "missing-object", "not in the object store"))
            return
        if note in ("commit", "tag"):  # a tag object is laid out as a commit: headers, message
            text: bytes | None = message_text(data)
            self._commits.add(sha)
            if note == "tag":
                self.result.tag_messages_scanned += 1
            else:
                self.result.messages_scanned += 1
        else:
            readings = self._texts(sha, data)
            if not readings:
                return
            self.result.blobs_scanned += 1
            self.result.bytes_scanned += len(data)
            for alternate in readings[1:]:  # a guessed decode: its plain reading too
                self._add(sha, alternate)
            text = readings[0]
        assert text is not None
        self._add(sha, text)

    def _add(self, sha: bytes, text: bytes) -> None:
        if len(text) >= BATCH_BYTES:
            self._scan_alone(sha, text)
            return
        self._batch.append((sha, text))
        self._batch_size += len(text) + len(SEPARATOR)
        if self._batch_size >= BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch, self._batch_size = self._batch, [], 0
        starts: list[int] = []
        position = 0
        for _, text in batch:
            starts.append(position)
            position += len(text) + len(SEPARATOR)
        joined = SEPARATOR.join(text for _, text in batch)
        hit = {
            bisect.bisect_right(starts, end - 1) - 1
            for _, end in self.engine.prefilter.candidates(joined)
        }
        for index in sorted(hit):
            if 0 <= index < len(batch):
                self._scan_alone(*batch[index])
        self._commits.clear()

    def _texts(self, sha: bytes, data: bytes) -> list[bytes]:
        """Every reading of a blob as UTF-8 (two when its encoding was a guess); [] to skip."""
        if data.startswith(LFS_POINTER):
            self.result.skipped.append((sha, "lfs-pointer", "content is in the LFS store"))
            return []
        readings = utf8_readings(data)
        if readings[0][0] is None and not self.scan_binary:
            self.result.skipped.append((sha, "binary", "binary content"))
            return []
        return [text for _, text in readings]

    def _scan_alone(self, sha: bytes, text: bytes) -> None:
        in_message = sha in self._commits
        notes = ScanNotes()
        cap = SuppressionCap(KEEP_SUPPRESSED, Counter())
        for match in scan_blocks(self.engine, [text], wanted=cap.wanted, notes=notes):
            kept, reason = cap.sort(match)
            if not kept:
                continue
            self.result.matches.append(
                BlobMatch(
                    sha,
                    match.rule.id,
                    match.secret,
                    match.line,
                    match.column,
                    reason,
                    match.attributes,
                    in_message,
                )
            )
        self.result.skipped.extend((sha, "rule-timeout", t.describe()) for t in notes.timeouts)
