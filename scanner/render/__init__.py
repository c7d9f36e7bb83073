"""The rendering stack: one registry of formats, one module per format.

A live scan (a ScanResult) and `devtoken report` (incidents read from the store) render
through the same registry and the same report model: a format with no renderer of its own
for a live scan (html, md, csv) renders the scan's incidents (`scan_incidents`), built
exactly as the store would hold them. A format's module is imported only when it is used,
so the pre-commit hook never pays for Jinja2, csv or SARIF; this module imports nothing
heavy either.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any

    from scanner.render.incidents import Incident
    from scanner.scan import ScanResult


@dataclass(frozen=True)
class RenderOptions:
    """How a renderer shows a result: secrets, suppressions, the store's name."""

    show_secrets: bool = False  # a live scan only: the store never holds a clear secret
    explain: bool = False  # also list suppressed matches (live scans)
    store_name: str = ""  # the store's file name, shown in the HTML report
    new_since: str = ""  # when the previous scan began: what `Incident.new` is counted from


@dataclass(frozen=True)
class Format:
    """A format: its module, file extensions, and what it renders (function names there)."""

    name: str
    module: str
    extensions: tuple[str, ...]
    scan: str | None = None  # renders a live ScanResult (else: the scan's incidents by `store`)
    store: str | None = None  # renders incidents (from the store, or of a live scan)


# The order help and error messages list them in: for a live scan text, html, json, jsonl,
# sarif, md, csv; for the store html, json, sarif, md, csv.
REGISTRY: dict[str, Format] = {
    f.name: f
    for f in (
        Format("text", "text", (".txt",), scan="render_scan"),
        Format("html", "html", (".html", ".htm"), store="render_store"),
        Format("json", "json", (".json",), scan="render_scan", store="render_store"),
        Format("jsonl", "json", (".jsonl",), scan="render_lines"),
        Format(
            "sarif", "sarif", (".sarif", ".sarif.json"), scan="render_scan", store="render_store"
        ),
        Format("md", "markdown", (".md", ".markdown"), store="render_store"),
        Format("csv", "csv", (".csv",), store="render_store"),
    )
}
SCAN_FORMATS = tuple(name for name, f in REGISTRY.items() if f.scan or f.store)
REPORT_FORMATS = tuple(name for name, f in REGISTRY.items() if f.store)


def format_for_path(path: str, choices: Sequence[str] = tuple(REGISTRY)) -> str | None:
    """The format a file name asks for (`leaks.html` -> html), among `choices`; None if none."""
    name = path.lower()
    by_length = sorted(
        ((ext, f.name) for f in REGISTRY.values() if f.name in choices for ext in f.extensions),
        key=lambda pair: -len(pair[0]),
    )
    return next((fmt for ext, fmt in by_length if name.endswith(ext)), None)


def render_scan(
    result: ScanResult, fmt: str, show_secrets: bool = False, explain: bool = False
) -> str:
    """A live scan in format `fmt` (one of SCAN_FORMATS).

    A report format (html, md, csv) renders the scan's incidents, which hold no clear
    secret: `show_secrets` and `explain` do not apply to it.
    """
    if fmt in REPORT_FORMATS and not renders_result(fmt):
        from scanner.render.scan_incidents import incidents_of_scan

        return _renderer(fmt, "store")(incidents_of_scan(result), RenderOptions())
    return _renderer(fmt, "scan")(result, RenderOptions(show_secrets, explain))


def renders_result(fmt: str) -> bool:
    """Whether `fmt` renders a live ScanResult itself, so can show its secrets
    (--show-secrets) and suppressed matches (--explain); a report format renders incidents."""
    entry = REGISTRY.get(fmt)
    return entry is not None and entry.scan is not None


def render_store(
    incidents: list[Incident], fmt: str, store_name: str = "", new_since: str = ""
) -> str:
    """Incidents from the store in format `fmt` (one of REPORT_FORMATS); `new_since`: the
    previous scan's start, when the incidents' `new` marks compare with one."""
    options = RenderOptions(store_name=store_name, new_since=new_since)
    return _renderer(fmt, "store")(incidents, options)


def _renderer(fmt: str, kind: str) -> Callable[[Any, RenderOptions], str]:
    entry = REGISTRY.get(fmt)
    function = getattr(entry, kind) if entry else None
    if entry is None or function is None:
        raise ValueError(f"format {fmt!r} does not render a {kind}")
    module = importlib.import_module(f"scanner.render.{entry.module}")
    render: Callable[[Any, RenderOptions], str] = getattr(module, function)
    return render
