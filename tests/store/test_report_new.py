"""`devtoken report`: "new since the previous scan" counts what the latest run first saw,
and a store with one scan says there is nothing to compare with (never "0 new")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from scanner.render.incidents import load_incidents, marked_new
from scanner.store.db import Store

TOKEN = "Zk3mQ9vTb2LxWc7RnP4s_g"
OTHER = "Qm3xK9_pL2vN8rT4wY6zA1"


def _new_count(html: str) -> str:
    found = re.search(r'id="new-count">([^<]*)<', html)
    assert found is not None
    return found.group(1)


def test_the_second_scan_marks_what_it_first_saw(tmp_path: Path, cli: Any) -> None:
    store = str(tmp_path / "s.sqlite")
    (tmp_path / "a.yaml").write_text(f"developer_token: {TOKEN}\n")
    assert cli("scan", str(tmp_path / "a.yaml"), "--store", store, "-q").code == 1
    first = cli("report", "--store", store, "--format", "html").out
    assert _new_count(first) == "first scan: no previous scan to compare"

    (tmp_path / "b.yaml").write_text(f"developer_token: {OTHER}\n")
    assert cli("scan", str(tmp_path), "--store", store, "-q").code == 1
    second = cli("report", "--store", store, "--format", "html").out
    with Store(Path(store)) as opened:
        incidents, previous = marked_new(opened, load_incidents(opened))
        started = [r["started"] for r in opened.rows("SELECT started FROM scans ORDER BY id")]
    assert previous == started[0]
    assert _new_count(second) == f"1 new since the previous scan ({started[0][:10]})"
    assert sorted((i.location.split(":")[0].rsplit("/", 1)[-1], i.new) for i in incidents) == [
        ("a.yaml", False),
        ("b.yaml", True),
    ]
