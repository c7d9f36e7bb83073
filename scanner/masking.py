"""Masking text that is shown but not scanned for findings: commit messages, error lines.

Every rule match in the text (a finding or a suppressed one alike) is replaced by its
redacted form, longest first so that a secret containing another is masked whole.
"""

from __future__ import annotations

from collections.abc import Mapping

from scanner.engine import Engine
from scanner.engine.chunks import scan_blocks


def rule_masks(engine: Engine, text: bytes) -> dict[str, str]:
    """secret -> its redacted form, for every rule match in `text`."""
    return (
        {m.secret.reveal(): m.secret.redacted for m in scan_blocks(engine, [text])} if text else {}
    )


def apply_masks(text: str, masks: Mapping[str, str]) -> str:
    for secret in sorted(masks, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, masks[secret])
    return text
