"""render/text.py on literal scans: the terminal report, the hook's lines, the summary."""

from __future__ import annotations

from scanner.render import render_scan
from scanner.render.text import hook_text, summary
from tests.render.literals import scan_result

WHY = "a developer token usually leaks with the OAuth credentials that open the same ad accounts"


def test_the_terminal_report_of_one_finding() -> None:
    assert render_scan(scan_result(), "text") == (
        "app.yaml:1:18: HIGH google-ads-developer-token Zk3m…_g\n"
        f"    Google Ads API developer token: {WHY}\n"
        "devtoken: 1 finding(s) in 1 file(s); scanned 1 file(s), 0.0 MB in 0.25s\n"
    )


def test_show_secrets_prints_the_secret_and_paths_are_made_visible() -> None:
    result = scan_result(path="a\x1b[2J.yaml")
    first = render_scan(result, "text", show_secrets=True).split("\n")[0]
    assert first == "a\\x1b[2J.yaml:1:18: HIGH google-ads-developer-token Zk3mQ9vTb2LxWc7RnP4s_g"


def test_the_hook_prints_one_line_per_finding_and_how_to_allow_one() -> None:
    assert hook_text(scan_result(), show_secrets=False) == (
        "app.yaml:1 google-ads-developer-token Zk3m…_g\n"
        "devtoken: commit blocked. Remove the secret (and reset it if it was ever pushed), "
        "or allow a false positive with a `devtoken:allow` comment on its line.\n"
    )
    assert hook_text(scan_result("nothing here\n"), show_secrets=False) == ""


def test_the_summary_counts_skips_by_reason() -> None:
    from scanner.models import Skipped

    result = scan_result()
    result.skipped = [Skipped("b.bin", "binary", ""), Skipped("c.bin", "binary", "")]
    assert summary(result) == (
        "devtoken: 1 finding(s) in 1 file(s); scanned 1 file(s), 0.0 MB in 0.25s; "
        "skipped 2 (2 binary)"
    )
