"""`devtoken scan --staged`: the pre-commit path. Offline, fast, added lines only."""

from __future__ import annotations

import os
import time

from scanner.engine import Engine
from scanner.git.staged import AddedLines, staged_files
from scanner.models import InputResult, Match, Provenance, Skipped
from scanner.scan import ScanResult, scan_bytes

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
