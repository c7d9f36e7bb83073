"""The hook sees what the file scanner sees: every rule example, in every encoding it reads.

Staged as new files, each example is reported exactly where `devtoken scan` reports
it; committed, then moved to another directory or touched elsewhere, none is
reported again (nothing old is re-reported).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scanner.rules import load_rules
from tests.conftest import findings_of
from tests.gitrepo import Repo

ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "utf8": lambda text: text.encode(),
    "utf16le": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf16be": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
}


def _write_examples(repo: Repo, folder: str) -> int:
    count = 0
    for rule in load_rules():
        for i, example in enumerate(rule.examples):
            for name, encode in ENCODINGS.items():
                # A line before and after: the hook must count lines as the scanner does.
                repo.write(f"{folder}/{rule.id}-{i}.{name}.txt", encode(f"# x\n{example}\nend\n"))
                count += 1
    return count


def test_staged_examples_match_the_file_scan(tmp_path: Path, cli: Any) -> None:
    repo = Repo(tmp_path / "repo")
    _write_examples(repo, "examples")
    repo.git("add", "-A")
    files = findings_of(cli("scan", ".", "--format", "json", cwd=repo.path).json())
    staged = cli("scan", "--staged", "--format", "json", cwd=repo.path).json()
    expected = sum(len(rule.examples) for rule in load_rules()) * len(ENCODINGS)
    assert len({path for path, _line, _rule in files}) == expected  # every example is found
    assert sorted(findings_of(staged)) == sorted(files)


def test_committed_examples_moved_or_touched_are_not_reported_again(
    tmp_path: Path, cli: Any
) -> None:
    repo = Repo(tmp_path / "repo")
    _write_examples(repo, "examples")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "examples")
    repo.git("mv", "examples", "moved")
    for path in sorted((repo.path / "moved").iterdir())[::2]:
        encode = ENCODINGS[path.suffixes[-2].lstrip(".")]
        with path.open("ab") as handle:
            handle.write(encode("more: 1\n").removeprefix(encode("")))  # an edit elsewhere
        repo.git("add", str(path))
    run = cli("scan", "--staged", "--format", "json", cwd=repo.path)
    assert (run.code, findings_of(run.json())) == (0, [])
