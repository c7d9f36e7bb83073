"""Each false-positive filter, and that --explain shows its reason."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.engine import Engine
from scanner.scan import scan_text

TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("developer_token: INSERT_DEVELOPER_TOKEN_HERE", None),  # 27 chars: never a match
        ("developer_token: ABcdeFGH93KL-NOPQ_STUv", "documented example"),
        ("developer_token: zYxwVutS11AB-cdEF_g99H", "documented example"),
        ("GOOGLE_ADS_DEVELOPER_TOKEN=xxxxxxxxxxxxxxxxxxxxxx", "placeholder text"),
        ("GOOGLE_ADS_DEVELOPER_TOKEN=aaaaaaaaaaaaaaaaaaaaaa", "repeated characters"),
        ("developer_token: {{ GOOGLE_ADS_DEV_TOKEN_X }}", "variable or template"),
        ("developer_token: ${GOOGLE_ADS_DEV_TOKEN_X}", None),  # `$` is not assignment glue
        ("developer_token: <Qm3xK9_pL2vN8rT4wY6zA1>", None),
        ("developer_token: %Qm3xK9_pL2vN8rT4wY6zA1%", None),
        ("developer_token: '{Qm3xK9_pL2vN8rT4wY6zA1}'", "variable or template"),
        ('developer_token: "$Qm3xK9_pL2vN8rT4wY6zA1"', None),
        (f"developer_token: {TOKEN} # devtoken:allow", "allow comment (devtoken:allow)"),
        (f"developer_token: {TOKEN} # gitleaks:allow", "allow comment (gitleaks:allow)"),
        (f"developer_token: {TOKEN} # pragma: allowlist secret", "allowlist secret"),
        ("developer_token: MY_ADS_API_KEY_FOR_PRD", "single-case"),
        ("developer_token: AbCdEfGhIjKlMnOpQrStUv", "sequential"),
        ("developer_token: aaaaabbbbbAAAAABBBBB12", "low entropy"),
        ("developer_token: REDACTED_REDACTED_1234", "placeholder text"),
    ],
)
def test_suppression_reasons(engine: Engine, text: str, reason: str | None) -> None:
    result = scan_text(text, engine)
    assert not result.findings
    reasons = [s.reason for s in result.suppressed]
    if reason is None:
        assert reasons == []
    else:
        assert len(reasons) == 1 and reason in reasons[0], reasons


def test_a_real_token_passes_every_filter(engine: Engine) -> None:
    result = scan_text(f"developer_token: {TOKEN}", engine)
    assert [f.match.secret.reveal() for f in result.findings] == [TOKEN]


def test_an_allow_comment_on_the_key_line_covers_a_next_line_value(engine: Engine) -> None:
    result = scan_text(f"developer_token:  # devtoken:allow\n  {TOKEN}\n", engine)
    assert not result.findings and "allow comment" in result.suppressed[0].reason


def test_explain_lists_suppressed_matches_with_reasons(tmp_path: Any, cli: Any) -> None:
    target = tmp_path / "ads.yaml"
    target.write_text("developer_token: ABcdeFGH93KL-NOPQ_STUv\n")
    run = cli("scan", str(target), "--explain")
    assert run.code == 0
    assert "suppressed google-ads-developer-token" in run.out
    assert "documented example" in run.out
    doc = cli("scan", str(target), "--explain", "--format", "json").json()
    (item,) = doc["suppressed"]
    assert item["reason"].startswith("documented example") and item["line"] == 1
