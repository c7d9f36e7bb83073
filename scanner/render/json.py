"""JSON and JSON Lines: the contract's records (render/records.py) serialised."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scanner.render.records import document, finding_record, member_verifications, store_document

if TYPE_CHECKING:
    from scanner.render import RenderOptions
    from scanner.render.incidents import Incident
    from scanner.scan import ScanResult


def render_scan(result: ScanResult, options: RenderOptions) -> str:
    return json.dumps(document(result, options.show_secrets, options.explain), indent=2) + "\n"


def render_lines(result: ScanResult, options: RenderOptions) -> str:
    """One finding record per line (no bundles or stats): for streaming into other tools."""
    verifications = member_verifications(result)
    return "".join(
        json.dumps(finding_record(f, options.show_secrets, verifications.get(f.fingerprint))) + "\n"
        for f in result.findings
    )


def render_store(incidents: list[Incident], options: RenderOptions) -> str:
    return json.dumps(store_document(incidents), indent=2) + "\n"
