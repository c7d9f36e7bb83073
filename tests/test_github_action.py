"""The GitHub Action (action.yml), run locally: its scan script with the environment GitHub
sets (event payload, workspace, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP, INPUT_*),
against real repositories cloned the way actions/checkout clones them (over a transport, so
what a force push dropped is not in the clone); plus static checks that action.yml passes
inputs only through `env:` and that docs/github-action.md uses only inputs it declares."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, loopback_env, require
from tests.fakes.ads_server import FakeAds
from tests.fakes.oauth_server import FakeOAuth
from tests.gitrepo import Repo

T = "Zk3mQ9vTb2LxWc7RnP4s_g"
T2 = "Hx4Lq8Nm2Vb6Zc1Rt9Ks-w"
ZERO = "0" * 40
SCAN_SCRIPT = REPO / "scripts" / "action-scan.sh"
INSTALL_SCRIPT = REPO / "scripts" / "action-install.sh"
ACTION = REPO / "action.yml"
DOCS = REPO / "docs" / "github-action.md"
WHEELHOUSE = Path(os.environ.get("DEVTOKEN_WHEELHOUSE", REPO / ".venv" / "wheelhouse"))
RULE = "google-ads-developer-token"
# Directories with spaces and shell syntax in their names: every path is quoted.
WORKSPACE = "work space $(touch pwned-ws) `x`"
RUNNER = "runner temp"


@dataclass
class ActionRun:
    code: int
    out: str
    err: str
    outputs: dict[str, str]
    summary: str
    sarif: dict[str, Any] | None

    def results(self) -> list[tuple[str, int, str]]:
        assert self.sarif is not None, self.err
        return sorted(
            (
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"],
                r["ruleId"],
            )
            for r in self.sarif["runs"][0]["results"]
        )


def action_env(
    tmp_path: Path, workspace: Path, event_name: str, event: dict[str, Any]
) -> dict[str, str]:
    """What the runner sets for a step, and devtoken (this checkout) on PATH."""
    runner = tmp_path / RUNNER
    runner.mkdir(exist_ok=True)
    (runner / "event.json").write_text(json.dumps(event), encoding="utf-8")
    for name in ("output", "summary"):
        (runner / name).write_text("", encoding="utf-8")
    env = {
        k: v
        for k, v in loopback_env().items()
        if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        GITHUB_EVENT_NAME=event_name,
        GITHUB_EVENT_PATH=str(runner / "event.json"),
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_OUTPUT=str(runner / "output"),
        GITHUB_STEP_SUMMARY=str(runner / "summary"),
        GITHUB_REPOSITORY="octo/app",
        GITHUB_SERVER_URL="https://github.com",
        RUNNER_TEMP=str(runner),
    )
    return env


def run_action(
    tmp_path: Path,
    workspace: Path,
    event_name: str,
    event: dict[str, Any],
    extra_env: dict[str, str] | None = None,
    /,
    **inputs: str,
) -> ActionRun:
    """scripts/action-scan.sh as the action's scan step runs it; `inputs` by their action.yml
    names (fail_on for fail-on)."""
    env = action_env(tmp_path, workspace, event_name, event)
    env.update(extra_env or {})
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    done = subprocess.run(
        ["bash", str(SCAN_SCRIPT)],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    runner = tmp_path / RUNNER
    outputs = dict(
        line.split("=", 1) for line in (runner / "output").read_text(encoding="utf-8").splitlines()
    )
    sarif_path = outputs.get("sarif", "")
    sarif = json.loads(Path(sarif_path).read_text(encoding="utf-8")) if sarif_path else None
    summary = (runner / "summary").read_text(encoding="utf-8")
    return ActionRun(done.returncode, done.stdout, done.stderr, outputs, summary, sarif)


def checkout(origin: Repo, tmp_path: Path, *extra: str) -> Path:
    """The workspace actions/checkout (fetch-depth: 0) leaves: a clone over a transport, so
    it has refs/remotes/origin/* and only objects some ref reaches."""
    workspace = tmp_path / WORKSPACE
    subprocess.run(
        ["git", "clone", "-q", *extra, origin.path.as_uri(), str(workspace)],
        check=True,
        capture_output=True,
    )
    return workspace


def push_event(
    before: str, after: str, ref: str = "refs/heads/main", **more: Any
) -> dict[str, Any]:
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "forced": False,
        "deleted": after == ZERO,
        "repository": {"default_branch": "main", "full_name": "octo/app"},
        **more,
    }


def origin_repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "origin")


# ---- push ranges ------------------------------------------------------------------------


def test_a_push_adding_a_secret_fails_with_the_finding_in_sarif_outputs_and_summary(
    tmp_path: Path,
) -> None:
    origin = origin_repo(tmp_path)
    before = origin.commit("init", {"README.md": "hello\n"})
    after = origin.commit("add config", {"conf/google-ads.yaml": f"developer_token: {T}\n"})
    workspace = checkout(origin, tmp_path)
    run = run_action(tmp_path, workspace, "push", push_event(before, after))
    assert run.code == 1, run.err
    assert run.results() == [("conf/google-ads.yaml", 1, RULE)]
    assert run.sarif is not None
    assert run.sarif["runs"][0]["tool"]["driver"]["name"] == "devtoken"
    assert run.outputs == {
        "findings": "1",
        "live": "0",
        "scanned": f"range {before}..{after}",
        "repo": str(workspace),
        "sarif": str(tmp_path / RUNNER / "devtoken.sarif"),
    }
    assert f"**1 finding(s)** in the commits {before[:12]}..{after[:12]}." in run.summary
    assert "- Result: failed: fail-on new\n" in run.summary
    assert f"| `{RULE}` | 1 |" in run.summary
    assert f"| conf/google-ads.yaml | 1 | `{RULE}` | not verified |" in run.summary
    assert (
        "[Code scanning alerts](https://github.com/octo/app/security/code-scanning"
        "?query=is%3Aopen+tool%3Adevtoken)"
    ) in run.summary
    # the secret itself never reaches the log or the summary
    assert T not in run.out + run.err + run.summary


def test_a_clean_push_passes_even_when_older_history_has_a_secret(tmp_path: Path) -> None:
    """A range scan reads only what the range adds: the old leak is a history scan's job."""
    origin = origin_repo(tmp_path)
    before = origin.commit("old leak", {"google-ads.yaml": f"developer_token: {T}\n"})
    after = origin.commit("docs", {"README.md": "hello\n"})
    run = run_action(tmp_path, checkout(origin, tmp_path), "push", push_event(before, after))
    assert run.code == 0, run.err
    assert run.results() == []
    assert run.outputs["findings"] == "0"
    assert run.outputs["scanned"] == f"range {before}..{after}"
    assert f"No findings in the commits {before[:12]}..{after[:12]}." in run.summary
    assert "- Result: passed\n" in run.summary


def test_a_new_branch_scans_only_its_commits_not_on_the_default_branch(tmp_path: Path) -> None:
    origin = origin_repo(tmp_path)
    fork_point = origin.commit("old leak on main", {"old.yaml": f"developer_token: {T}\n"})
    origin.git("checkout", "-q", "-b", "feature")
    origin.commit("clean", {"a.txt": "a\n"})
    head = origin.commit("leak on the branch", {"new.yaml": f"developer_token: {T2}\n"})
    origin.git("checkout", "-q", "main")
    run = run_action(
        tmp_path,
        checkout(origin, tmp_path),
        "push",
        push_event(ZERO, head, ref="refs/heads/feature"),
    )
    assert run.code == 1, run.err
    assert run.results() == [("new.yaml", 1, RULE)]
    assert run.outputs["scanned"] == f"range {fork_point}..{head}"
    note = (
        "a new branch or tag: scanning the commits not on the default branch "
        f"({fork_point[:12]}..{head[:12]})"
    )
    assert f"devtoken action: {note}\n" in run.err
    assert f"- Note: {note}\n" in run.summary


def test_a_new_branch_with_no_commits_of_its_own_passes(tmp_path: Path) -> None:
    origin = origin_repo(tmp_path)
    tip = origin.commit("old leak on main", {"old.yaml": f"developer_token: {T}\n"})
    origin.git("branch", "feature")
    run = run_action(
        tmp_path,
        checkout(origin, tmp_path),
        "push",
        push_event(ZERO, tip, ref="refs/heads/feature"),
    )
    assert run.code == 0, run.err
    assert run.outputs["scanned"] == f"range {tip}..{tip}"
    assert run.outputs["findings"] == "0"


def test_the_first_push_of_the_default_branch_scans_its_whole_history(tmp_path: Path) -> None:
    origin = origin_repo(tmp_path)
    origin.commit("leak", {"old.yaml": f"developer_token: {T}\n"})
    head = origin.commit("clean", {"a.txt": "a\n"})
    run = run_action(tmp_path, checkout(origin, tmp_path), "push", push_event(ZERO, head))
    assert run.code == 1, run.err
    assert run.results() == [("old.yaml", 1, RULE)]
    assert run.outputs["scanned"] == f"history {head}"
    assert f"a new branch or tag: scanning the whole history of {head[:12]}\n" in run.err


def force_pushed(tmp_path: Path, branch: str) -> tuple[Repo, str, str, str]:
    """`branch` rewritten: its old tip (with a leak) replaced by a new commit (with
    another); returns the origin, the fork point from main, the old tip and the new tip."""
    origin = origin_repo(tmp_path)
    base = origin.commit("init", {"README.md": "hello\n"})
    if branch != "main":
        origin.git("checkout", "-q", "-b", branch)
    old_tip = origin.commit("leak, then rewritten away", {"gone.yaml": f"developer_token: {T}\n"})
    origin.git("reset", "-q", "--hard", base)
    new_tip = origin.commit("the rewrite", {"kept.yaml": f"developer_token: {T2}\n"})
    origin.git("checkout", "-q", "main")
    origin.git("reflog", "expire", "--expire=now", "--all")
    origin.git("gc", "-q", "--prune=now")
    return origin, base, old_tip, new_tip


def test_a_force_push_whose_old_tip_is_gone_falls_back_to_the_merge_base(tmp_path: Path) -> None:
    origin, base, old_tip, new_tip = force_pushed(tmp_path, "feature")
    workspace = checkout(origin, tmp_path)
    event = push_event(old_tip, new_tip, ref="refs/heads/feature", forced=True)
    run = run_action(tmp_path, workspace, "push", event)
    assert run.code == 1, run.err
    assert run.results() == [("kept.yaml", 1, RULE)]
    assert run.outputs["scanned"] == f"range {base}..{new_tip}"
    assert (
        f"devtoken action: force push: the previous tip {old_tip[:12]} is not in the checkout: "
        f"scanning the commits not on the default branch ({base[:12]}..{new_tip[:12]})\n"
    ) in run.err


def test_a_force_push_to_the_default_branch_falls_back_to_its_whole_history(
    tmp_path: Path,
) -> None:
    origin, _, old_tip, new_tip = force_pushed(tmp_path, "main")
    run = run_action(
        tmp_path, checkout(origin, tmp_path), "push", push_event(old_tip, new_tip, forced=True)
    )
    assert run.code == 1, run.err
    assert run.results() == [("kept.yaml", 1, RULE)]
    assert run.outputs["scanned"] == f"history {new_tip}"
    assert (
        f"force push: the previous tip {old_tip[:12]} is not in the checkout: "
        f"scanning the whole history of {new_tip[:12]}"
    ) in run.summary


def test_a_shallow_checkout_is_said(tmp_path: Path) -> None:
    origin = origin_repo(tmp_path)
    before = origin.commit("init", {"README.md": "hello\n"})
    after = origin.commit("clean", {"a.txt": "a\n"})
    workspace = checkout(origin, tmp_path, "--depth", "1")
    run = run_action(tmp_path, workspace, "push", push_event(before, after))
    assert run.code == 0, run.err
    assert "the checkout is shallow: history before it is not scanned" in run.summary
    assert run.outputs["scanned"] == f"history {after}"


def test_a_deleted_branch_scans_nothing(tmp_path: Path) -> None:
    origin = origin_repo(tmp_path)
    tip = origin.commit("leak", {"old.yaml": f"developer_token: {T}\n"})
    workspace = checkout(origin, tmp_path)
    run = run_action(tmp_path, workspace, "push", push_event(tip, ZERO, ref="refs/heads/gone"))
    assert run.code == 0, run.err
    assert run.outputs == {
        "findings": "0",
        "live": "0",
        "scanned": "none",
        "repo": str(workspace),
        "sarif": "",
    }
    assert "the push deleted a branch or tag: nothing to scan" in run.err


# ---- pull requests and other events -----------------------------------------------------


def test_a_pull_request_scans_base_to_head(tmp_path: Path) -> None:
    origin = origin_repo(tmp_path)
    base = origin.commit("old leak on main", {"old.yaml": f"developer_token: {T}\n"})
    origin.git("checkout", "-q", "-b", "feature")
    head = origin.commit("leak in the PR", {"pr.yaml": f"developer_token: {T2}\n"})
    origin.git("checkout", "-q", "main")
    event = {
        "number": 7,
        "pull_request": {
            "base": {"ref": "main", "sha": base},
            "head": {"ref": "feature", "sha": head},
        },
        "repository": {"default_branch": "main"},
    }
    run = run_action(tmp_path, checkout(origin, tmp_path), "pull_request", event)
    assert run.code == 1, run.err
    assert run.results() == [("pr.yaml", 1, RULE)]
    assert run.outputs["scanned"] == f"range {base}..{head}"


def test_an_event_without_a_range_scans_the_whole_history(tmp_path: Path) -> None:
    origin = origin_repo(tmp_path)
    origin.commit("leak", {"old.yaml": f"developer_token: {T}\n"})
    origin.commit("clean", {"a.txt": "a\n"}, remove=("old.yaml",))
    run = run_action(tmp_path, checkout(origin, tmp_path), "workflow_dispatch", {})
    assert run.code == 1, run.err
    assert run.results() == [("old.yaml", 1, RULE)]
    assert run.outputs["scanned"] == "history"
    assert "the workflow_dispatch event has no pushed range: scanning the whole history" in run.err


def test_scan_tree_reads_the_checked_out_files_only(tmp_path: Path) -> None:
    origin = origin_repo(tmp_path)
    origin.commit("leak, later removed", {"old.yaml": f"developer_token: {T}\n"})
    origin.commit("current", {"now.yaml": f"developer_token: {T2}\n"}, remove=("old.yaml",))
    run = run_action(tmp_path, checkout(origin, tmp_path), "push", {}, scan="tree")
    assert run.code == 1, run.err
    assert run.results() == [("now.yaml", 1, RULE)]
    assert run.outputs["scanned"] == "tree"


# ---- baselines and fail-on --------------------------------------------------------------


def baselined_history(tmp_path: Path) -> tuple[Path, str]:
    """A history with a known leak (in the baseline, committed) and a new one."""
    origin = origin_repo(tmp_path)
    origin.commit("known leak", {"known.yaml": f"developer_token: {T}\n"})
    made = subprocess.run(
        [sys.executable, "-m", "scanner", "baseline", "create", "--history", "--quiet"],
        cwd=origin.path,
        env=loopback_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    origin.commit("baseline", {})
    origin.commit("new leak", {"new.yaml": f"developer_token: {T2}\n"})
    return checkout(origin, tmp_path), ".devtoken-baseline.json"


def test_the_baseline_keeps_known_findings_from_failing_or_being_reported(tmp_path: Path) -> None:
    workspace, baseline = baselined_history(tmp_path)
    run = run_action(tmp_path, workspace, "push", {}, scan="history", baseline=baseline)
    assert run.code == 1, run.err
    assert run.results() == [("new.yaml", 1, RULE)]
    assert run.outputs["findings"] == "1"
    assert "- Fail on: `new`, known findings from the baseline left out\n" in run.summary


def test_fail_on_any_ignores_the_baseline_and_says_so(tmp_path: Path) -> None:
    workspace, baseline = baselined_history(tmp_path)
    run = run_action(
        tmp_path, workspace, "push", {}, scan="history", baseline=baseline, fail_on="any"
    )
    assert run.code == 1, run.err
    assert run.results() == [("known.yaml", 1, RULE), ("new.yaml", 1, RULE)]
    assert "fail-on: any ignores the baseline" in run.err


def test_fail_on_none_reports_but_passes(tmp_path: Path) -> None:
    workspace, _ = baselined_history(tmp_path)
    run = run_action(tmp_path, workspace, "push", {}, scan="history", fail_on="none")
    assert run.code == 0, run.err
    assert run.outputs["findings"] == "2"
    assert "**2 finding(s)** in the whole history (every ref)." in run.summary


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"fail_on": "live"},
            "fail-on: live needs verify: true (only a verified credential is known to be live)",
        ),
        ({"fail_on": "sometimes"}, "input fail-on must be new, any, live or none, not 'sometimes'"),
        (
            {"scan": "range\n::error::x"},
            "input scan must be range, history or tree, not 'range?::error::x'",
        ),
        ({"verify": "maybe"}, "input verify must be true or false, not 'maybe'"),
        ({"upload_sarif": "maybe"}, "input upload-sarif must be true or false, not 'maybe'"),
        ({"baseline": "missing.json"}, "baseline 'missing.json' does not exist (relative to path)"),
        ({"sarif_file": "a\nsarif=/etc/passwd"}, "input sarif-file must not contain a line break"),
        ({"path": "nowhere"}, "path 'nowhere' is not a directory in the workspace"),
    ],
)
def test_bad_inputs_are_one_line_errors_with_exit_2(
    tmp_path: Path, inputs: dict[str, str], message: str
) -> None:
    origin = origin_repo(tmp_path)
    origin.commit("init", {"README.md": "hello\n"})
    run = run_action(tmp_path, checkout(origin, tmp_path), "workflow_dispatch", {}, **inputs)
    assert run.code == 2
    assert run.err == f"devtoken action: error: {message}\n"
    assert run.outputs == {}


def test_not_a_git_checkout_is_a_usage_error(tmp_path: Path) -> None:
    workspace = tmp_path / WORKSPACE
    workspace.mkdir()
    run = run_action(tmp_path, workspace, "push", {})
    assert run.code == 2
    assert run.err.endswith(
        "error: '.' is not a git repository: run actions/checkout (fetch-depth: 0) first\n"
    )


# ---- verify: true ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def google(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment that points verification at fake Google servers on 127.0.0.1."""
    with FakeOAuth() as oauth, FakeAds(tmp_path_factory.mktemp("tls")) as ads:
        yield {
            "DEVTOKEN_OAUTH_TOKEN_URL": oauth.url,
            "DEVTOKEN_GOOGLE_ADS_ENDPOINT": ads.endpoint,
            "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": str(ads.cert),
            "DEVTOKEN_VERIFY_TIMEOUT": "1",
            "DEVTOKEN_VERIFY_RETRIES": "1",
        }


def leaked_bundle(marker: str) -> str:
    return (
        f"developer_token: {T}\n"
        "client_id: 278534944592-6vbtcjbs73z4z61numlhm5zme0k1y5g3.apps.googleusercontent.com\n"
        "client_secret: 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\n"
        f"refresh_token: 1//0g{marker}R7K8XyZCB6IAUUJcTa_RXcrzEBZshBfTf39VMBlMJzjtPrcWC3f5fMqIY3Dwarw4xQTQzKEe7\n"
    )


@pytest.mark.parametrize(("marker", "code", "live"), [("LIVE", 1, "4"), ("REVOKED", 0, "0")])
def test_fail_on_live_fails_only_on_a_bundle_google_accepts(
    tmp_path: Path, google: dict[str, str], marker: str, code: int, live: str
) -> None:
    origin = origin_repo(tmp_path)
    before = origin.commit("init", {"README.md": "hello\n"})
    after = origin.commit("leak", {"google-ads.yaml": leaked_bundle(marker)})
    run = run_action(
        tmp_path,
        checkout(origin, tmp_path),
        "push",
        push_event(before, after),
        google,
        verify="true",
        fail_on="live",
    )
    # LIVE: the bundle is live, so all four of its findings count (the developer token too);
    # REVOKED: the bundle is invalid though its OAuth client (id and secret) still works
    assert run.code == code, run.err
    assert run.outputs["findings"] == "4"
    assert run.outputs["live"] == live
    assert (
        f"**4 finding(s)** in the commits {before[:12]}..{after[:12]}, {live} verified live."
        in run.summary
    )
    assert "Not verified" not in run.summary


# ---- hostile names ----------------------------------------------------------------------

HOSTILE_BRANCH = "$(touch${IFS}pwned1)`touch${IFS}pwned2`;touch${IFS}pwned3|<b>x"
HOSTILE_MESSAGE = (
    '$(touch pwned4) `touch pwned5` "; touch pwned6; "\n'
    "::set-output name=findings::999\n::error::injected\n"
)
HOSTILE_FILE = "<img src=x onerror=alert(1)>|`x`.yaml"


def test_hostile_branch_names_messages_and_paths_stay_data(tmp_path: Path) -> None:
    origin = origin_repo(tmp_path)
    origin.commit("init", {"README.md": "hello\n"})
    assert (
        subprocess.run(
            ["git", "check-ref-format", "--branch", HOSTILE_BRANCH], capture_output=True
        ).returncode
        == 0
    ), "the hostile name must be a valid branch name"
    origin.git("checkout", "-q", "-b", HOSTILE_BRANCH)
    head = origin.commit(HOSTILE_MESSAGE, {HOSTILE_FILE: f"developer_token: {T}\n"})
    origin.git("checkout", "-q", "main")
    workspace = checkout(origin, tmp_path)
    event = push_event(
        "$(touch pwned7)",
        head,
        ref=f"refs/heads/{HOSTILE_BRANCH}",
        repository={"default_branch": "main`touch pwned8`"},
        head_commit={"message": HOSTILE_MESSAGE},
    )
    run = run_action(tmp_path, workspace, "push", event)
    assert run.code == 1, run.err
    assert sorted(p.name for p in tmp_path.rglob("pwned*")) == []
    # the base was no commit id, the default branch no branch in the checkout
    assert "the event names no base commit: scanning the whole history of" in run.err
    assert run.outputs == {
        "findings": "1",
        "live": "0",
        "scanned": f"history {head}",
        "repo": str(workspace),
        "sarif": str(tmp_path / RUNNER / "devtoken.sarif"),
    }
    # the path is in the summary's table as inert entities, never as markup
    assert "<img" not in run.summary and "`x`" not in run.summary
    assert (
        "| &#60;img src&#61;x onerror&#61;alert&#40;1&#41;&#62;&#124;&#96;x&#96;.yaml "
        f"| 1 | `{RULE}` | not verified |"
    ) in run.summary
    # whatever devtoken prints sits between stop-commands and its resume token
    stop = re.fullmatch(r"::stop-commands::(devtoken-[0-9a-f]{32})\n::\1::\n", run.out)
    assert stop is not None, run.out


# ---- static checks: action.yml and the docs ---------------------------------------------


def action() -> dict[str, Any]:
    loaded = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_action_yml_is_a_composite_action_with_its_scripts() -> None:
    doc = action()
    assert doc["runs"]["using"] == "composite"
    steps = doc["runs"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    assert runs == [
        'bash "$GITHUB_ACTION_PATH/scripts/action-install.sh"',
        'bash "$GITHUB_ACTION_PATH/scripts/action-scan.sh"',
    ]
    assert all(step.get("shell") == "bash" for step in steps if "run" in step)
    uses = [step["uses"] for step in steps if "uses" in step]
    assert uses == ["actions/setup-python@v5", "github/codeql-action/upload-sarif@v3"]
    assert set(doc["outputs"]) == {"findings", "live", "sarif", "scanned"}
    for name, output in doc["outputs"].items():
        assert output["value"] == f"${{{{ steps.scan.outputs.{name} }}}}"


def test_no_run_step_interpolates_an_expression() -> None:
    """`${{ inputs.x }}` inside `run:` is pasted into the script before bash reads it (a
    script-injection hole); inputs reach the scripts through `env:` only."""
    for step in action()["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert "${{" not in step.get("shell", ""), step["name"]


def test_every_input_is_declared_used_and_read_by_the_scripts() -> None:
    doc = action()
    declared = set(doc["inputs"])
    text = ACTION.read_text(encoding="utf-8")
    referenced = set(re.findall(r"inputs\.([a-z0-9-]+)", text))
    assert referenced == declared
    passed = {}
    for step in doc["runs"]["steps"]:
        for name, value in (step.get("env") or {}).items():
            match = re.fullmatch(r"\$\{\{ inputs\.([a-z0-9-]+) \}\}", value)
            assert match is not None, f"env {name} is not a plain input: {value}"
            assert name == "INPUT_" + match.group(1).upper().replace("-", "_")
            passed[name] = match.group(1)
    scripts = SCAN_SCRIPT.read_text(encoding="utf-8") + INSTALL_SCRIPT.read_text(encoding="utf-8")
    read = set(re.findall(r"\$\{(INPUT_[A-Z_]+)", scripts))
    assert read == set(passed)
    # python-version and upload-sarif also steer `uses:` steps; every other input is passed
    assert declared - set(passed.values()) == {"python-version"}


def test_the_scripts_are_strict_and_never_eval() -> None:
    for script in (SCAN_SCRIPT, INSTALL_SCRIPT):
        text = script.read_text(encoding="utf-8")
        assert text.startswith("#!/usr/bin/env bash\n")
        assert "\nset -euo pipefail\n" in text
        assert not re.search(r"\beval\b", text), script.name


def docs_workflows() -> list[dict[str, Any]]:
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert blocks, "docs/github-action.md has no yaml examples"
    return [yaml.safe_load(block) for block in blocks]


def devtoken_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if re.search(r"/devtoken@", step.get("uses", ""))
    ]


def test_the_docs_examples_use_only_declared_inputs_and_outputs() -> None:
    doc = action()
    workflows = docs_workflows()
    steps = [step for workflow in workflows for step in devtoken_steps(workflow)]
    assert steps, "no example uses the action"
    used = {name for step in steps for name in step.get("with", {})}
    assert used <= set(doc["inputs"]), used - set(doc["inputs"])
    text = DOCS.read_text(encoding="utf-8")
    outputs_used = set(re.findall(r"steps\.[a-z0-9_-]+\.outputs\.([a-z0-9_-]+)", text))
    assert outputs_used <= set(doc["outputs"]), outputs_used - set(doc["outputs"])
    for workflow in workflows:
        for job in workflow["jobs"].values():
            if devtoken_steps({"jobs": {"job": job}}):
                assert job["permissions"]["contents"] == "read"
                assert job["permissions"]["security-events"] == "write"
                checkout_step = job["steps"][0]
                assert checkout_step["uses"].startswith("actions/checkout@")
                assert checkout_step["with"]["fetch-depth"] == 0


def test_the_docs_tables_list_exactly_the_declared_inputs_and_outputs() -> None:
    doc = action()
    text = DOCS.read_text(encoding="utf-8")
    for section, declared in (("## Inputs", doc["inputs"]), ("## Outputs", doc["outputs"])):
        body = text.split(section + "\n", 1)[1].split("\n## ", 1)[0]
        rows = re.findall(r"^\| `([a-z0-9-]+)` \|", body, re.M)
        assert rows == list(declared), section
    inputs = text.split("## Inputs\n", 1)[1].split("\n## ", 1)[0]
    for name, spec in doc["inputs"].items():
        default = spec.get("default", "")
        row = re.search(rf"^\| `{re.escape(name)}` \| ([^|]*) \|", inputs, re.M)
        assert row is not None
        shown = row.group(1).strip()
        assert shown == (f"`{default}`" if default else "empty"), name


def test_the_readme_points_to_the_action_docs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### GitHub Action\n", 1)[1].split("\n### ", 1)[0]
    assert "(docs/github-action.md)" in section
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    steps = yaml.safe_load(block.group(1))["steps"]
    used = {name for step in steps if "/devtoken@" in step.get("uses", "") for name in step["with"]}
    assert used and used <= set(action()["inputs"]), used
    assert readme.index("### Pre-commit hook") < readme.index("### GitHub Action")


# ---- the install step -------------------------------------------------------------------


def test_install_rejects_extras_that_are_not_names(tmp_path: Path) -> None:
    env = action_env(tmp_path, tmp_path, "push", {})
    env.update(GITHUB_ACTION_PATH=str(REPO), INPUT_EXTRAS="verify] /etc; --index-url=x")
    done = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stderr == (
        "devtoken action: error: input extras must be comma-separated extra names "
        "(e.g. verify), not 'verify]/etc;--index-url=x'\n"
    )
    assert not (tmp_path / RUNNER / "devtoken-venv").exists()


FAKE_PYTHON = r"""#!/usr/bin/env bash
# python3 -m venv DIR: a venv whose python logs its arguments and whose devtoken prints a version
set -eu
mkdir -p "$3/bin"
cat >"$3/bin/python" <<'EOF'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$(dirname "$0")/../pip.log"
EOF
printf '#!/usr/bin/env bash\necho "devtoken 0.0.0"\n' >"$3/bin/devtoken"
chmod +x "$3/bin/python" "$3/bin/devtoken"
"""


@pytest.mark.parametrize(
    ("extras", "verify", "wanted"),
    [
        ("", "false", ""),
        ("", "TRUE", "[verify]"),
        ("org, dask", "true", "[org,dask,verify]"),
        ("verify", "true", "[verify]"),
    ],
)
def test_install_asks_pip_for_the_action_checkout_with_its_extras(
    tmp_path: Path, extras: str, verify: str, wanted: str
) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "python3").write_text(FAKE_PYTHON, encoding="utf-8")
    (fake_bin / "python3").chmod(0o755)
    env = action_env(tmp_path, tmp_path, "push", {})
    env.update(
        PATH=f"{fake_bin}{os.pathsep}{env['PATH']}",
        GITHUB_ACTION_PATH="/opt/action",
        INPUT_EXTRAS=extras,
        INPUT_VERIFY=verify,
    )
    done = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    venv = tmp_path / RUNNER / "devtoken-venv"
    assert (venv / "pip.log").read_text(encoding="utf-8") == (
        f"-m pip install --quiet --disable-pip-version-check /opt/action{wanted}\n"
    )
    assert done.stdout == "devtoken 0.0.0\n"


def test_install_puts_devtoken_from_the_action_checkout_on_github_path(tmp_path: Path) -> None:
    """Offline: pip takes every wheel from the wheelhouse scripts/test.sh builds."""
    require(any(WHEELHOUSE.glob("*.whl")), f"a wheelhouse at {WHEELHOUSE} (scripts/test.sh)")
    action_path = tmp_path / "action"
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, map(os.fsdecode, listed)):
        if (REPO / name).is_file():
            (action_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, action_path / name)
    env = action_env(tmp_path, tmp_path, "push", {})
    env = {k: v for k, v in env.items() if not k.startswith("PIP_") and k != "PYTHONPATH"}
    github_path = tmp_path / RUNNER / "path"
    env.update(
        GITHUB_ACTION_PATH=str(action_path),
        GITHUB_PATH=str(github_path),
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
    )
    done = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    venv_bin = tmp_path / RUNNER / "devtoken-venv" / "bin"
    assert github_path.read_text(encoding="utf-8") == f"{venv_bin}\n"
    assert done.stdout.startswith("devtoken ")
    installed = subprocess.run(
        [str(venv_bin / "python"), "-c", "import scanner; print(scanner.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert installed.stdout.startswith(str(tmp_path / RUNNER / "devtoken-venv")), installed.stdout
