"""The org scan's docs say only what the code takes: every `devtoken org` and `dask` command line
parses with the real parsers, and the `org.toml` example loads with the real config reader."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from scanner.cli import build_parser
from scanner.org.config import parse_org_config
from scanner.org.github_source import GitHubSource
from scanner.org.gitlab_source import GitLabSource
from scanner.org.listed import ListedSource
from tests.conftest import REPO

DOC = REPO / "docs" / "org-scan.md"
README = REPO / "README.md"
SHELL_STOPS = {">>", ">", "2>&1", "&&", "||", "|", ";"}
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
_INLINE = re.compile(r"`((?:devtoken|dask) [^`]+)`")


def code_blocks(path: Path) -> list[str]:
    return _FENCE.findall(path.read_text(encoding="utf-8"))


def commands(path: Path, program: str) -> list[list[str]]:
    """The argument lists after `program` (e.g. "devtoken org") in code blocks and inline code,
    up to the first shell operator."""
    text = path.read_text(encoding="utf-8")
    spans = [
        line for block in code_blocks(path) for line in block.replace("\\\n", " ").splitlines()
    ]
    spans += [span for span in _INLINE.findall(_FENCE.sub("", text)) if span.startswith(program)]
    found = []
    start = re.compile(rf"(?:^|(?<=[\s/;=]))(?:{re.escape(program)})(?=\s|$)")
    for span in spans:
        for hit in start.finditer(span):
            words = shlex.split(span[hit.end() :], comments=True)
            cut = next((i for i, w in enumerate(words) if w in SHELL_STOPS), len(words))
            if words[:cut]:  # a bare mention names the command, it is no command line
                found.append(words[:cut])
    return found


def test_every_devtoken_org_command_in_the_docs_parses(capsys: pytest.CaptureFixture[str]) -> None:
    found = {path.name: commands(path, "devtoken org") for path in (DOC, README)}
    assert {name: len(lines) for name, lines in found.items()} == {
        "org-scan.md": 11,
        "README.md": 2,
    }
    parser = build_parser()
    for name, lines in found.items():
        for argv in lines:
            try:
                args = parser.parse_args(["org", *argv])
            except SystemExit:
                pytest.fail(f"{name}: devtoken org {shlex.join(argv)}: {capsys.readouterr().err}")
            assert args.command == "org"


@pytest.mark.parametrize("program", ["dask scheduler", "dask worker"])
def test_every_dask_command_in_the_docs_parses(
    program: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed.cli import dask_scheduler, dask_worker

    command = {"dask scheduler": dask_scheduler.main, "dask worker": dask_worker.main}[program]
    monkeypatch.chdir(tmp_path)
    lines = commands(DOC, program)
    assert len(lines) == 2
    for argv in lines:
        for word in argv:
            if word.endswith((".pem", ".key")):
                (tmp_path / word).touch()  # the TLS options want existing files
        context = command.make_context(program, list(argv))
        if program == "dask worker":
            assert context.params["resources"] == "GIT=2"


def test_the_org_toml_example_loads_with_the_real_config_reader() -> None:
    (example,) = [block for block in code_blocks(DOC) if block.startswith("# org.toml")]
    config = parse_org_config(tomllib.loads(example)["org"], "org.toml")
    kinds = [type(source) for source in config.sources]
    assert kinds == [GitHubSource, GitHubSource, GitLabSource, ListedSource]
    github, enterprise, gitlab, listed = config.sources
    assert isinstance(github, GitHubSource) and isinstance(enterprise, GitHubSource)
    assert (github.owner, github.kind, github.token_env) == ("acme", "org", "ACME_GITHUB_TOKEN")
    assert enterprise.api_url == "https://github.example.com/api/v3"
    assert isinstance(gitlab, GitLabSource) and gitlab.url == "https://gitlab.example.com"
    assert isinstance(listed, ListedSource) and len(listed.entries) == 3
    assert config.filters.include == ("ads-*", "acme/*-reporting")
    assert (config.timeout, config.jobs, str(config.mirrors)) == (
        900.0,
        4,
        "/var/cache/devtoken/mirrors",
    )
