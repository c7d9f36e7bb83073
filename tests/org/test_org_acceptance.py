"""Issue 10's acceptance, through `devtoken org --config org.toml --format json` as a cron job
runs it: a local organisation of 24 repositories (22 scannable, an archived one, a fork, one
that fails to clone, one renamed, one force-pushed) behind a fake GitHub and a fake GitLab on
127.0.0.1, listed over several pages through a primary and a secondary rate limit.

The nightly runs happen in order, once per module (each costs seconds); every test asserts one
of them, so a failure names the stage: the first run, an unchanged second run, a night with
three new commits, a rename and a force-push, a rules change and the run after it.
"""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO, loopback_env, run_subprocess
from tests.org.orgfixture import (
    FORCED_SECRET,
    GITHUB_TOKEN,
    GITLAB_TOKEN,
    MISSING,
    OWNER,
    Org,
    Plant,
    RunResult,
    Template,
    git,
    new_blobs,
    open_org,
    primary_limit,
    secondary_limit,
    template,
)

__all__ = ["template"]

NEW_SECRET = "Hv5Qm8_Tz3LwK9rB2nXc7d"  # pushed to acme/svc-03 in stage 3
PUSHED = (f"{OWNER}/svc-03", f"{OWNER}/svc-07", "grp/sub/jobs")
GHOST = f"{OWNER}/{MISSING}"
FORCED = f"{OWNER}/forced"
RENAMED = f"{OWNER}/new-name"
DEV_TOKEN = "google-ads-developer-token"


@dataclass
class Scenario:
    """The runs of one organisation, in order; a stage runs when a test first asks for it."""

    org: Org
    rules_dir: Path
    runs: dict[str, RunResult] = field(default_factory=dict)
    pages: dict[str, list[int]] = field(default_factory=dict)
    pushed: dict[str, set[str]] = field(default_factory=dict)  # repository -> new blob ids
    new_plant: Plant | None = None
    forced: tuple[str, str] = ("", "")
    failed: BaseException | None = None
    stages: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stages = [
            ("first", self._first),
            ("unchanged", lambda: self._run("unchanged", "--fail-on", "new")),
            ("pushed", self._pushed),
            ("rules", lambda: self._run("rules", "--rules", str(self.rules_dir))),
            (
                "rules-again",
                lambda: self._run("rules-again", "--rules", str(self.rules_dir), "--fail-on-error"),
            ),
        ]

    def __getitem__(self, name: str) -> RunResult:
        for stage, step in self.stages:
            if stage not in self.runs:
                if self.failed is not None:
                    pytest.fail(f"an earlier stage failed: {self.failed}", pytrace=False)
                try:
                    step()
                except BaseException as exc:
                    self.failed = exc
                    raise
            if stage == name:
                return self.runs[name]
        raise KeyError(name)

    def _run(self, stage: str, *args: str) -> None:
        self.runs[stage] = self.org.run(*args)

    def _first(self) -> None:
        self.org.github.faults.extend([primary_limit(2), secondary_limit(3)])
        self.org.gitlab.faults.append((2, 429, {"retry-after": "1"}))
        self._run("first")
        self.pages = {
            "github": self.org.github.pages_asked(),
            "gitlab": self.org.gitlab.pages_asked(),
        }

    def _pushed(self) -> None:
        org = self.org
        secret = {"config/settings.yaml": f"developer_token: {NEW_SECRET}\n"}
        changes = [
            (PUSHED[0], secret, "settings: ads"),
            (PUSHED[1], {"docs/NOTES.md": "Nothing secret here, just notes.\n"}, "notes"),
            (PUSHED[2], {"src/jobs/run.py": "print('nightly job 2')\n"}, "job"),
        ]
        for name, files, message in changes:
            old, new = org.push(name, files, message)
            self.pushed[name] = new_blobs(org.git_dir(name), [new], [old])
            if name == PUSHED[0]:
                self.new_plant = Plant(DEV_TOKEN, "config/settings.yaml", 1, new)
        # In the same night: a rename, and a force-push that drops the secret commit.
        org.rename(f"{OWNER}/old-name", f"{OWNER}/new-name")
        forced = org.git_dir(FORCED)
        main = git("-C", str(forced), "rev-parse", "refs/heads/main")
        self.forced = org.force_push_feature()
        # The rewritten-away commits are walked again (to be reported as such): the new tip and
        # the held old one, not from the other old tips.
        self.pushed[FORCED] = new_blobs(forced, [self.forced[1], self.forced[0]], [main])
        self._run("pushed")


