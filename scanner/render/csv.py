"""CSV of the store's findings, one row per place seen; every cell through `csv_cell`."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from scanner.render.escape import csv_cell
from scanner.render.records import stored_finding_records

if TYPE_CHECKING:
    from scanner.render import RenderOptions
    from scanner.render.incidents import Incident

COLUMNS = (
    "bundle",
    "verification",
    "rule_id",
    "severity",
    "path",
    "line",
    "column",
    "secret_redacted",
    "fingerprint",
    "status",
    "repo",
    "commit",
    "author",
    "date",
)


def render_store(incidents: list[Incident], options: RenderOptions) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for record in stored_finding_records(incidents):
        row = {**record, "verification": record["verification"]["status"]}
        writer.writerow([csv_cell(row.get(c, "")) for c in COLUMNS])
    return out.getvalue()
