"""Inputs lost to errors are said once per reason with a count; --verbose and JSON list each."""

from __future__ import annotations

import json
from pathlib import Path

from scanner.cli.output import skipped_warnings
from scanner.models import Skipped
from tests.conftest import loopback_env, run_subprocess
from tests.gitrepo import Repo

LEAK = "developer_token: Zk3mQ9vTb2LxWc7RnP4s_g\n"


def damaged(tmp_path: Path, lost: int = 4) -> Repo:
    """A repository whose first commit's `lost` blobs are gone from the object store."""
    repo = Repo(tmp_path / "repo")
    repo.commit("one", {f"f{n}.txt": f"n{n}\n" for n in range(lost)} | {"ads.yaml": LEAK})
    for n in range(lost):
        sha = repo.git("rev-parse", f"HEAD:f{n}.txt")
        (repo.path / ".git" / "objects" / sha[:2] / sha[2:]).unlink()
    return repo


def test_many_missing_objects_are_one_line_with_a_count(tmp_path: Path) -> None:
    repo = damaged(tmp_path)
    done = run_subprocess(["git", str(repo.path)], env=loopback_env(), text=True)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        "devtoken: warning: 4 missing-object (objects the repository lacks, as a partial or "
        "damaged clone does), first f0.txt; --verbose or --format json lists them"
    ]
    assert done.stdout.splitlines()[-1].endswith("skipped 4 (4 missing-object)")
    verbose = run_subprocess(["git", str(repo.path), "-v"], env=loopback_env(), text=True)
    listed = [line for line in verbose.stderr.splitlines() if "missing-object" in line]
    assert [line.split(":")[2] for line in listed] == [f" f{n}.txt" for n in range(4)]
    doc = json.loads(
        run_subprocess(
            ["git", str(repo.path), "--format", "json"], env=loopback_env(), text=True
        ).stdout
    )
    assert [(s["path"], s["reason"]) for s in doc["stats"]["skipped"]] == [
        (f"f{n}.txt", "missing-object") for n in range(4)
    ]


def test_one_line_per_reason_and_a_single_skip_keeps_its_detail() -> None:
    skipped = [
        Skipped("a.gz", "partial", "corrupt gzip"),
        Skipped("b.bin", "binary", ""),  # only counted, never a warning
        Skipped("c", "unreadable", "Permission denied"),
        Skipped("d", "unreadable", "Permission denied"),
        Skipped("e", "unreadable", "No such file"),
    ]
    assert skipped_warnings(skipped) == [
        "warning: a.gz: partial: corrupt gzip",
        "warning: 3 unreadable (inputs that could not be read), first c; "
        "--verbose or --format json lists them",
    ]
    assert skipped_warnings(skipped, verbose=True) == [
        "warning: a.gz: partial: corrupt gzip",
        "warning: c: unreadable: Permission denied",
        "warning: d: unreadable: Permission denied",
        "warning: e: unreadable: No such file",
    ]


def test_counts_are_grouped_by_thousands() -> None:
    skipped = [Skipped(f"o{n}", "missing-object", "gone") for n in range(2072)]
    (line,) = skipped_warnings(skipped)
    assert line.startswith("warning: 2,072 missing-object (")
