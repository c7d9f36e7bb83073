"""Error text is masked before the CLI prints it."""

from __future__ import annotations

import pytest

from scanner.render.redact import masked

SECRET = "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"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("boom", "boom"),
        (f"client_secret: {SECRET} rejected", "client_secret: GOCSPX-e9…jA rejected"),
        ("bad value Qm3xK9_pL2vN8rT4wY6zA1", "bad value Qm3x…A1"),
        ("no attribute 'scan_history_with_progress'", "no attribute 'scan_history_with_progress'"),
        ("cannot read /tmp/pytest-of-root/p0/a.yaml", "cannot read /tmp/pytest-of-root/p0/a.yaml"),
        ("refresh 1//0gAbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "refresh 1//0gAb…89"),
    ],
)
def test_masked_bare(text: str, shown: str) -> None:
    assert masked(text, bare=True) == shown


def test_own_messages_keep_long_path_segments_and_mask_rule_matches() -> None:
    path = "/tmp/pytest-of-root/test_a_config_type_slip_is_one68/x.toml"
    assert masked(f"{path}: not valid TOML") == f"{path}: not valid TOML"
    assert masked(f"bad client_secret: {SECRET}") == "bad client_secret: GOCSPX-e9…jA"
