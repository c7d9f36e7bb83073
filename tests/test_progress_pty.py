"""The progress bar through the real CLI: drawn and cleared on a terminal (a pty), absent
on a pipe, with --quiet and on the hook path, where no progress code is even imported."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import loopback_env
from tests.gitrepo import Repo

T = "Zk3mQ9vTb2LxWc7RnP4s_g"
BAR = re.compile(r"\r(devtoken: [^\r\n]*)")  # a redraw (a printed line is "\r\n" on a pty)
PROGRESS_MODULES = ("scanner.progress", "scanner.cli.progress", "tqdm", "rich")

# Runs the CLI in-process and then says which progress modules it imported.
REPORT_IMPORTS = f"""
import sys
from scanner.cli import main
code = main(sys.argv[1:])
names = {PROGRESS_MODULES!r}
loaded = sorted(m for m in sys.modules if m in names or m.split(".")[0] in names)
sys.__stdout__.write("imported progress: " + ",".join(loaded) + "\\n")
sys.exit(code)
"""


def in_pty(args: list[str], cwd: Path | None = None, stdin: int | None = None) -> tuple[int, str]:
    """Run `python ARGS` with stdout and stderr on a new pty; its exit code and output."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdin=subprocess.DEVNULL if stdin is None else stdin,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=loopback_env(COLUMNS="150"),
    )
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                raise AssertionError(f"no output for 60 s: {b''.join(chunks)!r}")
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


WIPE = re.compile(r"\r( +)\r")


def drawn(output: str) -> tuple[list[str], str]:
    """The bar's redraws, and what was written once it was wiped (checking the wipe covers
    the last redraw): findings and the summary only."""
    wipes = list(WIPE.finditer(output))
    assert wipes, f"the bar was never wiped: {output!r}"
    wipe = wipes[-1]
    redraws = [line.rstrip() for line in BAR.findall(output[: wipe.start() + 1])]
    assert redraws and len(wipe.group(1)) == len(redraws[-1])
    return redraws, output[wipe.end() :]


def no_bar(output: str) -> bool:
    return WIPE.search(output) is None and "ETA" not in output and "\rdevtoken: 0/" not in output


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "config.yaml").write_text(f"developer_token: {T}\n")
    (root / "app.log").write_bytes(b"a log line\n" * 300_000)  # 3.3 MB
    (root / "notes.txt").write_text("nothing here\n")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.commit("one", {"a.txt": "a\n", "b.txt": "b\n"})
    repo.commit("two", {"a.txt": f"developer_token: {T}\n"})
    repo.commit("three", {"c.txt": "c\n"}, remove=("b.txt",))
    return repo


def test_scan_on_a_terminal_shows_files_and_bytes_of_the_total(tree: Path) -> None:
    code, output = in_pty(["-c", REPORT_IMPORTS, "scan", str(tree)])
    assert code == 1
    redraws, after = drawn(output)
    assert redraws[0] == "devtoken: 0/3 files, 0.0/3.3 MB"
    assert all(re.fullmatch(r"devtoken: [0-3]/3 files, \d\.\d/3\.3 MB.*", b) for b in redraws)
    assert after.startswith(f"{tree}/config.yaml:1:18: HIGH google-ads-developer-token")
    assert "devtoken: 1 finding(s) in 1 file(s)" in after and no_bar(after)
    assert "imported progress: scanner.cli.progress,scanner.progress" in after


def test_git_on_a_terminal_shows_the_walk_then_blobs_of_the_total(repo: Repo) -> None:
    code, output = in_pty(["-m", "scanner", "git", str(repo.path)])
    assert code == 1
    redraws, after = drawn(output)
    walk = r"devtoken: walking history: \d commits, \d blobs found, \d scanned"
    assert re.fullmatch(walk, redraws[0])
    assert any(re.fullmatch(r"devtoken: \d/4 blobs \(\d+%\), 3 commits.*", b) for b in redraws)
    assert redraws[-1] == "devtoken: 4 blobs scanned, attributing findings to commits"
    assert no_bar(after) and "a.txt" in after


def test_stdin_on_a_terminal_shows_bytes_without_a_total(tree: Path) -> None:
    with open(tree / "app.log", "rb") as log:
        code, output = in_pty(["-m", "scanner", "scan", "-"], stdin=log.fileno())
    assert code == 0
    redraws, after = drawn(output)
    assert redraws[0] == "devtoken: 0/1 files, 0 B"
    assert all(
        re.fullmatch(r"devtoken: [01]/1 files, [\d.]+ [kM]?B(, .* B/s)?", b) for b in redraws
    )
    assert no_bar(after)


def test_quiet_on_a_terminal_draws_nothing_and_imports_nothing(tree: Path) -> None:
    code, output = in_pty(["-c", REPORT_IMPORTS, "scan", str(tree), "--quiet"])
    assert code == 1
    assert no_bar(output)
    assert "imported progress: \r\n" in output


def test_the_hook_on_a_terminal_draws_nothing_and_imports_nothing(repo: Repo) -> None:
    repo.write("new.txt", f"developer_token: {T}\n")
    repo.git("add", "new.txt")
    code, output = in_pty(["-c", REPORT_IMPORTS, "scan", "--staged"], cwd=repo.path)
    assert code == 1
    assert no_bar(output)
    assert "imported progress: \r\n" in output


@pytest.mark.parametrize("command", ["scan", "git", "staged"])
def test_no_bar_and_no_progress_code_on_a_pipe(command: str, tree: Path, repo: Repo) -> None:
    args = {"scan": ["scan", str(tree)], "git": ["git", str(repo.path)], "staged": []}[command]
    if command == "staged":
        repo.write("new.txt", f"developer_token: {T}\n")
        repo.git("add", "new.txt")
        args = ["scan", "--staged"]
    done = subprocess.run(
        [sys.executable, "-c", REPORT_IMPORTS, *args],
        capture_output=True,
        text=True,
        cwd=repo.path,
        env=loopback_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "\r" not in done.stderr and "ETA" not in done.stderr
    assert "imported progress: \n" in done.stdout