@pytest.fixture(scope="module")
def scenario(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    home = tmp_path_factory.mktemp("accept")
    rules_dir = home / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    rule = rules_dir / f"{DEV_TOKEN}.toml"
    text = rule.read_text()
    assert 'severity = "high"' in text
    rule.write_text(text.replace('severity = "high"', 'severity = "medium"', 1))
    with open_org(template, home / "org", per_page=4) as org:
        yield Scenario(org, rules_dir)


def scannable(org: Org) -> set[str]:
    return set(org.scanned_names())


# --- the first run --------------------------------------------------------------------------


def test_the_first_run_lists_every_page_through_both_rate_limits(scenario: Scenario) -> None:
    first = scenario["first"]
    # Page 2 answered a spent primary limit, page 3 a secondary one: each asked again after
    # the wait, and the listing went on to its last page; GitLab's 429 the same.
    assert scenario.pages["github"] == [1, 2, 2, 3, 3, 4, 5]
    assert scenario.pages["gitlab"] == [1, 2, 2]
    assert set(scenario.org.github.auth_headers) == {f"token {GITHUB_TOKEN}"}
    assert set(scenario.org.gitlab.tokens) == {GITLAB_TOKEN}
    listed = {r["name"] for r in first.doc["repositories"]}
    assert listed == scannable(scenario.org) | {GHOST}
    assert f"{OWNER}/legacy" not in listed and f"{OWNER}/forked" not in listed


def test_the_first_run_finds_every_planted_secret_once_and_all_are_new(scenario: Scenario) -> None:
    first = scenario["first"]
    assert first.code == 1, first.err
    assert first.found() == scenario.org.expected()
    assert len(first.doc["findings"]) == len(scenario.org.expected())
    assert {f["new"] for f in first.doc["findings"]} == {True}
    assert "GOCSPX-" not in first.err and GITHUB_TOKEN not in first.err + str(first.doc)


def test_the_first_run_records_the_failed_clone_and_scans_all_the_others(
    scenario: Scenario,
) -> None:
    first = scenario["first"]
    ghost = first.repository(GHOST)
    assert ghost["status"] == "failed" and ghost["error"], ghost
    statuses = first.statuses()
    assert {n: s for n, s in statuses.items() if n != GHOST} == dict.fromkeys(
        scannable(scenario.org), "scanned"
    )
    stats = first.doc["stats"]
    assert {"blobs_scanned", "repositories_scanned", "repositories_unchanged"} <= set(stats)
    assert {"repositories_failed", "duration_seconds"} <= set(stats)
    assert (stats["repositories_scanned"], stats["repositories_unchanged"]) == (22, 0)
    assert stats["repositories_failed"] == 1
    assert stats["blobs_scanned"] == sum(r["blobs_scanned"] for r in first.doc["repositories"])
    assert considered(first) == {
        n: len(all_blobs(scenario.org, n)) for n in scannable(scenario.org)
    }
    for name in scannable(scenario.org):
        repository = first.repository(name)
        assert repository["findings"] == len(scenario.org.plants(name)), name
        assert repository["blobs_scanned"] > 0 and repository["error"] is None, repository


def test_findings_are_the_records_devtoken_git_gives_plus_repository_and_new(
    scenario: Scenario, tmp_path: Path
) -> None:
    first = scenario["first"]
    name = f"{OWNER}/svc-01"  # six plants: every kind make_repo plants
    clone = tmp_path / "svc-01.git"
    git("clone", "-q", "--mirror", str(scenario.org.git_dir(name)), str(clone))
    done = run_subprocess(["git", str(clone), "--format", "json"], env=loopback_env(), text=True)
    assert done.returncode == 1, done.stderr
    alone = {(f["path"], f["line"], f["rule_id"]): f for f in json.loads(done.stdout)["findings"]}
    org = {(f["path"], f["line"], f["rule_id"]): f for f in first.findings_of(name)}
    assert set(org) == set(alone) and len(org) == 6
    for key, record in org.items():
        assert record["repository"] in (name, first.repository(name)["url"])
        # Every field devtoken git gives, with its value (the org report may add fields; the
        # bundle id may group across the organisation; a skipped check's reason is prose).
        assert set(alone[key]) <= set(record), key
        ignored = ("bundle", "verification")
        same = {k: record[k] for k in alone[key] if k not in ignored}
        assert same == {k: v for k, v in alone[key].items() if k not in ignored}, key
        assert record["verification"]["status"] == alone[key]["verification"]["status"]
        assert record["exposure"].get("rewritten") is False, record["exposure"]


# --- nothing changed ------------------------------------------------------------------------


def test_an_unchanged_organisation_scans_no_blob_and_reports_every_finding_again(
    scenario: Scenario,
) -> None:
    first, second = scenario["first"], scenario["unchanged"]
    stats = second.doc["stats"]
    assert stats["blobs_scanned"] == 0
    assert (stats["repositories_scanned"], stats["repositories_unchanged"]) == (0, 22)
    assert stats["repositories_failed"] == 1
    assert second.statuses() == {
        **dict.fromkeys(scannable(scenario.org), "unchanged"),
        GHOST: "failed",
    }
    assert {r["name"]: r["blobs_scanned"] for r in second.doc["repositories"]} == dict.fromkeys(
        [*scannable(scenario.org), GHOST], 0
    )
    # The nightly report is complete although nothing is new; --fail-on new passes it.
    assert second.found() == first.found()
    assert {f["new"] for f in second.doc["findings"]} == {False}
    assert second.code == 0, second.err


# --- three new commits, a rename and a force-push ------------------------------------------


def test_three_new_commits_scan_exactly_their_new_blobs(scenario: Scenario) -> None:
    third = scenario["pushed"]
    expected = {name: len(blobs) for name, blobs in scenario.pushed.items()}
    # One new file each; the force-push: its replacement's blob and the rewritten-away one.
    assert expected == {PUSHED[0]: 1, PUSHED[1]: 1, PUSHED[2]: 1, FORCED: 2}
    assert third.doc["stats"]["blobs_scanned"] == len(set().union(*scenario.pushed.values()))
    got = {r["name"]: r["blobs_scanned"] for r in third.doc["repositories"]}
    assert got == {**dict.fromkeys([*scannable(scenario.org), GHOST], 0), **expected}
    statuses = third.statuses()
    assert {n for n, s in statuses.items() if s == "scanned"} == {*PUSHED, FORCED}
    assert {n for n, s in statuses.items() if s == "unchanged"} == scannable(scenario.org) - {
        *PUSHED,
        FORCED,
    }


def test_the_secret_in_a_new_commit_is_the_one_new_finding(scenario: Scenario) -> None:
    third = scenario["pushed"]
    plant = scenario.new_plant
    assert plant is not None
    # (The renamed repository's findings are the rename test's business.)
    others = [n for n in scannable(scenario.org) if n != RENAMED]
    assert {f for f in third.found() if f[0] != RENAMED} == scenario.org.expected(others) | {
        new_finding(scenario)
    }
    new = [f for f in third.doc["findings"] if f["new"]]
    assert [(f["path"], f["commit"]) for f in new] == [(plant.path, plant.commit)]
    assert third.code == 1


def test_a_renamed_repository_keeps_its_mirror_and_findings_under_its_new_name(
    scenario: Scenario,
) -> None:
    first, fourth = scenario["first"], scenario["pushed"]
    names = {r["name"] for r in fourth.doc["repositories"]}
    assert f"{OWNER}/new-name" in names and f"{OWNER}/old-name" not in names
    renamed = fourth.repository(f"{OWNER}/new-name")
    assert renamed["url"] == scenario.org.daemon.url(f"{OWNER}/new-name.git")
    assert (renamed["status"], renamed["blobs_scanned"]) == ("unchanged", 0)
    before = {f["fingerprint"] for f in first.findings_of(f"{OWNER}/old-name")}
    after = {f["fingerprint"] for f in fourth.findings_of(f"{OWNER}/new-name")}
    assert after == before and len(before) == 1
    assert renamed["findings"] == 1
    assert not [f for f in fourth.doc["findings"] if "old-name" in f["repository"]]


def test_a_secret_only_in_force_pushed_away_commits_is_reported_as_rewritten_history(
    scenario: Scenario,
) -> None:
    fourth = scenario["pushed"]
    forced = fourth.findings_of(f"{OWNER}/forced")
    secret_commit = scenario.org.plants(f"{OWNER}/forced")[-1].commit
    assert scenario.forced[0] == secret_commit
    rewritten = {f["commit"]: f["exposure"]["rewritten"] for f in forced}
    assert rewritten.pop(secret_commit) is True
    assert set(rewritten.values()) == {False}
    assert len(forced) == len(scenario.org.plants(f"{OWNER}/forced"))
    assert FORCED_SECRET not in str(fourth.doc)
    # The rewrite's own new blob was scanned (it holds only a placeholder).
    assert fourth.repository(f"{OWNER}/forced")["status"] == "scanned"


# --- a rules change -------------------------------------------------------------------------


def test_a_rules_change_rescans_every_repository_and_keeps_no_stale_result(
    scenario: Scenario,
) -> None:
    fifth = scenario["rules"]
    statuses = fifth.statuses()
    assert statuses == {
        **dict.fromkeys(scannable(scenario.org), "scanned"),
        GHOST: "failed",
    }
    assert fifth.doc["stats"]["repositories_scanned"] == 22
    # Every blob of every repository is read again or was already read clean under the new
    # rules in this run (which repository reads a shared blob first is a race).
    assert considered(fifth) == {
        n: len(all_blobs(scenario.org, n)) for n in scannable(scenario.org)
    }
    # Every planted secret, the new one too; the rewritten-away one stays open (still leaked).
    assert fifth.found() == scenario.org.expected() | {new_finding(scenario)}
    # The changed rule's findings carry what it says now, not what the old rules said.
    severities = {f["severity"] for f in fifth.doc["findings"] if f["rule_id"] == DEV_TOKEN}
    assert severities == {"medium"}


def test_after_a_rules_change_the_next_run_is_incremental_again(scenario: Scenario) -> None:
    fifth, sixth = scenario["rules"], scenario["rules-again"]
    assert sixth.doc["stats"]["blobs_scanned"] == 0
    assert sixth.statuses() == {
        **dict.fromkeys(scannable(scenario.org), "unchanged"),
        GHOST: "failed",
    }
    assert sixth.found() == fifth.found()
    # One repository failed: with --fail-on-error that is the exit code, findings or not.
    assert sixth.code == 4, sixth.err


def test_the_store_and_the_mirrors_are_private(scenario: Scenario) -> None:
    scenario["first"]
    org = scenario.org
    assert stat.S_IMODE(org.store.stat().st_mode) == 0o600
    assert stat.S_IMODE(org.cache.stat().st_mode) == 0o700
    mirrors = [p for p in org.cache.iterdir() if p.is_dir()]
    assert len(mirrors) == 23  # the failed clone keeps its entry (meta and error) too
    assert {stat.S_IMODE(p.stat().st_mode) for p in mirrors} == {0o700}


def new_finding(scenario: Scenario) -> tuple[str, str, int, str, str]:
    plant = scenario.new_plant
    assert plant is not None
    return (PUSHED[0], plant.path, plant.line, plant.rule, plant.commit)


def considered(run: RunResult) -> dict[str, int]:
    """Per repository, the blobs scanned or skipped as already known clean."""
    return {
        r["name"]: r["blobs_scanned"] + r.get("blobs_skipped_known", 0)
        for r in run.doc["repositories"]
        if r["status"] != "failed"
    }


def all_blobs(org: Org, name: str) -> set[str]:
    return new_blobs(org.git_dir(name), ["--all"], [])
