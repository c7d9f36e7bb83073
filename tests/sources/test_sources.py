"""Bad input never crashes a scan and never hides other files' findings."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import json
import lzma
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from tests.conftest import findings_of, run_subprocess

TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
OTHER = "Zk4mQ9_rT2xW7vB1nL5pH8"
LINE = f"developer_token: {TOKEN}\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A directory with one good file that every test expects to stay found."""
    (tmp_path / "good.yaml").write_text(f"# config\ndeveloper-token: {OTHER}\n")
    return tmp_path


def scan_json(cli: Any, *args: str) -> tuple[int, dict[str, Any]]:
    run = cli("scan", *args, "--format", "json")
    assert run.code in (0, 1), run.err
    return run.code, run.json()


def test_binary_file_is_skipped_with_a_reason(tree: Path, cli: Any) -> None:
    (tree / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40 + LINE.encode())
    _, doc = scan_json(cli, str(tree))
    assert findings_of(doc) == [(str(tree / "good.yaml"), 2, "google-ads-developer-token")]
    assert doc["stats"]["skipped_by_reason"] == {"binary": 1}
    _, doc = scan_json(cli, str(tree), "--scan-binary")
    assert len(doc["findings"]) == 2


def test_stray_nul_bytes_in_text_do_not_make_it_binary(tree: Path, cli: Any) -> None:
    (tree / "app.log").write_bytes(
        b"2026-11-20 worker restarted, padding \x00 left\n" * 50 + LINE.encode()
    )
    _, doc = scan_json(cli, str(tree))
    assert (str(tree / "app.log"), 51, "google-ads-developer-token") in findings_of(doc)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_files_are_decoded(tree: Path, cli: Any, encoding: str) -> None:
    (tree / "App.config").write_bytes(
        f'<x>\r\n  <add key="DeveloperToken" value="{TOKEN}"/>\r\n'.encode(encoding)
    )
    _, doc = scan_json(cli, str(tree))
    found = {(f["path"], f["line"], f["column"]) for f in doc["findings"]}
    assert (str(tree / "App.config"), 2, len('  <add key="DeveloperToken" value="') + 1) in found
    (record,) = [f for f in doc["findings"] if f["path"].endswith("App.config")]
    assert record["encoding"].startswith("utf-16")


def test_invalid_utf8_is_scanned_around(tree: Path, cli: Any) -> None:
    (tree / "latin1.properties").write_bytes(b"# caf\xe9 \xff\xfe\n" + b"\xe9 " + LINE.encode())
    _, doc = scan_json(cli, str(tree))
    (record,) = [f for f in doc["findings"] if f["path"].endswith("latin1.properties")]
    assert (record["line"], record["column"]) == (2, 3 + len("developer_token: "))


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)],
)
def test_compressed_logs_are_read_transparently(
    tree: Path, cli: Any, suffix: str, compress: Any
) -> None:
    (tree / f"app.log{suffix}").write_bytes(compress(b"noise\n" * 1000 + LINE.encode()))
    _, doc = scan_json(cli, str(tree))
    (record,) = [f for f in doc["findings"] if f["path"].endswith(suffix)]
    assert (record["line"], record["source"]) == (1001, "compressed-file")


