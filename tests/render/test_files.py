"""render/files.py: report files, private (0600) when they hold secrets in clear."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from scanner.render.files import write_output


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_private_report_replaces_a_readable_file_with_a_0600_one(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    write_output(target, "new \u2026", private=True)
    assert target.read_bytes() == "new \u2026".encode()
    assert _mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # no temp file left


def test_a_public_report_keeps_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_output(tmp_path / "r.txt", "x\udcff", private=False)
    finally:
        os.umask(old)
    assert (tmp_path / "r.txt").read_bytes() == b"x\\udcff"
    assert _mode(tmp_path / "r.txt") == 0o644
