"""Renderers: a ScanResult in, text out. They never see a clear secret unless asked."""

from __future__ import annotations

FORMATS = ("text", "json", "jsonl", "sarif")
