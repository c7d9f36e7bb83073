"""`devtoken scan --staged`: the pre-commit path. Offline, fast, added lines only."""

from __future__ import annotations

import time

from scanner.engine import Engine
from scanner.git.staged import staged_files
from scanner.models import Provenance
from scanner.scan import ScanResult, scan_bytes


def scan_staged(engine: Engine, repo: str = ".", scan_binary: bool = False) -> ScanResult:
    started = time.perf_counter()
    result = ScanResult(rules=engine.rules, engine=engine.backend)
    for staged in staged_files(repo):
        path = staged.path.decode("utf-8", "replace")
        if staged.content is None:
            continue
        part = scan_bytes(staged.content, engine, Provenance(path, "git-staged"), scan_binary)
        part.findings = [f for f in part.findings if f.match.line in staged.added_lines]
        part.suppressed = [s for s in part.suppressed if s.match.line in staged.added_lines]
        result.add(part)
    return result.finish(started)
