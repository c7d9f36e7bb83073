"""What the pre-commit hook's scan imports, seen from a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_PROBE = (
    "import sys; from scanner.cli import main; code = main(['scan', '--staged', '--quiet']);"
    "print(code, *sorted(sys.modules))"
)


def hook_modules(repo: Path) -> tuple[int, list[str]]:
    """Run `devtoken scan --staged --quiet` in `repo` in a new process; its exit code and
    every module loaded by then (the probe itself imports nothing more than `sys`)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=repo, capture_output=True, text=True, env=env
    )
    code, *modules = done.stdout.strip().splitlines()[-1].split(" ")
    return int(code), modules
