"""Decoders lose no token: every compressed stream, every encoding, exact positions,
and a bounded decompression that says what it skipped."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from pathlib import Path
from typing import Any

import pytest

from scanner.config import ScanConfig
from scanner.engine import Engine
from scanner.models import Provenance
from scanner.scan import scan, scan_bytes

T = "Zk3mQ9vTb2LxWc7RnP4s_g"
U = "Qm3xK9_pL2vN8rT4wY6zA1"
KEY = "developer_token: "
LINE = f"{KEY}{T}\n"


def found(cli: Any, *paths: Path) -> tuple[list[tuple[str, int, int, str]], list[dict[str, Any]]]:
    run = cli("scan", *map(str, paths), "--format", "json", "--show-secrets")
    assert run.code in (0, 1), run.err
    doc = run.json()
    records = [(Path(f["path"]).name, f["line"], f["column"], f["secret"]) for f in doc["findings"]]
    return records, doc["stats"]["skipped"]


@pytest.mark.parametrize(
    ("suffix", "compress", "padding"),
    [
        (".bz2", bz2.compress, b""),  # pbzip2, lbzip2, cat a.bz2 b.bz2
        (".xz", lzma.compress, b""),  # xz -T0 writes one stream per block group
        (".xz", lzma.compress, b"\0" * 8),  # stream padding between xz streams
        (".gz", gzip.compress, b"\0" * 512),  # gzip members with tape padding
    ],
)
def test_every_stream_of_a_multi_stream_file_is_read(
    tmp_path: Path, cli: Any, suffix: str, compress: Any, padding: bytes
) -> None:
    path = tmp_path / f"app.log{suffix}"
    path.write_bytes(
        compress(b"first stream\n" + LINE.encode())
        + padding
        + compress(b"second\n" * 3)
        + compress(f"{KEY}{U}\n".encode())
        + padding
    )
    records, skipped = found(cli, path)
    assert records == [(path.name, 2, 18, T), (path.name, 6, 18, U)]
    assert skipped == []


def test_garbage_after_the_last_stream_is_said(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "app.log.bz2"
    path.write_bytes(bz2.compress(LINE.encode()) + b"not a bzip2 stream")
    records, skipped = found(cli, path)
    assert records == [(path.name, 1, 18, T)]
    assert [s["reason"] for s in skipped] == ["partial"]
    assert skipped[0]["detail"].startswith("corrupt bzip2 stream after stream 1:")


def test_zstd_is_said_to_be_unsupported_not_called_binary(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "app.log.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + os.urandom(64))
    _, skipped = found(cli, path)
    assert skipped == [
        {
            "path": str(path),
            "reason": "unsupported-compression",
            "detail": "zstd data is not decompressed",
        }
    ]


@pytest.mark.parametrize(
    ("codec", "bom", "reported"),
    [
        ("utf-32-le", b"\xff\xfe\x00\x00", "utf-32"),  # was taken for UTF-16 LE
        ("utf-32-be", b"\x00\x00\xfe\xff", "utf-32"),  # was "binary"
        ("utf-32-le", b"", "utf-32-le"),  # was "binary"
        ("utf-32-be", b"", "utf-32-be"),
        ("utf-16-le", b"", "utf-16-le"),
        ("utf-16-be", b"\xfe\xff", "utf-16"),
    ],
)
def test_wide_encodings_are_decoded_in_place(
    tmp_path: Path, cli: Any, codec: str, bom: bytes, reported: str
) -> None:
    path = tmp_path / "App.config"
    path.write_bytes(bom + f"<x>\r\n  é {LINE}".encode(codec))
    run = cli("scan", str(path), "--format", "json")
    (record,) = run.json()["findings"]
    assert (record["line"], record["column"], record["encoding"]) == (2, 5 + len(KEY), reported)
    assert run.json()["stats"]["skipped"] == []


def test_a_file_that_merely_starts_with_ff_fe_is_still_read_as_is(tmp_path: Path, cli: Any) -> None:
    """Latin-1 'ÿþ' (or any binary-looking start) is no UTF-16 text: the UTF-16 reading
    is garbage, so the as-is reading finds the token."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"\xff\xfe caf\xe9 notes\n" + LINE.encode())
    records, skipped = found(cli, path)
    assert records == [(path.name, 2, 18, T)]
    assert skipped == []