def test_truncated_gzip_keeps_what_was_read_and_says_so(tree: Path, cli: Any) -> None:
    data = gzip.compress(LINE.encode() + os.urandom(400_000).hex().encode())
    (tree / "cut.log.gz").write_bytes(data[: len(data) // 2])
    run = cli("scan", str(tree), "--format", "json")
    doc = run.json()
    assert (str(tree / "cut.log.gz"), 1, "google-ads-developer-token") in findings_of(doc)
    assert (str(tree / "good.yaml"), 2, "google-ads-developer-token") in findings_of(doc)
    (skip,) = doc["stats"]["skipped"]
    assert skip["reason"] == "partial" and "truncated" in skip["detail"]
    assert "cut.log.gz: partial: truncated" in run.err


def test_a_line_many_times_the_read_buffer_is_scanned(tree: Path, cli: Any) -> None:
    filler = b"A" * (40 << 20)  # no newline at all, 40 MiB (the read block is 1 MiB, chunk 16 MiB)
    middle = f" developer-token: {TOKEN} ".encode()
    (tree / "oneline.log").write_bytes(
        filler + middle + filler + f" refresh_token={OTHER}".encode()
    )
    _, doc = scan_json(cli, str(tree / "oneline.log"))
    (record,) = doc["findings"]
    assert (record["line"], record["column"]) == (1, len(filler) + len(" developer-token: ") + 1)


def test_an_unreadable_file_is_reported_not_fatal(tree: Path, cli: Any) -> None:
    shared = Path(tempfile.mkdtemp(prefix="devtoken-unreadable-"))
    try:
        os.chmod(shared, 0o755)
        target = shared / "tree"
        shutil.copytree(tree, target)
        os.chmod(target, 0o755)
        (target / "locked.env").write_text(LINE)
        (target / "locked.env").chmod(0)
        cli("scan", str(target))  # imports every lazily imported module before the fork
        code, out, err = _scan_unprivileged(["scan", str(target), "--format", "json"])
        assert code == 1, err
        doc = json.loads(out)
        assert findings_of(doc) == [(str(target / "good.yaml"), 2, "google-ads-developer-token")]
        assert doc["stats"]["skipped"] == [
            {
                "path": str(target / "locked.env"),
                "reason": "unreadable",
                "detail": "Permission denied",
            }
        ]
        assert "locked.env: unreadable: Permission denied" in err
    finally:
        shutil.rmtree(shared)


def _scan_unprivileged(args: list[str]) -> tuple[int, str, str]:
    """Run main() in a forked child; as root, drop to `nobody` so chmod 000 means something."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(args)
            os.write(write_end, json.dumps([code, out.getvalue(), err.getvalue()]).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    code, out, err = json.loads(payload)
    return int(code), str(out), str(err)


def test_symlink_loops_and_links_out_of_the_tree_are_not_followed(
    tree: Path, cli: Any, tmp_path_factory: Any
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.env").write_text(LINE)
    (tree / "loop").symlink_to(tree / "loop")
    (tree / "parent").symlink_to(tree, target_is_directory=True)
    (tree / "out.env").symlink_to(outside / "secret.env")
    (tree / "outdir").symlink_to(outside, target_is_directory=True)
    _, doc = scan_json(cli, str(tree))
    assert findings_of(doc) == [(str(tree / "good.yaml"), 2, "google-ads-developer-token")]
    assert doc["stats"]["skipped_by_reason"] == {"symlink": 4}


def test_an_explicit_symlink_loop_is_unreadable_not_a_crash(tree: Path, cli: Any) -> None:
    (tree / "loop").symlink_to(tree / "loop")
    run = cli("scan", str(tree / "loop"), str(tree / "good.yaml"), "--format", "json")
    assert run.code == 1
    doc = run.json()
    assert doc["stats"]["skipped"][0]["reason"] == "unreadable"
    assert len(doc["findings"]) == 1


def test_size_cap_applies_to_walked_files_with_a_reason(tree: Path, cli: Any) -> None:
    (tree / "big.log").write_text("x" * 5000 + "\n" + LINE)
    size = (tree / "big.log").stat().st_size
    _, doc = scan_json(cli, str(tree), "--max-file-size", "4k")
    assert doc["stats"]["skipped"] == [
        {
            "path": str(tree / "big.log"),
            "reason": "too-large",
            "detail": f"{size} bytes > limit 4096",
        }
    ]
    _, doc = scan_json(cli, str(tree / "big.log"), "--max-file-size", "4k")  # named: always read
    assert len(doc["findings"]) == 1


def test_git_directories_are_skipped(tree: Path, cli: Any) -> None:
    (tree / ".git").mkdir()
    (tree / ".git" / "config").write_text(LINE)
    _, doc = scan_json(cli, str(tree))
    assert len(doc["findings"]) == 1


def test_exclude_globs(tree: Path, cli: Any) -> None:
    (tree / "fixtures").mkdir()
    (tree / "fixtures" / "a.env").write_text(LINE)
    _, doc = scan_json(cli, str(tree), "--exclude", "fixtures")
    assert len(doc["findings"]) == 1


def test_stdin_plain_and_compressed() -> None:
    run = run_subprocess(["scan", "-", "--format", "json"], stdin=b"x\n" + LINE.encode())
    assert run.returncode == 1, run.stderr
    (record,) = json.loads(run.stdout)["findings"]
    assert (record["path"], record["line"], record["source"]) == ("-", 2, "stdin")
    run = run_subprocess(["scan", "-", "--format", "json"], stdin=gzip.compress(LINE.encode()))
    assert len(json.loads(run.stdout)["findings"]) == 1
