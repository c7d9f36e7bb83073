"""Command-line conventions every command keeps: its own usage on a bad flag, no
abbreviated long options, the report format inferred from `-o FILE`."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import COMMANDS, build_parser
from tests.gitrepo import Repo


def _command_parser(name: str) -> argparse.ArgumentParser:
    """`devtoken NAME`'s parser with its arguments added (they are added lazily)."""
    parser = argparse.ArgumentParser(prog=f"devtoken {name}", allow_abbrev=False)
    importlib.import_module(COMMANDS[name][0]).add_arguments(parser)
    return parser


def _required(parser: argparse.ArgumentParser) -> list[str]:
    """Arguments that satisfy the parser's required ones, so only the flag under test errs."""
    args: list[str] = []
    for action in parser._actions:
        if not action.option_strings and action.nargs in (None, 1):
            args.append(str(next(iter(action.choices))) if action.choices else "x")
        elif action.option_strings and action.required:
            value = str(next(iter(action.choices))) if action.choices else "x"
            args += [action.option_strings[0], value]
    return args


def _abbreviations(name: str) -> list[str]:
    """Each long option of `devtoken NAME` less its last letter, where that prefix is
    unambiguous (so argparse's abbreviation matching would have taken it)."""
    parser = _command_parser(name)
    options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
    found = []
    for option in options:
        prefix = option[:-1]
        if len(prefix) > 3 and sum(o.startswith(prefix) for o in options) == 1:
            found.append(prefix)
    return found


CASES = [(name, prefix) for name in COMMANDS for prefix in _abbreviations(name)]


def test_every_command_has_an_abbreviation_under_test() -> None:
    assert sorted({name for name, _ in CASES}) == sorted(COMMANDS)


@pytest.mark.parametrize(("name", "prefix"), CASES, ids=[f"{n}{p}" for n, p in CASES])
def test_an_abbreviated_long_option_is_rejected(
    name: str, prefix: str, cli: Any, tmp_path: Path
) -> None:
    required = _required(_command_parser(name))
    run = cli(name, *required, prefix, cwd=tmp_path)  # were it accepted, it would run there
    assert run.code == 2
    assert run.out == ""
    assert f"devtoken {name}: error: unrecognized arguments: {prefix}" in run.err
    assert run.err.startswith(f"usage: devtoken {name} ")


def test_the_top_parser_takes_no_abbreviation(cli: Any) -> None:
    run = cli("--vers")
    assert run.code == 2
    assert run.err.splitlines()[-1] == "devtoken: error: unrecognized arguments: --vers"


def test_since_is_not_since_commit(cli: Any, tmp_path: Path) -> None:
    """The issue's case: `git . --since-c` once meant `--since-commit`."""
    run = cli("git", str(tmp_path), "--since-c", "HEAD")
    assert run.code == 2
    assert "unrecognized arguments: --since-c HEAD" in run.err


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_bad_flag_shows_the_commands_usage(name: str, cli: Any, tmp_path: Path) -> None:
    run = cli(name, *_required(_command_parser(name)), "--bogus", cwd=tmp_path)
    assert run.code == 2
    lines = run.err.splitlines()
    assert lines[0].startswith(f"usage: devtoken {name} ")
    assert lines[-1] == f"devtoken {name}: error: unrecognized arguments: --bogus"
    assert [line for line in lines if ": error: " in line] == [lines[-1]]


def test_the_lazy_parsers_add_each_commands_arguments_once() -> None:
    parser = build_parser()
    args = parser.parse_args(["rules", "--rules", "somewhere"])
    assert (args.command, args.rules) == ("rules", "somewhere")


TOKEN_LINE = "developer_token: Zk3mQ9vTb2LxWc7RnP4s_g\n"


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    (tmp_path / "google-ads.yaml").write_text(TOKEN_LINE)
    return tmp_path


