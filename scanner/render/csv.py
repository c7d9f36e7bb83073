"""CSV of findings (the store's or a live scan's), one row per place seen.

Every cell goes through `csv_cell`. Columns are only ever added, at the end.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from scanner.render.escape import csv_cell
from scanner.render.records import places, stored_finding_record

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
    "repository",  # as reports name it: the remote's org/name, else `repo`; (files)
)


def render_store(incidents: list[Incident], options: RenderOptions) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for incident, member, seen in places(incidents):
        record = stored_finding_record(incident, member, seen)
        row = {**record, "verification": member.verification["status"]}
        row["repository"] = seen.repository
        writer.writerow([csv_cell(row.get(c, "")) for c in COLUMNS])
    return out.getvalue()
