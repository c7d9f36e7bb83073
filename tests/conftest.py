"""Shared fixtures: engines for both backends and an in-process CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from scanner.engine import Engine
from scanner.rules import load_rules

REPO = Path(__file__).resolve().parent.parent
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
BACKENDS = ("hyperscan", "regex")


@pytest.fixture(scope="session", autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A developer's own ~/.config/devtoken, cache key or Hyperscan cache never shapes a test:
    every test (and every child it starts) sees fresh, empty XDG folders."""
    base = tmp_path_factory.mktemp("xdg")
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = base / name.lower()
        folder.mkdir(mode=0o700)
        os.environ[name] = str(folder)


@pytest.fixture(scope="session")
def rules() -> Any:
    return load_rules()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest, rules: Any) -> Engine:
    return Engine(rules, backend=request.param)


@dataclass
class CliRun:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    """Run `devtoken ARGS` in-process and capture its output."""

    def run(*args: str, cwd: Path | None = None) -> CliRun:
        old = os.getcwd()
        try:
            if cwd:
                os.chdir(cwd)
            code = main(list(args))
        finally:
            os.chdir(old)
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run


def run_subprocess(
    args: Sequence[str], stdin: bytes | None = None, cwd: Path | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[Any]:
    """Run the real console entry point (`python -m scanner`) in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "scanner", *args],
        input=stdin,
        cwd=cwd,
        capture_output=True,
        timeout=120,
        check=False,
        **kwargs,
    )


def require(present: object, what: str) -> None:
    """Skip a test whose prerequisite (Chromium, ../shared, the wheelhouse) is missing on a
    developer's machine; in CI (CI=true) a missing prerequisite fails the run instead, so a
    green CI always means the test ran."""
    if present:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI is missing a prerequisite: {what}", pytrace=False)
    pytest.skip(f"{what} is missing")


def loopback_env(**extra: str) -> dict[str, str]:
    """The environment for a devtoken child process in tests: this checkout on the path,
    no proxies (every server is on 127.0.0.1) and no DEVTOKEN_* settings from outside."""
    env = {
        k: v
        for k, v in os.environ.items()
        if "proxy" not in k.lower() and not k.startswith("DEVTOKEN_")
    }
    env.update(PYTHONPATH=str(REPO), NO_PROXY="*", **extra)
    return env


def findings_of(doc: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["rule_id"]) for f in doc["findings"]]