def _kind(text: str) -> str:
    """What a written report is, by its content."""
    if text.startswith("<!DOCTYPE html>") or text.lstrip().startswith("<!doctype html>"):
        return "html"
    if text.startswith("{"):
        import json

        doc = json.loads(text)
        return "sarif" if "runs" in doc else "json"
    if text.startswith("# "):
        return "md"
    if text.startswith("fingerprint,") or text.split("\n", 1)[0].count(",") > 3:
        return "csv"
    return "text"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("leaks.html", "html"),
        ("LEAKS.HTM", "html"),
        ("leaks.md", "md"),
        ("leaks.csv", "csv"),
        ("leaks.sarif", "sarif"),
        ("leaks.sarif.json", "sarif"),
        ("leaks.json", "json"),
        ("leaks.txt", "html"),  # text is no report format: report's default
        ("leaks", "html"),
        ("leaks.pdf", "html"),
    ],
)
def test_report_infers_its_format_from_the_output_name(
    name: str, kind: str, leaky: Path, cli: Any
) -> None:
    assert cli("scan", ".", "--store", "s.sqlite", "--quiet", cwd=leaky).code == 1
    run = cli("report", "--store", "s.sqlite", "-o", name, cwd=leaky)
    assert run.code == 0
    assert _kind((leaky / name).read_text()) == kind
    assert run.err == f"devtoken: wrote {name} (1 incident(s))\n"


@pytest.mark.parametrize("command", ["scan", "git"])
@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("out.json", "json"),
        ("out.sarif", "sarif"),
        ("out.html", "html"),
        ("out.md", "md"),
        ("out.txt", "text"),
        ("out.log", "text"),  # unknown extension: the default, text
        ("out", "text"),
    ],
)
def test_scan_and_git_infer_the_format_from_the_output_name(
    command: str, name: str, kind: str, leaky: Path, cli: Any
) -> None:
    from tests.gitrepo import Repo

    if command == "git":
        repo = Repo(leaky)
        repo.commit("add config", {"google-ads.yaml": TOKEN_LINE})
    run = cli(command, ".", "-o", str(leaky.parent / f"{leaky.name}-{name}"), cwd=leaky)
    assert run.code == 1
    written = (leaky.parent / f"{leaky.name}-{name}").read_text()
    assert _kind(written) == kind
    if kind == "text":
        assert "google-ads-developer-token" in written


@pytest.mark.parametrize("command", ["scan", "report"])
def test_an_explicit_format_wins_over_the_extension(command: str, leaky: Path, cli: Any) -> None:
    assert cli("scan", ".", "--store", "s.sqlite", "--quiet", cwd=leaky).code == 1
    extra = ["--store", "s.sqlite"] if command == "report" else ["."]
    run = cli(command, *extra, "--format", "json", "-o", "out.html", cwd=leaky)
    assert run.code == (0 if command == "report" else 1)
    assert _kind((leaky / "out.html").read_text()) == "json"


def test_report_several_formats_still_one_file_each(leaky: Path, cli: Any) -> None:
    assert cli("scan", ".", "--store", "s.sqlite", "--quiet", cwd=leaky).code == 1
    run = cli("report", "--store", "s.sqlite", "--format", "json,md", "-o", "r.html", cwd=leaky)
    assert run.code == 0
    assert (_kind((leaky / "r.json").read_text()), _kind((leaky / "r.md").read_text())) == (
        "json",
        "md",
    )
    assert not (leaky / "r.html").exists()


def test_without_output_the_defaults_stay(leaky: Path, cli: Any) -> None:
    assert cli("scan", ".", "--store", "s.sqlite", "--quiet", cwd=leaky).code == 1
    assert _kind(cli("report", "--store", "s.sqlite", cwd=leaky).out) == "html"
    scan = cli("scan", ".", cwd=leaky)
    assert _kind(scan.out) == "text"


@pytest.mark.parametrize("command", ["git", "report", "scan"])
def test_every_command_line_of_the_readme_parses(command: str, capsys: Any) -> None:
    """No example in the README uses a flag (or an abbreviation) the parser refuses."""
    from tests.conftest import REPO
    from tests.org.test_org_docs import commands

    lines = commands(REPO / "README.md", f"devtoken {command}")
    assert lines
    for argv in lines:
        try:
            build_parser().parse_args([command, *argv])
        except SystemExit:
            pytest.fail(f"devtoken {command} {' '.join(argv)}: {capsys.readouterr().err}")


@pytest.mark.parametrize("command", [["scan", "."], ["git", "."], ["scan", "--staged"]])
def test_fail_on_live_without_verify_is_a_usage_error(
    command: list[str], cli: Any, tmp_path: Path
) -> None:
    """Unverified, nothing is ever live: `--fail-on live` alone would pass every build."""
    repo = Repo(tmp_path / "r")
    repo.commit("add", {"google-ads.yaml": "developer_token: Zk3mQ9vTb2LxWc7RnP4s_g\n"})
    run = cli(*command, "--fail-on", "live", cwd=repo.path)
    assert (run.code, run.err) == (
        2,
        "devtoken: error: --fail-on live needs --verify (unverified, no credential is ever live)\n",
    )
