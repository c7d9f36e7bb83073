"""`devtoken scan --staged`: what `git commit` is about to record, scanned on its added lines.

The pre-commit path: offline and fast (two git processes in all).

Only the index is read (never the working tree), and only secrets on added
lines count, so an old leak elsewhere in a touched file does not block an
unrelated commit (history scans still report it). GIT_INDEX_FILE is honoured:
`git commit -- file` runs hooks against a temporary index.

Which lines are added is decided here, over the same decoded text the engine
scans, from the index blob and the blob it replaces. Git's patch is never
parsed: its headers are decorated (quoted names, a tab after names with spaces),
and attributes (`-diff`, `binary`, a textconv driver) change or hide its hunks.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from scanner.git.objects import read_blobs
from scanner.git.runner import GitError, describe_failure, git_env, run_git
from scanner.models import InputResult, Match, Provenance, Skipped
from scanner.scan import ScanResult, scan_bytes
from scanner.sources.decode import as_utf8

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from scanner.engine import Engine

_GITLINK = b"160000"  # a submodule: a commit id, not content of this repository
_WHY = {
    "unmerged": "unmerged path: resolve the conflict and stage it",
    "missing": "the staged blob is missing from the object store",
    "corrupt": "the staged blob is corrupt",
}


def scan_staged(engine: Engine, repo: str = ".", scan_binary: bool = False) -> ScanResult:
    """Findings on the lines the staged changes add; what cannot be read is said."""
    started = time.perf_counter()
    result = ScanResult(rules=engine.rules, engine=engine.backend)
    for staged in staged_files(repo):
        path = os.fsdecode(staged.path)  # as the file scanner names it (baselines key on it)
        if staged.content is None:
            reason = "unmerged" if staged.note == "unmerged" else "unreadable"
            detail = _WHY.get(staged.note, staged.note)
            result.add(InputResult(skipped=[Skipped(path, reason, detail)]))
            continue
        part = scan_bytes(staged.content, engine, Provenance(path, "git-staged"), scan_binary)
        if part.findings or part.suppressed:  # decode and split the base only when it matters
            added = staged.added_lines()
            part.findings = [f for f in part.findings if _on_added(f.match, added)]
            part.suppressed = [s for s in part.suppressed if _on_added(s.match, added)]
        result.add(part)
    return result.finish(started)


def _on_added(match: Match, added: AddedLines) -> bool:
    """A secret counts when any line it spans is added (a new key under an old PEM header)."""
    return added.covers(match.line, match.secret.reveal().count("\n") + 1)


@dataclass
class StagedFile:
    """One staged path: its index blob and the blob it replaces, read once."""

    path: bytes
    blob: bytes
    status: str = "A"  # git's letter: A, M, T, R (rename), U (unmerged)
    base_blob: bytes | None = None  # the blob it replaces or was renamed from
    content: bytes | None = None
    base: bytes | None = None
    note: str = ""  # why `content` is None: missing, corrupt, unmerged

    def added_lines(self) -> AddedLines:
        text = as_utf8(self.content or b"")[1]
        return AddedLines(text, None if self.base is None else as_utf8(self.base)[1])


class AddedLines:
    """The lines of a staged text that its base does not have.

    A line is added when its exact text is not a line of the base: a moved or
    duplicated line brings no secret that history does not already hold, and the
    answer is one set lookup per reported line, whatever the size of the file or
    the shape of the edit (no quadratic line diff in the hook).
    """

    def __init__(self, text: bytes, base: bytes | None) -> None:
        self._lines = text.split(b"\n")
        self._old = None if base is None else frozenset(base.split(b"\n"))

    def covers(self, line: int, count: int = 1) -> bool:
        """Is any of lines `line`..`line+count-1` (1-based) added? Unknown lines are."""
        span = self._lines[max(line - 1, 0) : line - 1 + count]
        if self._old is None or len(span) < count:
            return True
        return any(text not in self._old for text in span)


def staged_files(repo: str = ".") -> list[StagedFile]:
    """Staged files that add content, with their index blobs, bases and contents.

    One `git diff --cached -z --raw -M` and one `cat-file --batch` for every
    blob: two processes in all (the hook's budget is 150 ms; a git start ~5 ms).
    A rename's base is the file it was moved from, so a moved file adds only
    its edits. A copy has no base: the secret is new at that path (as baselines
    and history scans count it), and the file it came from is still there.
    """
    out = run_git(
        repo,
        ["diff", "--cached", "-z", "--raw", "--no-abbrev", "--no-relative", "-M", "--no-ext-diff"],
        env=git_env(keep_index=True),
        on_error=_not_a_repository,
    )
    files: dict[bytes, StagedFile] = {}
    for meta, _source, path in _raw_records(out):
        staged = _staged_file(meta, path)
        if staged is not None:
            files[path] = staged
    _read_contents(repo, list(files.values()))
    return sorted(files.values(), key=lambda f: f.path)


def _staged_file(meta: list[bytes], path: bytes) -> StagedFile | None:
    """The record of one raw line, or None when it adds no content."""
    old_mode, new_mode, old_sha, new_sha, status = meta
    kind = status[:1].decode("ascii", "replace")
    if kind == "U":
        return StagedFile(path=path, blob=b"", status=kind, note="unmerged")
    if kind not in "AMTRC" or new_mode == _GITLINK or (kind != "C" and old_sha == new_sha):
        return None  # deleted, a submodule, or only a mode change or a pure rename
    base = None if kind in "AC" or old_mode in (_GITLINK, b"000000") else old_sha
    return StagedFile(path=path, blob=new_sha, status=kind, base_blob=base)


def _raw_records(out: bytes) -> Iterator[tuple[list[bytes], bytes | None, bytes]]:
    """(modes, shas and status; source path of a rename or copy; path) per `-z --raw` record."""
    fields = out.split(b"\0")
    i = 0
    while i + 1 < len(fields) and fields[i].startswith(b":"):
        meta = fields[i][1:].split(b" ")
        if len(meta) != 5:
            raise GitError(f"unexpected git diff output: {fields[i][:80]!r}")
        if meta[4][:1] in (b"R", b"C"):
            yield meta, fields[i + 1], fields[i + 2]
            i += 3
        else:
            yield meta, None, fields[i + 1]
            i += 2


def _read_contents(repo: str, files: list[StagedFile]) -> None:
    """Index blobs and their bases through one `cat-file --batch`."""
    wanted = {f.blob for f in files if f.blob} | {f.base_blob for f in files if f.base_blob}
    if not wanted:
        return
    blobs: dict[bytes, tuple[bytes | None, str]] = {}
    for sha, data, note in read_blobs(repo, sorted(wanted)):
        blobs[sha] = (data, note)
    for staged in files:
        if staged.blob:
            staged.content, note = blobs.get(staged.blob, (None, "missing"))
            staged.note = note if staged.content is None else ""
        if staged.base_blob:
            staged.base = blobs.get(staged.base_blob, (None, ""))[0]


def _not_a_repository(repo: str, stderr: bytes) -> GitError:
    if b"--no-index" in stderr or b"not a git repository" in stderr.lower():
        return GitError(f"not a git repository: {os.path.abspath(repo)}")
    return GitError(describe_failure(["diff"], stderr))
