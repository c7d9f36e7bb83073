"""Archives are scanned member by member, in place, and hostile ones cannot hurt."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.config import ScanConfig
from scanner.engine import Engine
from scanner.rules import load_rules
from scanner.scan import scan, scan_input
from scanner.sources.files import Input

T = "Zk3mQ9vTb2LxWc7RnP4s_g"
U = "Qm3xK9_pL2vN8rT4wY6zA1"
V = "Wn7pR2_kX9mL4vB8tQ3zH6"
KEY = "developer_token: "
ENGINE = Engine(load_rules(), backend="regex")
CONFIG = f"adwords:\n  client_id: x\n{KEY}{T}\n"


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def tar_bytes(members: dict[str, bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as archive:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def scan_json(cli: Any, *args: str) -> tuple[int, dict[str, Any]]:
    run = cli("scan", *args, "--format", "json")
    assert run.code in (0, 1), run.err
    return run.code, run.json()


def located(doc: dict[str, Any], root: Path) -> list[tuple[str, int, int]]:
    prefix = f"{root}{os.sep}"
    assert all(f["path"].startswith(prefix) for f in doc["findings"])
    return [(f["path"][len(prefix) :], f["line"], f["column"]) for f in doc["findings"]]


def skipped(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(file name, reason) of each skipped input or member."""
    return [(Path(s["path"]).name, s["reason"]) for s in doc["stats"]["skipped"]]


def test_zip_members_are_reported_as_archive_bang_member(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "deploy.zip").write_bytes(
        zip_bytes({"config/google-ads.yaml": CONFIG.encode(), "README": b"nothing\n"})
    )
    code, doc = scan_json(cli, str(tmp_path))
    assert code == 1
    assert located(doc, tmp_path) == [("deploy.zip!config/google-ads.yaml", 3, 18)]
    assert doc["findings"][0]["source"] == "archive"
    text = cli("scan", str(tmp_path / "deploy.zip")).out
    assert f"{tmp_path / 'deploy.zip'}!config/google-ads.yaml:3:18: HIGH" in text


@pytest.mark.parametrize(
    ("name", "wrap"),
    [
        ("logs.tar", lambda data: data),
        ("logs.tar.gz", gzip.compress),
        ("logs.tgz", gzip.compress),
        ("logs.tar.bz2", bz2.compress),
        ("logs.tar.xz", lzma.compress),
    ],
)
def test_tar_members_are_streamed(tmp_path: Path, cli: Any, name: str, wrap: Any) -> None:
    (tmp_path / name).write_bytes(
        wrap(tar_bytes({"app/one.log": b"a\n" * 5000, "app/google-ads.yaml": CONFIG.encode()}))
    )
    _, doc = scan_json(cli, str(tmp_path))
    assert located(doc, tmp_path) == [(f"{name}!app/google-ads.yaml", 3, 18)]
    assert doc["stats"]["skipped"] == []


def test_nested_archives_and_compression_are_opened(tmp_path: Path, cli: Any) -> None:
    inner_zip = zip_bytes({"deep/app.log.gz": gzip.compress(f"x\n{KEY}{U}\n".encode())})
    (tmp_path / "bundle.tar.gz").write_bytes(
        gzip.compress(tar_bytes({"release/site.zip": inner_zip, "a.yaml": CONFIG.encode()}))
    )
    (tmp_path / "twice.log.gz.gz").write_bytes(gzip.compress(gzip.compress(f"{KEY}{V}\n".encode())))
    _, doc = scan_json(cli, str(tmp_path))
    assert located(doc, tmp_path) == [
        ("bundle.tar.gz!a.yaml", 3, 18),
        ("bundle.tar.gz!release/site.zip!deep/app.log.gz", 2, 18),
        ("twice.log.gz.gz", 1, 18),
    ]


def test_nesting_deeper_than_the_limit_is_not_opened_and_is_said(tmp_path: Path) -> None:
    data = f"{KEY}{T}\n".encode()
    for _ in range(4):
        data = gzip.compress(data)
    (tmp_path / "deep.gz").write_bytes(data)
    shallow = scan(ScanConfig(paths=(str(tmp_path),), max_archive_depth=4))
    assert [f.match.secret.reveal() for f in shallow.findings] == [T]
    deep = scan(ScanConfig(paths=(str(tmp_path),), max_archive_depth=3))
    assert deep.findings == []
    (skip,) = deep.skipped
    assert (skip.reason, skip.detail) == (
        "archive-depth",
        "gzip nested deeper than 3 layers is not opened",
    )


