"""One immutable scan configuration, built from CLI flags and `.devtoken.toml`."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_FILE = ".devtoken.toml"
DEFAULT_MAX_FILE_SIZE = 256 << 20
_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


class ConfigError(ValueError):
    """Bad configuration or arguments; exit code 2."""


@dataclass(frozen=True)
class ScanConfig:
    paths: tuple[str, ...] = (".",)
    rules_dir: Path | None = None
    rule_ids: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # 0: no limit; applies to walked files
    scan_binary: bool = False
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    engine: str = "auto"
    chunk_size: int = 4 << 20
    # Suppressed matches kept with their context for --explain (0: only counted).
    keep_suppressed: int = 0
    # Seconds one rule pattern may run in one search window before it is
    # reported (skipped: rule-timeout) and the scan moves on; None: no limit.
    rule_timeout: float | None = 1.0


def parse_size(text: str | int) -> int:
    """'100MiB', '512k', '0' or an int of bytes."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(text)
    if not match:
        raise ConfigError(f"not a size: {text!r} (e.g. 100MiB, 512k, 0 for no limit)")
    return int(match.group(1)) * _UNITS[(match.group(2) or "")[:1].lower()]


def load_config_file(path: Path | None) -> dict[str, Any]:
    """Settings from `path`, or from ./.devtoken.toml when it exists."""
    if path is None:
        path = Path(CONFIG_FILE)
        if not path.is_file():
            return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    known = {"exclude", "max_file_size", "scan_binary", "rules_dir", "baseline", "verify"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))}")
    return data
