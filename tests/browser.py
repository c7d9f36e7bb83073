"""Headless Chromium as the report's browser tests and scripts/screenshots.py start it.

Debian's chromium, never a downloaded one; the background-networking flags keep it from
reaching for Google's hosts (this machine's network is closed, tests stay on loopback).
"""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
