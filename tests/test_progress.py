"""The progress line: drawn on a terminal, silent elsewhere; the events scans report."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

import pytest

from scanner.cli.progress import Progress, ProgressBar, Rate
from scanner.config import ScanConfig
from scanner.engine import Engine
from scanner.git.scan_history import GitOptions, scan_git
from scanner.progress import FINISH, SCAN, WALK, FileMeter, ProgressEvent
from scanner.scan import scan
from scanner.sources.files import Input
from tests.gitrepo import Repo

T = "Zk3mQ9vTb2LxWc7RnP4s_g"
MB = 1_000_000


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")


def files(done: int, total: int, size: int, size_total: int | None) -> ProgressEvent:
    return ProgressEvent(SCAN, "files", done, total, size, size_total)


def lines(screen: io.StringIO) -> list[str]:
    """What each redraw showed, without the padding over a longer previous line."""
    return [part.rstrip() for part in screen.getvalue().split("\r") if part.strip()]


def test_draws_and_clears_on_a_terminal() -> None:
    screen = FakeTerminal()
    progress = Progress(screen)
    progress.update("10 commits, 5/7 blobs")
    progress.update("ignored: within 0.1 s of the last redraw")
    progress.close()
    assert screen.getvalue().startswith("\rdevtoken: 10 commits, 5/7 blobs")
    assert "ignored" not in screen.getvalue()
    assert screen.getvalue().endswith("\r")


def test_silent_when_not_a_terminal_or_disabled() -> None:
    pipe = io.StringIO()
    Progress(pipe).update("x")
    ProgressBar(pipe)(files(1, 2, 3, 4))
    quiet = FakeTerminal()
    Progress(quiet, enabled=False).update("x")
    ProgressBar(quiet, enabled=False)(files(1, 2, 3, 4))
    assert pipe.getvalue() == "" and quiet.getvalue() == ""


def test_files_and_bytes_of_the_total_with_rate_and_eta() -> None:
    clock, screen = Clock(), FakeTerminal()
    bar = ProgressBar(screen, clock=clock)
    bar(files(0, 40, 0, 10 * MB))
    clock.now += 1.55
    bar(files(12, 40, 3_100_000, 10 * MB))
    assert lines(screen) == [
        "devtoken: 0/40 files, 0.0/10.0 MB",
        "devtoken: 12/40 files, 3.1/10.0 MB, 2.0 MB/s, ETA 0:04",
    ]
    bar.close()
    drawn = len("devtoken: 12/40 files, 3.1/10.0 MB, 2.0 MB/s, ETA 0:04")
    assert screen.getvalue().endswith("\r" + " " * drawn + "\r")


def test_redraws_at_most_ten_times_a_second_but_always_on_a_new_phase() -> None:
    clock, screen = Clock(), FakeTerminal()
    bar = ProgressBar(screen, clock=clock)
    bar(ProgressEvent(WALK, "blobs", 0, 512, commits=130))
    clock.now += 0.05
    bar(ProgressEvent(WALK, "blobs", 0, 1024, commits=260))  # too soon: not drawn
    clock.now += 0.01
    bar(ProgressEvent(SCAN, "blobs", 0, 3000, commits=1200))  # a new phase: drawn
    clock.now += 1.0
    bar(ProgressEvent(SCAN, "blobs", 424, 3000, commits=1200))
    clock.now += 0.01
    bar(ProgressEvent(FINISH, "blobs", 3000, 3000, commits=1200))
    assert lines(screen) == [
        "devtoken: walking history: 130 commits, 512 blobs found, 0 scanned",
        "devtoken: 0/3,000 blobs (0%), 1,200 commits, 0 blobs/s",
        "devtoken: 424/3,000 blobs (14%), 1,200 commits, 400 blobs/s, ETA 0:07",
        "devtoken: 3,000 blobs scanned, attributing findings to commits",
    ]


def test_stdin_shows_bytes_and_rate_without_a_total_or_eta() -> None:
    clock, screen = Clock(), FakeTerminal()
    bar = ProgressBar(screen, clock=clock)
    bar(files(0, 1, 0, None))
    clock.now += 3
    bar(files(0, 1, 120 * MB, None))
    assert lines(screen)[-1] == "devtoken: 0/1 files, 120.0 MB, 40.0 MB/s"


def test_the_listing_before_the_totals_are_known() -> None:
    screen = FakeTerminal()
    ProgressBar(screen)(ProgressEvent(WALK, "files", 0, 1536, 0, 56_700_000))
    assert lines(screen) == ["devtoken: listing: 1,536 files, 56.7 MB so far"]


def test_sizes_and_durations() -> None:
    clock, screen = Clock(), FakeTerminal()
    bar = ProgressBar(screen, clock=clock)
    bar(files(0, 2, 0, 900))
    clock.now += 1
    bar(files(1, 2, 300, 900))
    clock.now += 1
    bar(files(1, 2, 400, 5 * 10**9))  # a total past 1 GB: GB
    clock.now += 1
    bar(files(1, 2, 1000, 4_000_000))
    assert lines(screen)[1:] == [
        "devtoken: 1/2 files, 300/900 B, 300 B/s, ETA 0:02",
        "devtoken: 1/2 files, 0.0/5.0 GB, 200 B/s, ETA 6944:26:38",
        "devtoken: 1/2 files, 0.0/4.0 MB, 333 B/s, ETA 3:19:57",
    ]


def test_the_rate_is_measured_over_the_last_seconds() -> None:
    rate = Rate(window=3.0)
    assert rate.sample(0.0, 0) is None
    assert rate.sample(1.0, 10) == 10.0  # a slow start (the engine compiling)...
    assert rate.sample(2.0, 110) == 55.0
    assert rate.sample(4.0, 310) == 100.0  # ...forgotten once out of the window: (310-10)/3
    assert rate.sample(5.0, 410) == 100.0


def test_the_line_fits_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    screen = FakeTerminal()
    Progress(screen).update("12/40 files, 3.1/10.0 MB, 2.0 MB/s, ETA 0:04")
    assert screen.getvalue() == "\rdevtoken: 12/40 files, 3.1/1…"
    assert len(screen.getvalue()) == 30  # \r and 29 columns: the last one is never written


def test_a_path_in_the_line_is_escaped() -> None:
    screen = FakeTerminal()
    Progress(screen).update("a\x1b]0;title\x07.log")
    assert screen.getvalue() == "\rdevtoken: a\\x1b]0;title\\x07.log"


# The library side: what scans report.


def collect() -> tuple[list[ProgressEvent], Any]:
    events: list[ProgressEvent] = []
    return events, events.append


def test_the_file_walk_is_listed_first_with_its_totals(tmp_path: Path) -> None:
    events, emit = collect()
    meter = FileMeter(emit)
    items = [Input(f"f{i}", f"f{i}", size=10 * i) for i in range(1, 6)]
    assert meter.listed(iter(items), every=2) == items
    assert events == [
        ProgressEvent(WALK, "files", 0, 2, 0, 30),
        ProgressEvent(WALK, "files", 0, 4, 0, 100),
        ProgressEvent(SCAN, "files", 0, 5, 0, 150),
    ]


def test_a_files_scan_reports_files_and_bytes_of_the_total(tmp_path: Path, rules: Any) -> None:
    leak = f"developer_token: {T}\n"
    (tmp_path / "a.txt").write_text(leak)
    (tmp_path / "b.txt").write_bytes(b"x" * 5000)
    packed = gzip.compress(b"y" * 200_000)  # reads 200 kB from a smaller file
    (tmp_path / "c.log.gz").write_bytes(packed)
    (tmp_path / "d.bin").write_bytes(b"\x00\x01" * 100)  # skipped as binary: still done
    events, emit = collect()
    config = ScanConfig(paths=(str(tmp_path),))
    result = scan(config, Engine(rules), on_progress=emit)
    total = len(leak) + 5000 + len(packed) + 200
    assert len(result.findings) == 1
    assert events[0] == ProgressEvent(SCAN, "files", 0, 4, 0, total)
    assert events[-1] == ProgressEvent(SCAN, "files", 4, 4, total, total)
    done = [e.bytes_done for e in events]
    assert done == sorted(done) and max(done) == total  # never past the total
    assert [e.done for e in events].count(4) == 1


def test_a_big_file_reports_its_bytes_as_they_are_read(tmp_path: Path, rules: Any) -> None:
    big = tmp_path / "app.log"
    big.write_bytes(b"line of a log\n" * 200_000)  # 2.8 MB: three 1 MiB blocks
    events, emit = collect()
    config = ScanConfig(paths=(str(big),), jobs=2, chunk_size=1 << 20)  # on a worker thread
    scan(config, Engine(rules), on_progress=emit)
    size = 2_800_000
    assert [(e.done, e.bytes_done) for e in events] == [
        (0, 0),
        (0, 1 << 20),
        (0, 2 << 20),
        (0, size),
        (1, size),
    ]


def test_no_progress_asked_no_listing(tmp_path: Path, rules: Any, monkeypatch: Any) -> None:
    """Without on_progress the walk stays lazy: scanning starts before it ends."""
    import scanner.scan as module
    import scanner.sources.files as files

    (tmp_path / "a.txt").write_text("a")
    seen: list[str] = []

    def lazy(*args: Any) -> Any:
        seen.append("walk started")
        yield Input(str(tmp_path / "a.txt"), str(tmp_path / "a.txt"), 1)
        seen.append("walk ended")

    def scanned(*args: Any, **kwargs: Any) -> Any:
        seen.append("scanned")
        return original(*args, **kwargs)

    original = module.scan_input
    monkeypatch.setattr(files, "iter_inputs", lazy)  # scan() imports it when it runs
    monkeypatch.setattr(module, "scan_input", scanned)
    scan(ScanConfig(paths=(str(tmp_path),)), Engine(rules))
    assert seen == ["walk started", "scanned", "walk ended"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_history_scan_reports_the_walk_then_blobs_of_the_total(
    tmp_path: Path, rules: Any, jobs: int
) -> None:
    repo = Repo(tmp_path / "repo")
    for i in range(1, 4):
        repo.commit(f"c{i}", {f"f{i}.txt": f"file {i}\n", "shared.txt": f"v{i}\n"})
    events, emit = collect()
    result = scan_git(GitOptions(repo=str(repo.path), jobs=jobs), Engine(rules), emit)
    blobs = result.extra_stats["blobs"]
    assert blobs == 6
    phases = [e.phase for e in events]
    assert phases[0] == WALK and phases[-2:] == [SCAN, FINISH]
    assert phases == sorted(phases, key=[WALK, SCAN, FINISH].index)
    walked = [e for e in events if e.phase == WALK]
    assert all(e.done <= e.total <= blobs for e in walked)
    final = [e for e in events if e.phase != WALK]
    assert {(e.total, e.commits) for e in final} == {(blobs, 3)}
    assert events[-1] == ProgressEvent(FINISH, "blobs", blobs, blobs, commits=3)
