"""The library pipeline driven in-process, without argparse: what the org-wide scan calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner import api
from scanner.config import ScanConfig
from scanner.exits import UsageError
from scanner.models import GitProvenance
from scanner.render import render_scan
from tests.gitrepo import Repo

T = "Zk3mQ9vTb2LxWc7RnP4s_g"
SECRET = "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"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """Two commits: a token and a client secret in one file, then the token in a second."""
    monkeypatch.chdir(tmp_path)  # no ./.devtokenignore or ./.devtoken.toml of ours applies
    repo = Repo(tmp_path / "repo")
    repo.commit("add ads config", {"ads.yaml": f"developer_token: {T}\nclient_secret: {SECRET}\n"})
    repo.commit("copy the token", {"copy.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={T}\n"})
    return repo


def _config(**changes: object) -> api.Config:
    return api.Config(scan=ScanConfig(jobs=1, **changes))  # type: ignore[arg-type]


def test_history_review_record_render_without_argparse(repo: Repo, tmp_path: Path) -> None:
    config = _config()
    result = api.scan_history(config, str(repo.path))
    reviewed = api.review(result, config, kind="git", target=str(repo.path))
    found = [
        (f.rule.id, f.provenance.path, f.match.line, f.match.secret.reveal())
        for f in result.findings
    ]
    assert found == [
        ("google-ads-developer-token", "ads.yaml", 1, T),
        ("google-oauth-client-secret", "ads.yaml", 2, SECRET),
        ("google-ads-developer-token", "copy.env", 1, T),
    ]
    commits = [
        f.provenance.commit.message
        for f in result.findings
        if isinstance(f.provenance, GitProvenance) and f.provenance.commit
    ]
    assert commits == ["add ads config", "add ads config", "copy the token"]
    assert reviewed.notes == []
    assert [sorted(b.roles) for b in result.bundles] == [
        ["client_secret", "developer_token"],
        ["developer_token"],
    ]
    with api.open_store(str(tmp_path / "store.sqlite"), create=True) as store:
        api.record(reviewed, store)
        scans = [(r["kind"], r["target"]) for r in store.rows("SELECT kind, target FROM scans")]
        findings = sorted((r["rule_id"], r["status"]) for r in store.rows("SELECT * FROM findings"))
        places = sorted(
            (r["path"], r["line"]) for r in store.rows("SELECT path, line FROM occurrences")
        )
        incidents = api.incidents_of(store, reviewed)
    assert scans == [("git", str(repo.path))]
    assert findings == [
        ("google-ads-developer-token", "open"),
        ("google-oauth-client-secret", "open"),
    ]
    assert places == [("ads.yaml", 1), ("ads.yaml", 2), ("copy.env", 1)]
    assert len(incidents) == 2
    report = json.loads(render_scan(result, "json", show_secrets=False, explain=False))
    assert [(f["rule_id"], f["path"], f["line"]) for f in report["findings"]] == [
        ("google-ads-developer-token", "ads.yaml", 1),
        ("google-oauth-client-secret", "ads.yaml", 2),
        ("google-ads-developer-token", "copy.env", 1),
    ]
    assert T not in json.dumps(report) and SECRET not in json.dumps(report)
    assert api.exit_code(result) == 1 and api.exit_code(result, "none") == 0


def test_a_baseline_written_by_the_library_suppresses_the_next_review(
    repo: Repo, tmp_path: Path
) -> None:
    config = _config(paths=(str(repo.path),))
    baseline = tmp_path / "baseline.json"
    entries, previous = api.update_baseline(api.scan_paths(config), baseline, update=False)
    assert (len(entries), previous) == (3, set())
    known = api.Config(scan=config.scan, baseline=str(baseline))
    reviewed = api.review(api.scan_paths(known), known, kind="files", target=str(repo.path))
    assert reviewed.result.findings == [] and reviewed.result.bundles == []
    assert [s.reason for s in reviewed.result.suppressed] == ["known finding in baseline"] * 3
    assert api.exit_code(reviewed.result) == 0


def test_staged_scan_reads_the_index_of_the_given_repository(repo: Repo) -> None:
    repo.write("new.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={T[::-1]}\n")
    repo.git("add", "new.env")
    result = api.scan_staged(_config(), repo=str(repo.path))
    assert [(f.provenance.path, f.match.line) for f in result.findings] == [("new.env", 1)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_commits": 0}, "--max-commits must be at least 1"),
        ({"all_objects": True, "branches": ["main"]}, "--all-objects scans the whole object store"),
    ],
)
def test_history_options_that_contradict_are_usage_errors(
    repo: Repo, options: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        api.scan_history(_config(), str(repo.path), **options)  # type: ignore[arg-type]


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(UsageError) as caught:
        api.scan_paths(_config(paths=(str(missing),)))
    assert str(caught.value) == f"no such file or directory: {missing}"


def test_a_config_crosses_to_a_worker_process_intact(tmp_path: Path) -> None:
    """The org scan sends one Config to every worker: it must pickle, config files and all."""
    import pickle

    from scanner.config import load_settings

    settings_file = tmp_path / "devtoken.toml"
    settings_file.write_text('exclude = ["vendor/**"]\nmax_file_size = "1MiB"\n')
    config = api.Config(
        scan=ScanConfig(jobs=1),
        settings=load_settings(settings_file, env={"XDG_CONFIG_HOME": str(tmp_path)}),
        verify=True,
    )
    copy = pickle.loads(pickle.dumps(config))
    assert copy == config
    assert (copy.settings.excludes(), copy.settings.get("max_file_size")) == (
        ("vendor/**",),
        1 << 20,
    )
