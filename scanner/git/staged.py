"""What `git commit` is about to record: staged blobs and the lines they add.

Only the index is read (never the working tree), and only secrets on added
lines count, so an old leak elsewhere in a touched file does not block an
unrelated commit (history scans still report it). GIT_INDEX_FILE is honoured:
`git commit -- file` runs hooks against a temporary index.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from scanner.git.objects import read_blobs
from scanner.git.runner import GitError, describe_failure, git_env, run_git

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13, b'"': 34, b"\\": 92}


@dataclass
class StagedFile:
    path: bytes
    blob: bytes
    added_lines: set[int] = field(default_factory=set)
    content: bytes | None = None


def staged_files(repo: str = ".") -> list[StagedFile]:
    """Staged added/modified files with their index blobs, contents and added lines.

    One `git diff --patch-with-raw` gives both the blobs and the added lines, and
    one `cat-file --batch` the contents: two processes in all (the hook's budget
    is 150 ms, and each git start costs ~5 ms).
    """
    out = run_git(
        repo,
        [
            "diff",
            "--cached",
            "--patch-with-raw",
            "-U0",
            "--no-abbrev",
            "--no-color",
            "--no-ext-diff",
            "--no-renames",
            "--diff-filter=ACMRT",
            "--src-prefix=a/",
            "--dst-prefix=b/",
        ],
        env=git_env(keep_index=True),
        check=False,
        on_error=_not_a_repository,
    )
    files: dict[bytes, StagedFile] = {}
    for line in out.split(b"\n"):
        if line.startswith(b"diff --git"):
            break
        meta, tab, path = line.partition(b"\t")
        parts = meta.lstrip(b":").split(b" ")
        if line.startswith(b":") and tab and len(parts) >= 5 and parts[1] != b"160000":
            files[_unquote(path)] = StagedFile(path=_unquote(path), blob=parts[3])
    if not files:
        return []
    for path, lines in added_lines(out).items():
        if path in files:
            files[path].added_lines = lines
    by_blob: dict[bytes, list[StagedFile]] = {}
    for staged in files.values():
        by_blob.setdefault(staged.blob, []).append(staged)
    for sha, data, _note in read_blobs(repo, list(by_blob)):
        for staged in by_blob.get(sha, []):
            staged.content = data
    return sorted(files.values(), key=lambda f: f.path)


def _not_a_repository(repo: str, stderr: bytes) -> GitError:
    if b"--no-index" in stderr or b"not a git repository" in stderr.lower():
        return GitError(f"not a git repository: {os.path.abspath(repo)}")
    return GitError(describe_failure(["diff"], stderr))


def added_lines(patch: bytes) -> dict[bytes, set[int]]:
    """Line numbers (in the new file) of every added line, per path, from a -U0 patch."""
    result: dict[bytes, set[int]] = {}
    current: set[int] | None = None
    for line in patch.split(b"\n"):
        if line.startswith(b"+++ "):
            target = _unquote(line[4:])
            current = result.setdefault(target[2:], set()) if target.startswith(b"b/") else None
        elif line.startswith(b"@@") and current is not None:
            hunk = _HUNK.match(line)
            if hunk:
                start, count = int(hunk.group(1)), int(hunk.group(2) or 1)
                current.update(range(start, start + count))
    return result


def _unquote(text: bytes) -> bytes:
    """Undo git's C-style quoting of unusual paths (\"b/na\\303\\257ve\")."""
    if not (text.startswith(b'"') and text.endswith(b'"')):
        return text
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i : i + 1]
        if char == b"\\" and i + 1 < len(body):
            following = body[i + 1 : i + 2]
            if following.isdigit():
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.append(_ESCAPES.get(following, following[0]))
            i += 2
            continue
        out += char
        i += 1
    return bytes(out)