def test_a_zip_bomb_stops_at_the_ratio_bound(tmp_path: Path) -> None:
    bomb = zip_bytes(
        {
            "a-first.yaml": CONFIG.encode(),
            "b-bomb.log": b"\n" * (16 << 20) + f"{KEY}{U}\n".encode(),
            "c-after.yaml": f"{KEY}{V}\n".encode(),
        }
    )
    (tmp_path / "bomb.zip").write_bytes(bomb)
    result = scan(ScanConfig(paths=(str(tmp_path / "bomb.zip"),), max_decompression_ratio=100))
    assert [f.match.secret.reveal() for f in result.findings] == [T]
    assert [(s.path.rsplit("/", 1)[-1], s.reason) for s in result.skipped] == [
        ("bomb.zip", "decompression-limit"),  # the members left after it
        ("bomb.zip!b-bomb.log", "decompression-limit"),
    ]
    assert result.skipped[0].detail.startswith("1 members left: stopped after")


def test_hostile_member_names_are_labels_and_nothing_is_written(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["../../etc/passwd", "/etc/cron.d/evil", "a/../../../x.yaml", "\x1b[31mred\n.yaml"]
    archive = tmp_path / "in" / "evil.zip"
    archive.parent.mkdir()
    archive.write_bytes(zip_bytes({name: f"{KEY}{T}\n".encode() for name in names}))
    (tmp_path / "in" / "evil.tar").write_bytes(
        tar_bytes({name: f"{KEY}{U}\n".encode() for name in names})
    )
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    before = sorted(p for p in tmp_path.rglob("*"))
    _, doc = scan_json(cli, str(archive.parent))
    assert sorted(p for p in tmp_path.rglob("*")) == before
    shown = ["../../etc/passwd", "/etc/cron.d/evil", "a/../../../x.yaml", "\\x1b[31mred\\n.yaml"]
    assert sorted(located(doc, tmp_path / "in")) == sorted(
        [(f"evil.tar!{name}", 1, 18) for name in shown]
        + [(f"evil.zip!{name}", 1, 18) for name in shown]
    )
    text = cli("scan", str(archive)).out
    assert "\x1b" not in text and "\\x1b[31mred\\n.yaml:1:18" in text


def test_symlink_members_are_not_followed(tmp_path: Path, cli: Any) -> None:
    outside = tmp_path / "outside.env"
    outside.write_text(f"{KEY}{T}\n")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for kind, name in ((tarfile.SYMTYPE, "soft"), (tarfile.LNKTYPE, "hard")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, str(outside)
            archive.addfile(info)
    (tmp_path / "links.tar").write_bytes(buf.getvalue())
    link = zipfile.ZipInfo("zipped-link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as archive:
        archive.writestr(link, str(outside))
    (tmp_path / "links.zip").write_bytes(zbuf.getvalue())
    _, doc = scan_json(cli, str(tmp_path / "links.tar"), str(tmp_path / "links.zip"))
    assert doc["findings"] == []
    assert skipped(doc) == [
        ("links.tar!hard", "symlink"),
        ("links.tar!soft", "symlink"),
        ("links.zip!zipped-link", "symlink"),
    ]


def test_a_corrupt_zip_member_is_skipped_and_the_others_are_scanned(
    tmp_path: Path, cli: Any
) -> None:
    payload = os.urandom(20_000).hex().encode()
    data = bytearray(
        zip_bytes(
            {"a.yaml": CONFIG.encode(), "b.bin.log": payload, "c.yaml": f"{KEY}{U}\n".encode()}
        )
    )
    middle = data.index(b"b.bin.log") + 200  # inside b's compressed data
    data[middle : middle + 64] = bytes(64)
    (tmp_path / "broken.zip").write_bytes(bytes(data))
    run = cli("scan", str(tmp_path / "broken.zip"), "--format", "json")
    assert run.code == 1, run.err
    doc = run.json()
    assert located(doc, tmp_path) == [("broken.zip!a.yaml", 3, 18), ("broken.zip!c.yaml", 1, 18)]
    (skip,) = doc["stats"]["skipped"]
    assert (Path(skip["path"]).name, skip["reason"]) == ("broken.zip!b.bin.log", "partial")
    assert skip["detail"].startswith("corrupt archive member:")
    assert "broken.zip!b.bin.log: partial: corrupt archive member" in run.err


def test_a_corrupt_tar_header_skips_one_member_and_says_so(tmp_path: Path, cli: Any) -> None:
    data = bytearray(
        tar_bytes(
            {"a.yaml": CONFIG.encode(), "b.log": b"b\n" * 100, "c.yaml": f"{KEY}{U}\n".encode()}
        )
    )
    header = data.index(b"b.log")
    data[header + 148 : header + 156] = b"9999999\0"  # b's header checksum
    (tmp_path / "broken.tar").write_bytes(bytes(data))
    run = cli("scan", str(tmp_path / "broken.tar"), "--format", "json")
    assert run.code == 1, run.err
    doc = run.json()
    assert located(doc, tmp_path) == [("broken.tar!a.yaml", 3, 18), ("broken.tar!c.yaml", 1, 18)]
    assert doc["stats"]["skipped"] == [
        {
            "path": str(tmp_path / "broken.tar"),
            "reason": "partial",
            "detail": f"corrupt tar header at byte {header}: its member was skipped",
        }
    ]


def test_a_truncated_tar_gz_keeps_the_members_before_the_break(tmp_path: Path, cli: Any) -> None:
    noise = os.urandom(300_000).hex().encode()
    data = gzip.compress(
        tar_bytes({"a.yaml": CONFIG.encode(), "noise.log": noise, "z.yaml": b"z\n"})
    )
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    code, doc = scan_json(cli, str(tmp_path / "cut.tar.gz"))
    assert code == 1
    assert located(doc, tmp_path) == [("cut.tar.gz!a.yaml", 3, 18)]
    assert skipped(doc) == [("cut.tar.gz!noise.log", "partial")]


def test_a_corrupt_zip_is_unreadable_not_an_internal_error(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04" + os.urandom(300))
    (tmp_path / "good.yaml").write_text(CONFIG)
    code, doc = scan_json(cli, str(tmp_path))
    assert code == 1
    assert located(doc, tmp_path) == [("good.yaml", 3, 18)]
    assert skipped(doc) == [("junk.zip", "unreadable")]


def test_binary_members_are_counted_once_per_archive(tmp_path: Path, cli: Any) -> None:
    classes = {f"com/x/C{i}.class": b"\xca\xfe\xba\xbe" + bytes(range(256)) * 4 for i in range(50)}
    (tmp_path / "app.jar").write_bytes(zip_bytes({**classes, "app.properties": CONFIG.encode()}))
    _, doc = scan_json(cli, str(tmp_path))
    assert located(doc, tmp_path) == [("app.jar!app.properties", 3, 18)]
    assert doc["stats"]["skipped"] == [
        {
            "path": str(tmp_path / "app.jar"),
            "reason": "binary",
            "detail": "50 binary archive members (--scan-binary)",
        }
    ]
    _, doc = scan_json(cli, str(tmp_path), "--scan-binary")
    assert doc["stats"]["skipped"] == []


def _base_archives() -> dict[str, bytes]:
    members = {"a.yaml": CONFIG.encode(), "b/c.log": f"x\n{KEY}{U}\n".encode() * 20}
    return {
        "zip": zip_bytes(members),
        "stored.zip": zip_bytes(members, zipfile.ZIP_STORED),
        "tar": tar_bytes(members),
        "tar.gz": gzip.compress(tar_bytes(members)),
        "tar.xz": lzma.compress(tar_bytes(members)),
        "zip.gz.bz2": bz2.compress(gzip.compress(zip_bytes(members))),
    }


BASE_ARCHIVES = _base_archives()
REASONS = {
    "partial",
    "unreadable",
    "binary",
    "symlink",
    "not-a-regular-file",
    "encrypted",
    "decompression-limit",
    "encoding-guess",
    "archive-depth",
    "archive-limit",
    "unsupported-compression",
}


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(sorted(BASE_ARCHIVES)),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
    cut=st.floats(0.05, 1.0),
)
def test_a_damaged_archive_never_raises(
    kind: str, edits: list[tuple[float, int]], cut: float
) -> None:
    data = bytearray(BASE_ARCHIVES[kind])
    for where, value in edits:
        data[int(where * (len(data) - 1))] = value
    data = data[: max(1, int(len(data) * cut))]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "damaged")
        with open(path, "wb") as handle:
            handle.write(data)
        item = Input(display="damaged", path=path, size=len(data))
        result = scan_input(item, ENGINE, ScanConfig(paths=(path,), max_decompression_ratio=50))
    assert {s.reason for s in result.skipped} <= REASONS


def test_archives_on_stdin_are_scanned_too() -> None:
    from tests.conftest import run_subprocess

    for data in (
        zip_bytes({"c.yaml": CONFIG.encode()}),
        gzip.compress(tar_bytes({"c.yaml": CONFIG.encode()})),
    ):
        run = run_subprocess(["scan", "-", "--format", "json"], stdin=data)
        assert run.returncode == 1, run.stderr
        (record,) = json.loads(run.stdout)["findings"]
        assert (record["path"], record["line"], record["source"]) == ("-!c.yaml", 3, "archive")
