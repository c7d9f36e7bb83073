"""Annotated tags in the org scan's history delta (`scan_delta` on a bare mirror).

Tips are refs' objects unpeeled, so an annotated tag's tip is its tag object: the delta
reads the messages of the tag objects the new tips reach and the old tips do not. A tag
pushed onto an old commit is read (no commit of the delta reaches it); a tag the last run
saw is not read again.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from scanner.engine import Engine
from scanner.git.delta import read_tips, scan_delta
from scanner.models import GitProvenance
from scanner.scan import ScanResult
from tests.gitrepo import Repo

CLIENT_SECRET = "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"
TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"


def _git(*args: str) -> None:
    done = subprocess.run(["git", *args], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()


def tips(mirror: Path) -> list[str]:
    return sorted(set(read_tips(str(mirror))[0].values()))


def in_tags(result: ScanResult) -> list[tuple[str, str, str]]:
    """(tag name, tag object, redacted secret) per tag-message finding."""
    rows = []
    for finding in result.findings:
        where = finding.provenance
        assert isinstance(where, GitProvenance)
        if where.location == "tag-message":
            assert where.tag is not None
            rows.append((where.tag.name, where.tag.sha, finding.match.secret.redacted))
    return sorted(rows)


def test_a_delta_reads_new_tag_objects_only(tmp_path: Path, engine: Engine) -> None:
    work = Repo(tmp_path / "work")
    work.commit("base", {"a.txt": "a\n"})
    work.git("tag", "-a", "v1", "-m", f"release client_secret: {CLIENT_SECRET}")
    v1 = work.git("rev-parse", "v1")
    mirror = tmp_path / "mirror.git"
    _git("clone", "-q", "--mirror", str(work.path), str(mirror))

    first = scan_delta(str(mirror), engine, tips(mirror), [])
    assert in_tags(first.result) == [("refs/tags/v1", v1, "GOCSPX-e9…jA")]
    assert first.result.extra_stats["tag_messages_scanned"] == 1

    old = tips(mirror)
    work.commit("more", {"b.txt": "b\n"})
    work.git("tag", "-a", "v0.9", "HEAD~1", "-m", f"late notes developer_token: {TOKEN}")
    v09 = work.git("rev-parse", "v0.9")
    _git("-C", str(mirror), "fetch", "-q", "--prune", "origin")

    second = scan_delta(str(mirror), engine, tips(mirror), old)
    # v1 was read last time; v0.9 tags an old commit, outside the walked delta, yet is new
    assert in_tags(second.result) == [("refs/tags/v0.9", v09, "Qm3x…A1")]
    stats = second.result.extra_stats
    assert (stats["tags"], stats["tag_messages_scanned"], stats["commits"]) == (1, 1, 1)
