"""render/text.py on literal scans: the terminal report, the hook's lines, the summary."""

from __future__ import annotations

import hashlib

from scanner.render import render_scan
from scanner.render.text import hook_text, summary
from tests.render.literals import TOKEN, scan_result

SHORT = hashlib.sha256(f"google-ads-developer-token:{TOKEN}".encode()).hexdigest()[:12]

WHY = "a developer token usually leaks with the OAuth credentials that open the same ad accounts"


def test_the_terminal_report_of_one_finding() -> None:
    assert render_scan(scan_result(), "text") == (
        f"app.yaml:1:18: HIGH google-ads-developer-token Zk3m…_g (fingerprint {SHORT})\n"
        f"    Google Ads API developer token: {WHY}\n"
        "devtoken: 1 finding(s) in 1 file(s); scanned 1 file(s), 0.0 MB in 0.25s\n"
    )


def test_show_secrets_prints_the_secret_and_paths_are_made_visible() -> None:
    result = scan_result(path="a\x1b[2J.yaml")
    first = render_scan(result, "text", show_secrets=True).split("\n")[0]
    assert first == (
        "a\\x1b[2J.yaml:1:18: HIGH google-ads-developer-token Zk3mQ9vTb2LxWc7RnP4s_g "
        f"(fingerprint {SHORT})"
    )


def test_the_hook_prints_one_line_per_finding_and_both_ways_to_allow_one() -> None:
    assert hook_text(scan_result(), show_secrets=False) == (
        f"app.yaml:1 google-ads-developer-token Zk3m…_g (fingerprint {SHORT})\n"
        "devtoken: commit blocked. Remove the secret (and reset it if it was ever pushed), "
        "or allow a false positive:\n"
        "  - add a `devtoken:allow` comment on its line, or\n"
        "  - add its fingerprint to .devtokenignore at the repository root "
        "(it then allows that secret everywhere):\n"
        f"    {SHORT}  # google-ads-developer-token in app.yaml:1\n"
    )
    assert hook_text(scan_result("nothing here\n"), show_secrets=False) == ""


def test_the_hook_gives_one_ignore_line_per_secret() -> None:
    text = f"developer_token: {TOKEN}\nother: 1\ndeveloper_token: {TOKEN}\n"
    lines = hook_text(scan_result(text), show_secrets=False).splitlines()
    assert lines[:2] == [
        f"app.yaml:1 google-ads-developer-token Zk3m…_g (fingerprint {SHORT})",
        f"app.yaml:3 google-ads-developer-token Zk3m…_g (fingerprint {SHORT})",
    ]
    assert lines[-1] == f"    {SHORT}  # google-ads-developer-token in app.yaml:1"
    assert len(lines) == 6


def test_the_summary_counts_skips_by_reason() -> None:
    from scanner.models import Skipped

    result = scan_result()
    result.skipped = [Skipped("b.bin", "binary", ""), Skipped("c.bin", "binary", "")]
    assert summary(result) == (
        "devtoken: 1 finding(s) in 1 file(s); scanned 1 file(s), 0.0 MB in 0.25s; "
        "skipped 2 (2 binary)"
    )


def test_still_present_in_names_the_default_branch_and_counts_the_rest() -> None:
    from scanner.models import CommitInfo, Exposure, GitProvenance
    from scanner.render.text import history_lines

    added = CommitInfo("a" * 40, "Ann", "ann@example.com", "2024-01-02T00:00:00+00:00", "add")
    refs = (*(f"refs/heads/release/{n}" for n in range(104)), "refs/heads/main")
    provenance = GitProvenance(
        "conf/app.env", "git-history", exposure=Exposure(added, None, refs, 1)
    )
    assert history_lines(provenance) == [
        f"added in {'a' * 12} by Ann <ann@example.com> on 2024-01-02T00:00:00+00:00: add",
        "still present in refs/heads/main and 104 other refs",
    ]
