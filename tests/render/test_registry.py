"""The format registry: names, what each renders, file-name inference, lazy imports."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scanner.render import (
    REGISTRY,
    REPORT_FORMATS,
    SCAN_FORMATS,
    format_for_path,
    render_scan,
    render_store,
    renders_result,
)
from tests.gitrepo import Repo
from tests.render.literals import TOKEN, incident, scan_result


def test_live_and_store_formats_in_their_documented_order() -> None:
    assert SCAN_FORMATS == ("text", "html", "json", "jsonl", "sarif", "md", "csv")
    assert REPORT_FORMATS == ("html", "json", "sarif", "md", "csv")


def test_only_the_live_renderers_render_the_result_itself() -> None:
    """The reports render a scan's incidents: no clear secret, no suppressed match."""
    assert [name for name in REGISTRY if renders_result(name)] == [
        "text",
        "json",
        "jsonl",
        "sarif",
    ]
    assert renders_result("pdf") is False


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("leaks.html", "html"),
        ("out/LEAKS.HTM", "html"),
        ("leaks.json", "json"),
        ("leaks.jsonl", "jsonl"),
        ("leaks.sarif", "sarif"),
        ("leaks.sarif.json", "sarif"),
        ("leaks.md", "md"),
        ("leaks.markdown", "md"),
        ("leaks.csv", "csv"),
        ("leaks.txt", "text"),
        ("leaks", None),
        ("leaks.pdf", None),
        ("html", None),
    ],
)
def test_a_file_name_names_its_format(path: str, fmt: str | None) -> None:
    assert format_for_path(path) == fmt


def test_inference_only_among_the_formats_that_apply() -> None:
    assert format_for_path("leaks.html", SCAN_FORMATS) == "html"
    assert format_for_path("leaks.jsonl", SCAN_FORMATS) == "jsonl"
    assert format_for_path("leaks.csv", REPORT_FORMATS) == "csv"
    assert format_for_path("leaks.jsonl", REPORT_FORMATS) is None


def test_every_registered_function_exists() -> None:
    import importlib

    for entry in REGISTRY.values():
        module = importlib.import_module(f"scanner.render.{entry.module}")
        for function in filter(None, (entry.scan, entry.store)):
            assert callable(getattr(module, function)), (entry.name, function)


def test_a_format_that_does_not_render_that_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="format 'jsonl' does not render a store"):
        render_store([incident()], "jsonl")
    with pytest.raises(ValueError, match="format 'pdf' does not render a scan"):
        render_scan(scan_result(), "pdf")


@pytest.mark.parametrize("fmt", ["html", "md", "csv"])
def test_a_report_format_renders_a_live_scan_as_its_incidents(fmt: str) -> None:
    from scanner.render.scan_incidents import incidents_of_scan

    result = scan_result()
    shown = render_scan(result, fmt, show_secrets=True)  # a report never shows it in clear
    assert TOKEN not in shown
    mask = (r"\d{4}-\d\d-\d\d(T[0-9:]+\+00:00)?", "<NOW>")
    assert re.sub(*mask, shown) == re.sub(*mask, render_store(incidents_of_scan(result), fmt))


def test_the_hook_imports_only_the_text_renderer(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.write("n.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    repo.git("add", "n.env")
    probe = (
        "import sys; from scanner.cli import main; code = main(['scan', '--staged', '--quiet']);"
        "print(code, sorted(m for m in sys.modules if m.startswith('scanner.render')"
        " or m.split('.')[0] in ('jinja2', 'csv')))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo.path, capture_output=True, text=True, env=env
    )
    assert done.stdout.strip().splitlines()[-1] == (
        "1 ['scanner.render', 'scanner.render.escape', 'scanner.render.files',"
        " 'scanner.render.records', 'scanner.render.text']"
    ), done.stdout + done.stderr


def test_scan_and_git_take_every_format_in_the_registry(cli: Any, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("add", {"n.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
    page = tmp_path / "leaks.html"
    run = cli("scan", str(repo.path), "--quiet", "--format", "html", "-o", str(page))
    assert (run.code, run.out, run.err) == (1, "", "")
    assert page.read_text().count('<tr class="incident-row"') == 1
    store = str(tmp_path / "s.sqlite")
    run = cli("git", str(repo.path), "--quiet", "-j", "1", "--format", "md", "--store", store)
    assert run.code == 1, run.err
    assert run.out.split("\n")[6].startswith("| skipped | high | `")
    assert f"`{repo.path}` | `n.env:1 @ " in run.out.split("\n")[6]
    report = cli("report", "--store", store, "--format", "md")
    assert report.out.split("\n")[6] == run.out.split("\n")[6]  # the same incident, as stored
    for fmt in SCAN_FORMATS:
        run = cli("scan", str(repo.path), "--quiet", "--format", fmt)
        assert run.code == 1 and TOKEN not in run.out, fmt


@pytest.mark.parametrize("flag", ["--show-secrets", "--explain"])
@pytest.mark.parametrize("command", ["scan", "git"])
def test_a_report_format_refuses_what_it_cannot_show(
    cli: Any, tmp_path: Path, flag: str, command: str
) -> None:
    run = cli(command, str(tmp_path), "--format", "csv", flag)
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"devtoken: error: {flag} does not apply to --format csv "
        "(only to text, json, jsonl, sarif)\n"
    )
