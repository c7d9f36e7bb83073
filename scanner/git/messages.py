"""Commit messages: what is scanned in one, and how every shown message is redacted.

Messages are scanned like blobs: the workers read commit objects through the
same `cat-file --batch` pipe and batch their messages with the blobs, so the
rules see each message once for a few native calls. Every message that reaches
an output, the store or a report comes from `redact_messages`, which masks each
rule match in it and every secret found elsewhere in the scan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanner.engine import Engine
from scanner.engine.chunks import ScanNotes
from scanner.masking import apply_masks, mask_token_like, rule_masks
from scanner.models import CommitInfo
from scanner.secret import Secret

if TYPE_CHECKING:
    from scanner.git.blobscan import BlobMatch
    from scanner.git.discover import Standing

SEPARATOR = b"\n\0\n"  # no rule matches across it (see blobscan)


def message_text(commit: bytes) -> bytes:
    """The message of a raw commit object, as UTF-8 (its `encoding` header honoured)."""
    header, blank, body = commit.partition(b"\n\n")
    if not blank:
        return b""
    encoding = ""
    for line in header.split(b"\n"):
        if line.startswith(b"encoding "):
            encoding = line[len(b"encoding ") :].strip().decode("ascii", "replace")
    if encoding and encoding.lower().replace("-", "") != "utf8":
        try:
            return body.decode(encoding, "replace").encode("utf-8", "surrogatepass")
        except LookupError:
            pass
    return body


def redact_messages(
    engine: Engine,
    infos: Mapping[str, CommitInfo],
    known: Mapping[str, str],
    notes: ScanNotes | None = None,
) -> dict[str, CommitInfo]:
    """`infos` with each message masked: every rule match in it and every `known` secret.

    `known` maps secrets found anywhere in the scan to their redacted forms (a
    secret pasted without the context its rule needs is still masked). A rule that
    times out on the messages (recorded in `notes`) may have missed a secret in them,
    so then every run in them that could be a credential is masked as well.
    """
    shown = "\n".join(info.message for info in infos.values())
    masks = {secret: masked for secret, masked in known.items() if secret in shown}
    joined = SEPARATOR.join(
        info.message.encode("utf-8", "surrogatepass") for info in infos.values()
    )
    notes = notes if notes is not None else ScanNotes()
    timeouts = len(notes.timeouts)
    masks.update(rule_masks(engine, joined, notes))
    unsure = len(notes.timeouts) > timeouts

    def redacted(message: str) -> str:
        message = apply_masks(message, masks)
        return mask_token_like(message) if unsure else message

    return {
        sha: dataclasses.replace(info, message=redacted(info.message))
        for sha, info in infos.items()
    }


@dataclass
class MessageOccurrence:
    """One secret in commit messages: the earliest commit holding it and how many do."""

    match: BlobMatch  # its `blob` is the commit
    commit: str
    time: int
    commits: int = 1
    unreachable: bool = False  # only commits no scanned ref reaches hold it
    rewritten: bool = False  # only commits rewritten-away tips reach hold it


def message_occurrences(
    commits: Sequence[tuple[bytes, int]],
    matches: Sequence[BlobMatch],
    standing: Callable[[int], Standing] = lambda index: (False, False),
) -> dict[tuple[str, Secret], MessageOccurrence]:
    """Group message matches by (rule, secret): a live commit first (then a rewritten-away
    one, then an unreachable one), then the earliest."""
    wanted = {m.blob for m in matches}
    order = {sha: (*standing(i), when) for i, (sha, when) in enumerate(commits) if sha in wanted}
    found: dict[tuple[str, Secret], MessageOccurrence] = {}
    for match in matches:
        key = (match.rule_id, match.secret)
        lost, rewritten, when = order.get(match.blob, (False, False, 0))
        current = found.get(key)
        if current is None:
            found[key] = MessageOccurrence(
                match, match.blob.decode(), when, unreachable=lost, rewritten=rewritten
            )
            continue
        current.commits += 1
        rank = (lost, rewritten, when, match.blob.decode())
        if rank < (current.unreachable, current.rewritten, current.time, current.commit):
            current.match, current.commit, current.time = match, match.blob.decode(), when
            current.unreachable, current.rewritten = lost, rewritten
    return found
