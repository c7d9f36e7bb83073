"""Masking text that is shown but not scanned for findings: commit messages, error lines.

Every rule match in the text (a finding or a suppressed one alike) is replaced by its
redacted form, longest first so that a secret containing another is masked whole. Where
the rules could not say (a rule timed out, or an unexpected exception's text, which may
quote anything), every run that could be a bare credential is masked too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from scanner.engine import Engine
from scanner.engine.chunks import ScanNotes, scan_blocks

# A run that could be a bare credential with no key beside it for a rule to anchor on (a
# developer token is 22 such characters): long, with both letters and digits. Words and
# identifiers (no digit) and paths (split at "/") stay readable.
_TOKEN_LIKE = re.compile(r"(?<![\w+=-])(?=[\w+=-]*\d)(?=[\w+=-]*[A-Za-z])[\w+=-]{20,}(?![\w+=-])")


def rule_masks(engine: Engine, text: bytes, notes: ScanNotes | None = None) -> dict[str, str]:
    """secret -> its redacted form, for every rule match in `text`; rule timeouts go to
    `notes` (without one, to stderr)."""
    if not text:
        return {}
    return {m.secret.reveal(): m.secret.redacted for m in scan_blocks(engine, [text], notes=notes)}


def mask_token_like(text: str) -> str:
    """`text` with every run that could be a bare credential cut to its first 4 and last 2
    characters."""
    return _TOKEN_LIKE.sub(lambda m: f"{m.group()[:4]}…{m.group()[-2:]}", text)


def apply_masks(text: str, masks: Mapping[str, str]) -> str:
    for secret in sorted(masks, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, masks[secret])
    return text