@pytest.mark.parametrize(
    ("section", "opening"),
    [
        (b"\xff\xfe" + f"ps> {LINE}".encode("utf-16-le"), "ps> "),  # PowerShell >> app.log
        (b": " + f"ps> {LINE}".encode("utf-16-be"), "ps> "),
        (f"\t{LINE}".encode("utf-32-le"), "\t"),
    ],
    ids=["utf-16-le-bom", "utf-16-be", "utf-32-le"],
)
def test_a_wide_section_inside_a_utf8_file_is_found_in_place(
    tmp_path: Path, cli: Any, section: bytes, opening: str
) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"2026-11-20 started\n" * 1000 + section + f"done {KEY}{U}\n".encode())
    records, _ = found(cli, path)
    offset = section.index(opening.encode(section_codec(section))[:1])
    assert records == [
        (path.name, 1001, offset + 1 + len(opening) + len(KEY), T),
        (path.name, 1002, 6 + len(KEY), U),
    ]


def section_codec(section: bytes) -> str:
    if section.startswith(b"\xff\xfe"):
        return "utf-16-le"
    return "utf-16-be" if section.startswith(b": ") else "utf-32-le"


def test_a_utf8_bom_is_not_a_column(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "google-ads.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + LINE.encode())
    records, _ = found(cli, path)
    assert records == [(path.name, 1, 18, T)]


def test_lone_cr_line_ends_are_lines(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "classic-mac.txt"
    path.write_bytes(f"one\rtwo\r  {LINE}".replace("\n", "\r").encode())
    records, _ = found(cli, path)
    assert records == [(path.name, 3, 3 + len(KEY), T)]


def test_mixed_line_ends_keep_lf_lines(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "progress.log"
    path.write_bytes(f"10%\r50%\r100%\n{LINE}".encode())
    records, _ = found(cli, path)
    assert records == [(path.name, 2, 18, T)]


def test_nul_separated_records_are_not_compacted_into_their_neighbours() -> None:
    from scanner.sources.text import compact_text

    environ = f"HOME=/root\0GOOGLE_ADS_DEVELOPER_TOKEN={T}\0A\0B\0C\0D\0E\0".encode()
    assert compact_text(environ) == environ  # a token byte touches every run
    wide = b"x: " + "abc\r\ndef".encode("utf-16-le") + b"\n"
    assert compact_text(wide) == b"x: abc\r\0\0\0\0\0\n" + b"def\0\0\0" + b"\n"
    assert len(compact_text(wide)) == len(wide)


def test_in_memory_inputs_share_the_decoders(engine: Engine) -> None:
    """Staged blobs go through scan_bytes: UTF-32, the BOM and lone CRs as for files."""
    for data, where in [
        (f"x\n{LINE}".encode("utf-32"), (2, 18)),
        (b"\xef\xbb\xbf" + LINE.encode(), (1, 18)),
        (f"a\rb\r{LINE}".replace("\n", "\r").encode(), (3, 18)),
        (b"\xff\xfe caf\xe9\n" + LINE.encode(), (2, 18)),
    ]:
        result = scan_bytes(data, engine, Provenance("blob", "git-staged"))
        assert [(f.match.line, f.match.column) for f in result.findings] == [where], data[:8]


def test_decompression_past_its_ratio_bound_is_skipped_and_said(tmp_path: Path) -> None:
    path = tmp_path / "bomb.log.gz"
    path.write_bytes(gzip.compress(LINE.encode() + b"\n" * (8 << 20) + f"{KEY}{U}\n".encode()))
    size = path.stat().st_size
    result = scan(ScanConfig(paths=(str(path),), max_decompression_ratio=100))
    assert [f.match.secret.reveal() for f in result.findings] == [T]
    (skip,) = result.skipped
    assert (skip.path, skip.reason) == (str(path), "decompression-limit")
    assert skip.detail == (
        f"stopped after {1 << 20} decompressed bytes (limits: max_decompressed_size "
        f"{8 << 30}, max_decompression_ratio 100 of {size} input bytes)"
    )
    unbounded = scan(ScanConfig(paths=(str(path),), max_decompression_ratio=0))
    assert [f.match.secret.reveal() for f in unbounded.findings] == [T, U]
    assert unbounded.skipped == []


def test_decompression_past_its_size_bound_is_skipped_and_said(tmp_path: Path) -> None:
    path = tmp_path / "big.log.xz"
    path.write_bytes(
        lzma.compress(
            LINE.encode() + os.urandom(3 << 20).hex().encode() + b"\n" + f"{KEY}{U}\n".encode()
        )
    )
    result = scan(ScanConfig(paths=(str(path),), max_decompressed_size=2 << 20))
    assert [f.match.secret.reveal() for f in result.findings] == [T]
    assert [(s.reason, s.detail.split(" (")[0]) for s in result.skipped] == [
        ("decompression-limit", f"stopped after {2 << 20} decompressed bytes")
    ]


def test_a_guess_too_big_to_hold_is_read_twice_from_disk_or_said(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scanner.scan import scan_input
    from scanner.sources import reader
    from scanner.sources.files import Input

    monkeypatch.setattr(reader, "GUESS_BUFFER", 4096)
    path = tmp_path / "wide.log"
    # No BOM, so UTF-16 LE is a guess; the UTF-8 tail is only in the as-is reading.
    path.write_bytes(("x\n" * 3000 + LINE).encode("utf-16-le") + f"{KEY}{U}\n".encode())
    item = Input(display="wide.log", path=str(path), size=path.stat().st_size)
    result = scan_input(item, engine, ScanConfig(paths=(str(path),)))
    assert [(f.match.line, f.match.column, f.match.secret.reveal()) for f in result.findings] == [
        (3001, 18, T),
        (3002, 1 + len(KEY), U),
    ]
    assert result.skipped == []
    assert result.bytes_scanned == path.stat().st_size
    gz = tmp_path / "wide.log.gz"  # a stream cannot be read twice: say so
    gz.write_bytes(gzip.compress(path.read_bytes()))
    item = Input(display="wide.log.gz", path=str(gz), size=gz.stat().st_size)
    result = scan_input(item, engine, ScanConfig(paths=(str(gz),)))
    assert [f.match.secret.reveal() for f in result.findings] == [T]
    assert [(s.reason, s.detail) for s in result.skipped] == [
        (
            "encoding-guess",
            "read as utf-16-le by its byte pattern; its as-is (UTF-8) reading was not "
            "scanned (over 4096 bytes)",
        )
    ]


def test_the_decompression_bounds_come_from_a_named_config_never_the_scanned_tree(
    tmp_path: Path, cli: Any
) -> None:
    path = tmp_path / "bomb.log.gz"
    path.write_bytes(gzip.compress(LINE.encode() + b"\n" * (8 << 20) + f"{KEY}{U}\n".encode()))
    named = tmp_path / "ci.toml"
    named.write_text("max_decompression_ratio = 100\n")
    bounded = cli("scan", "bomb.log.gz", "--config", str(named), "--format", "json", cwd=tmp_path)
    assert [s["reason"] for s in bounded.json()["stats"]["skipped"]] == ["decompression-limit"]
    assert len(bounded.json()["findings"]) == 1
    # a repository config may not lift (or set) the bounds: 0 would let a shipped bomb expand
    (tmp_path / ".devtoken.toml").write_text("max_decompression_ratio = 0\n")
    local = cli("scan", "bomb.log.gz", "--format", "json", cwd=tmp_path)
    assert "max_decompression_ratio" in local.err
    assert local.json()["stats"]["config"]["files"][0]["ignored"] == ["max_decompression_ratio"]
    bad = tmp_path / "bad.toml"
    bad.write_text('max_archive_depth = "deep"\n')
    refused = cli("scan", "bomb.log.gz", "--config", str(bad), cwd=tmp_path)
    assert (refused.code, refused.err.count("\n")) == (2, 1)
    assert "max_archive_depth must be a whole number, 0 or more" in refused.err
