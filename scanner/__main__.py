"""`python -m scanner` runs the devtoken command line."""

from __future__ import annotations

import sys

from scanner.cli import console

sys.exit(console())
