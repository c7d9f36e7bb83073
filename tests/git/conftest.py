"""Fixtures of the git tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepo import Repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A fresh repository (branch main, a fixed author and deterministic dates)."""
    return Repo(tmp_path / "repo")
