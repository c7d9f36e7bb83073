"""Regenerate docs/screenshots/*.png: the HTML leak report of a realistic demo, in Chromium.

    python scripts/screenshots.py [--out docs/screenshots] [--html demo.html]

The demo is a set of incidents as the store holds them (several repositories and Google
Cloud projects, every outcome, exposure windows): the verification outcomes are made up,
nothing touches the network, and every secret is a redacted, made-up value. Two shots: the
summary at 1400x900, and one incident opened from "What to do now".
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.render import render_store  # noqa: E402
from scanner.render.incidents import Incident, IncidentMember, StoredOccurrence, web_url  # noqa: E402
from scanner.verify.outcomes import BARE_DEVELOPER_TOKEN, TOKEN_WITH_OAUTH  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

RULES = {
    "developer_token": ("google-ads-developer-token", "high"),
    "client_id": ("google-oauth-client-id", "low"),
    "client_secret": ("google-oauth-client-secret", "critical"),
    "refresh_token": ("google-oauth-refresh-token", "critical"),
    "access_token": ("google-oauth-access-token", "high"),
    "service_account_key": ("gcp-service-account-key", "critical"),
}
REDACTED = {
    "developer_token": "Zk3m…_g",
    "client_id": "278534944592-6vb…om",
    "client_secret": "GOCS…jA",
    "refresh_token": "1//0…ar",
    "access_token": "ya29…9x",
    "service_account_key": "-----BEGIN PRIVATE KEY----- (key id 3f1c0e9a)",
}
AUTHORS = [("Dana Whitfield", "dana@acme.example"), ("Priya Raman", "priya@acme.example")]


def _sha(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def _verification(status: str, reach: list[str] | None = None) -> dict[str, Any]:
    reasons = {
        "live": "Google accepted the refresh-token grant",
        "invalid": "invalid_grant: the token was revoked",
        "unknown": "rate limited (429) twice; try again later",
        "unverifiable": BARE_DEVELOPER_TOKEN,
        "skipped": "not verified (run a scan with --verify)",
    }
    record: dict[str, Any] = {"status": status, "reason": reasons[status]}
    if status != "skipped":
        record["checked_at"] = "2026-11-30T09:12:44+00:00"
    if reach is not None:
        record["reach"] = reach
    return record


def incident(
    n: int,
    repo: str,
    path: str,
    roles: tuple[str, ...],
    status: str,
    introduced: str,
    removed: str | None = None,
    refs: tuple[str, ...] = (),
    project: str | None = None,
    client_email: str | None = None,
    reach: list[str] | None = None,
    new: bool = False,
) -> Incident:
    """One demo incident: its members all leaked in one commit of `repo` (`org/name`)."""
    commit = _sha(repo, path, n)
    author, email = AUTHORS[n % len(AUTHORS)]
    remote = f"git@github.com:{repo}.git" if repo else ""
    exposure = {
        "first_commit": commit,
        "first_date": introduced,
        "removed_commit": _sha("removed", commit) if removed else None,
        "removed_date": removed,
        "still_present_in": list(refs),
        "added_in_commits": 1,
        "rewritten": False,
    }
    members = []
    for line, role in enumerate(roles, start=2):
        rule_id, severity = RULES[role]
        place = StoredOccurrence(
            repo=f"/srv/mirrors/{repo}.git" if repo else "",
            path=path,
            line=line,
            column=18,
            source="git" if repo else "file",
            commit=commit if repo else "",
            author=author if repo else "",
            email=email if repo else "",
            date=introduced if repo else "",
            message="Add reporting job configuration" if repo else "",
            exposure=exposure if repo else None,
            web_url=web_url(remote, commit, path, line) if repo else None,
            remote=remote,
        )
        members.append(
            IncidentMember(
                fingerprint=hashlib.sha256(f"{n}:{role}".encode()).hexdigest(),
                rule_id=rule_id,
                role=role,
                severity=severity,
                secret_redacted=REDACTED[role],
                status="open",
                first_seen="2026-11-30T09:10:02+00:00",
                last_seen="2026-11-30T09:10:02+00:00",
                verification=(
                    {"status": "unverifiable", "reason": TOKEN_WITH_OAUTH}
                    if role == "developer_token" and len(roles) > 1
                    else _verification("unverifiable" if role == "developer_token" else status)
                ),
                occurrences=(place,),
            )
        )
    where = f"{path}:2" + (f" @ {commit[:12]}" if repo else "")
    return Incident(
        id=hashlib.sha256(where.encode()).hexdigest()[:16],
        location=where,
        roles=tuple(sorted(roles)),
        members=tuple(members),
        verification=_verification(status, reach),
        login_customer_id="1234567890" if "developer_token" in roles else None,
        client_email=client_email,
        first_seen="2026-11-30T09:10:02+00:00",
        project=project,
        new=new,
    )


def demo_incidents() -> list[Incident]:
    oauth = ("client_id", "client_secret", "developer_token", "refresh_token")
    releases = ("main", *(f"release/2.{n}" for n in range(12)))
    sa_email = "uploader@billing-sync-prod.iam.gserviceaccount.com"
    found = [
        incident(1, "acme/ads-reporting", "config/google-ads.yaml", oauth, "live",
                 "2023-03-14T10:02:11+00:00", refs=releases, project="278534944592",
                 reach=["1234567890", "2345678901", "3456789012"], new=True),
        incident(2, "acme/ads-reporting", "scripts/upload_conversions.py",
                 ("client_id", "refresh_token"), "unknown", "2024-06-03T16:40:00+00:00",
                 refs=("main",), project="278534944592"),
        incident(3, "acme/billing-sync", "deploy/service-account.json",
                 ("service_account_key",), "live", "2025-01-20T08:15:30+00:00",
                 removed="2025-03-01T12:00:00+00:00", project="billing-sync-prod",
                 client_email=sa_email, reach=["4567890123"]),
        incident(4, "acme-legacy/ads-reporting-old", "google-ads.yaml", oauth, "invalid",
                 "2022-05-09T09:00:00+00:00", removed="2022-05-10T09:00:00+00:00",
                 project="278534944592"),
        incident(5, "acme/marketing-site", ".env", ("developer_token",), "unverifiable",
                 "2022-11-02T14:30:00+00:00", removed="2023-01-15T10:00:00+00:00"),
        incident(6, "acme/data-pipeline", "notebooks/explore_campaigns.ipynb",
                 ("access_token",), "invalid", "2025-09-12T11:11:11+00:00",
                 removed="2025-09-12T18:00:00+00:00"),
        incident(7, "acme/ads-scripts", "bidding/config.py",
                 ("client_id", "client_secret"), "unknown", "2024-02-27T07:45:00+00:00",
                 refs=("main", "develop"), project="901250036617"),
        incident(8, "acme/ads-scripts", "bidding/legacy.yaml", ("developer_token",),
                 "unverifiable", "2023-08-21T13:00:00+00:00",
                 removed="2024-01-09T13:00:00+00:00", new=True),
        incident(9, "", "/home/dana/work/google-ads.yaml",
                 ("developer_token", "refresh_token"), "skipped",
                 "2026-11-30T09:10:02+00:00"),
    ]  # fmt: skip
    from scanner.render.incidents import in_report_order

    return in_report_order(found)


def shoot(page_file: Path, out: Path, focus: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM:
        raise SystemExit("screenshots: no chromium on PATH")
    out.mkdir(parents=True, exist_ok=True)
    summary, detail = out / "report-summary.png", out / "report-incident.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(page_file.as_uri())
        page.screenshot(path=str(summary))
        page.click(f"#todo a[href='#incident-{focus}']")
        page.wait_for_function(f"document.getElementById('incident-{focus}').open")
        page.locator(f"#incident-{focus}").screenshot(path=str(detail))
        browser.close()
    return [summary, detail]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--html", type=Path, default=None, help="also keep the demo report")
    args = parser.parse_args(argv)
    incidents = demo_incidents()
    page = render_store(incidents, "html", "leaks.sqlite", "2026-11-29T02:00:00+00:00")
    target = args.html or args.out / "demo-report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    try:
        shots = shoot(target.resolve(), args.out, focus=incidents[0].id)
    finally:
        if args.html is None:
            target.unlink()
    for shot in shots:
        print(shot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
