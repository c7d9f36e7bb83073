"""The exception tree of scanner.errors, and the CLI boundary that maps it to exit codes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import scanner.cli as cli_package
from scanner import errors
from scanner.errors import (
    BaselineError,
    ConfigError,
    DeliveryError,
    DevtokenError,
    RuleError,
    SourceError,
    StoreError,
    UsageError,
    VerifyError,
)
from scanner.git.mirror import GitTimeout
from scanner.git.runner import GitError
from scanner.store.schema import SchemaError
from scanner.verify.http import NetworkFailure

PARENTS = {
    UsageError: DevtokenError,
    ConfigError: DevtokenError,
    RuleError: DevtokenError,
    BaselineError: DevtokenError,
    SourceError: DevtokenError,
    GitError: SourceError,
    GitTimeout: GitError,
    StoreError: DevtokenError,
    SchemaError: StoreError,
    VerifyError: DevtokenError,
    NetworkFailure: VerifyError,
    DeliveryError: DevtokenError,
}


def test_the_tree_is_the_one_the_docstring_draws() -> None:
    for kind, parent in PARENTS.items():
        assert kind.__mro__[1] is parent, kind
        assert f"{kind.__name__} " in (errors.__doc__ or ""), kind
    assert DevtokenError.__mro__[1] is Exception
    # still what callers that predate the tree catch
    for kind in (ConfigError, RuleError, BaselineError):
        assert issubclass(kind, ValueError)
    assert issubclass(SchemaError, sqlite3.DatabaseError)


def test_the_old_names_are_the_same_classes() -> None:
    from scanner import baseline, config, config_schema, exits, rules
    from scanner.org import repositories
    from scanner.respond import channels
    from scanner.store import db

    assert exits.UsageError is UsageError
    assert config_schema.ConfigError is ConfigError and config.ConfigError is ConfigError
    assert rules.RuleError is RuleError
    assert baseline.BaselineError is BaselineError
    assert db.StoreError is StoreError
    assert channels.DeliveryError is DeliveryError
    assert repositories.SourceError is SourceError


def _dispatch_raises(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Make the command itself raise `error`, so only the CLI's error boundary is tested."""

    def fail(_: Any) -> int:
        raise error

    monkeypatch.setattr(cli_package, "dispatch", fail)


@pytest.mark.parametrize("kind", [DevtokenError, *PARENTS])
def test_every_devtoken_error_is_exit_2_with_its_one_line(
    kind: type[Exception], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dispatch_raises(monkeypatch, kind("the store is locked"))
    run = cli("scan", ".")
    assert (run.code, run.out, run.err) == (2, "", "devtoken: error: the store is locked\n")


@pytest.mark.parametrize("kind", [RuntimeError, KeyError, ValueError, sqlite3.DatabaseError])
def test_anything_else_is_an_internal_error_exit_3(
    kind: type[Exception], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dispatch_raises(monkeypatch, kind("boom"))
    monkeypatch.delenv("DEVTOKEN_DEBUG", raising=False)
    run = cli("scan", ".")
    assert run.code == 3 and run.err.startswith(f"devtoken: internal error: {kind.__name__}: ")


def test_a_git_error_outside_the_scan_commands_is_exit_2(tmp_path: Path, cli: Any) -> None:
    """`baseline --history` on a folder that is no repository (was an internal error, exit 3)."""
    run = cli("baseline", "create", str(tmp_path), "--history", "-o", str(tmp_path / "b.json"))
    assert run.code == 2 and run.err.startswith("devtoken: error: ") and "internal" not in run.err
    assert not (tmp_path / "b.json").exists()


def test_real_errors_reach_the_boundary_as_exit_2(tmp_path: Path, cli: Any) -> None:
    bad_config = tmp_path / "bad.toml"
    bad_config.write_text("max_file_size = 'huge'\n")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "x.toml").write_text("x = [")
    bad_baseline = tmp_path / "baseline.json"
    bad_baseline.write_text("{")
    target = tmp_path / "t.txt"
    target.write_text("hello\n")
    for args in (
        ("scan", str(target), "--config", str(bad_config)),  # ConfigError
        ("scan", str(target), "--rules", str(rules)),  # RuleError
        ("scan", str(target), "--baseline", str(bad_baseline)),  # BaselineError
        ("report", "--store", str(tmp_path / "missing.sqlite")),  # StoreError
        ("git", str(tmp_path)),  # GitError
    ):
        run = cli(*args)
        assert run.code == 2 and run.err.startswith("devtoken: error: "), (args, run.err)
        assert run.err.count("\n") == 1, (args, run.err)
