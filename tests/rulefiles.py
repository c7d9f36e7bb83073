"""A user's --rules directory for tests: the bundled rules plus in-house ones."""

from __future__ import annotations

from pathlib import Path

from scanner.rules import default_rules_dir


def bundled_rules_plus(directory: Path, **extra: str) -> Path:
    """`directory` holding a copy of every bundled rule file and `extra` (file stem -> TOML)."""
    directory.mkdir(parents=True)
    for source in default_rules_dir().glob("*.toml"):
        (directory / source.name).write_text(source.read_text())
    for stem, text in extra.items():
        (directory / f"{stem}.toml").write_text(text)
    return directory
