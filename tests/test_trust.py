"""Scanned content never configures what touches secrets (README, "Security model").

A `.devtoken.toml` in the scanned checkout is what a pull request controls: it
may narrow the scan (and is then named in the output) but cannot choose where
credentials are sent, which rules run, or what a cached Hyperscan database says.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from scanner.engine import Engine
from scanner.rules import Rule
from scanner.scan import scan_text
from tests.conftest import loopback_env, run_subprocess
from tests.fakes.listeners import HttpReceiver

TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
CLIENT_ID = "278534944592-6vbtcjbs73z4z61numlhm5zme0k1y5g3.apps.googleusercontent.com"
SECRET = "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"
REFRESH = "1//0g4haR7K8XyZCB6IAUUJcTa_RXcrzEBZshBfTf39VMBlMJzjtPrcWC3f5fMqIY3Dwarw4xQTQzKEe7"
LEAK = f"client_id: {CLIENT_ID}\nclient_secret: {SECRET}\nrefresh_token: {REFRESH}\n"
EVIL_RULE = """id = "evil-rule"
name = "Matches the word hello"
severity = "low"
description = "A rule a pull request would like to run instead of the bundled ones."
keywords = ["hello"]
patterns = ['(?P<secret>hello)']
examples = ["hello"]
negative_examples = ["bye"]
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A pull request's checkout: a leaked credential set and the PR's own config dir."""
    root = tmp_path / "checkout"
    root.mkdir()
    (root / "google-ads.yaml").write_text(LEAK)
    (root / "notes.txt").write_text("hello\n")
    return root


def child(
    checkout: Path, tmp_path: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """`devtoken ARGS` in the checkout, as CI runs it: no user config unless the test writes one."""
    clean = loopback_env(
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
        DEVTOKEN_GOOGLE_ADS_ENDPOINT="127.0.0.1:9",  # nothing listens: never the real API
        DEVTOKEN_VERIFY_TIMEOUT="2",
        DEVTOKEN_VERIFY_RETRIES="0",
        **env,
    )
    return run_subprocess(list(args), cwd=checkout, env=clean, text=True)


def user_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xdg-config" / "devtoken" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def refresh_tokens_received(receiver: HttpReceiver) -> list[str]:
    forms = [urllib.parse.parse_qs(r["body"]) for r in receiver.requests]
    return [value for form in forms for value in form.get("refresh_token", [])]


def test_a_repository_config_cannot_redirect_verification(checkout: Path, tmp_path: Path) -> None:
    with HttpReceiver() as attacker, HttpReceiver() as trusted:
        (checkout / ".devtoken.toml").write_text(
            f'[verify]\ntoken_url = "{attacker.base}/token"\ntimeout = 60\n'
        )
        user = user_config(tmp_path, f'[verify]\ntoken_url = "{trusted.base}/token"\n')
        done = child(checkout, tmp_path, "scan", ".", "--verify", "--format", "json")
        assert attacker.requests == []
        assert refresh_tokens_received(trusted) == [REFRESH]
    assert done.returncode == 1, done.stderr
    assert (
        "devtoken: warning: .devtoken.toml (repository config) cannot set verify.timeout, "
        "verify.token_url: ignored" in done.stderr
    )
    assert json.loads(done.stdout)["stats"]["config"]["files"] == [
        {
            "path": str(user),
            "origin": "user",
            "keys": ["verify.token_url"],
            "ignored": [],
            "narrows": {},
        },
        {
            "path": ".devtoken.toml",
            "origin": "repository",
            "keys": [],
            "ignored": ["verify.timeout", "verify.token_url"],
            "narrows": {},
        },
    ]


@pytest.mark.parametrize("source", ["--config", "environment"])
def test_an_explicit_config_or_the_environment_choose_the_endpoint(
    checkout: Path, tmp_path: Path, source: str
) -> None:
    with HttpReceiver() as attacker, HttpReceiver() as chosen:
        (checkout / ".devtoken.toml").write_text(f'[verify]\ntoken_url = "{attacker.base}/t"\n')
        if source == "--config":
            ci = tmp_path / "ci.toml"
            ci.write_text(f'[verify]\ntoken_url = "{chosen.base}/token"\n')
            done = child(checkout, tmp_path, "scan", ".", "--verify", "--config", str(ci))
        else:
            url = f"{chosen.base}/token"
            done = child(checkout, tmp_path, "scan", ".", "--verify", DEVTOKEN_OAUTH_TOKEN_URL=url)
        assert attacker.requests == []
        assert refresh_tokens_received(chosen) == [REFRESH]
    assert done.returncode == 1, done.stderr


def test_a_repository_config_cannot_choose_where_tokens_are_revoked(
    checkout: Path, tmp_path: Path
) -> None:
    store = str(tmp_path / "s.sqlite")
    revoke = ("scan", ".", "--revoke", "--send", "--yes", "--store", store, "--format", "json")
    with HttpReceiver() as attacker, HttpReceiver() as trusted:
        (checkout / ".devtoken.toml").write_text(
            f'[respond]\nrevoke_url = "{attacker.base}/revoke"\n'
            f'webhook_url = "{attacker.base}/hook"\n'
        )
        user_config(tmp_path, f'[respond]\nrevoke_url = "{trusted.base}/revoke"\n')
        done = child(checkout, tmp_path, *revoke, "--respond", "webhook")
        assert attacker.requests == []
        bodies = [urllib.parse.parse_qs(r["body"]) for r in trusted.requests]
    assert done.returncode == 1, done.stderr
    assert bodies == [{"token": [REFRESH]}]
    assert "cannot set respond.revoke_url, respond.webhook_url: ignored" in done.stderr


def test_an_explicit_respond_table_sends_to_its_webhook(checkout: Path, tmp_path: Path) -> None:
    with HttpReceiver() as hook:
        ci = tmp_path / "ci.toml"
        ci.write_text(f'[respond]\nwebhook_url = "{hook.base}/hook"\nwebhook_format = "json"\n')
        store = str(tmp_path / "s.sqlite")
        done = child(
            checkout, tmp_path, "scan", ".", "--config", str(ci), "--store", store,
            "--respond", "webhook", "--send", "--quiet",
        )  # fmt: skip
        bodies = hook.json_bodies("/hook")
    assert done.returncode == 1, done.stderr
    assert len(bodies) == 1
    assert REFRESH not in json.dumps(bodies)


def _evil_rules(root: Path) -> Path:
    rules = root / "evil-rules"
    rules.mkdir()
    (rules / "evil.toml").write_text(EVIL_RULE)
    return rules


def test_a_repository_config_cannot_replace_the_rules(
    checkout: Path, cli: Any, tmp_path: Path
) -> None:
    _evil_rules(checkout)
    (checkout / ".devtoken.toml").write_text('rules_dir = "evil-rules"\n')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
        scan = ("scan", "google-ads.yaml", "notes.txt", "--format", "json")
        run = cli(*scan, cwd=checkout)
        named = cli(*scan, "--config", ".devtoken.toml", cwd=checkout)
        flag = cli(*scan, "--rules", "evil-rules", cwd=checkout)
    assert run.code == 1
    rule_ids = {f["rule_id"] for f in run.json()["findings"]}
    assert rule_ids == {
        "google-oauth-client-id",
        "google-oauth-client-secret",
        "google-oauth-refresh-token",
    }
    assert "evil-rule" not in run.json()["stats"]["rules"]
    assert "cannot set rules_dir: ignored" in run.err
    for chosen in (named, flag):  # --config / --rules naming it is the user's choice
        assert chosen.json()["stats"]["rules"] == ["evil-rule"]
        assert [f["path"] for f in chosen.json()["findings"]] == ["notes.txt"]


def test_a_repository_exclude_narrows_the_scan_and_says_so(
    checkout: Path, cli: Any, tmp_path: Path
) -> None:
    (checkout / ".devtoken.toml").write_text(
        'exclude = ["*.yaml", "fixtures/*"]\nmax_file_size = "1k"\n'
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
        run = cli("scan", ".", "--format", "json", cwd=checkout)
        quiet = cli("scan", ".", "--format", "json", "--quiet", cwd=checkout)
        explicit = cli("scan", ".", "--format", "json", "--config", ".devtoken.toml", cwd=checkout)
    assert run.code == 0 and run.json()["findings"] == []
    note = (
        "devtoken: note: .devtoken.toml (repository config) narrows this scan: "
        "exclude *.yaml, fixtures/*; max_file_size 1024"
    )
    assert note in run.err.splitlines()
    (record,) = run.json()["stats"]["config"]["files"]
    assert record["narrows"] == {"exclude": ["*.yaml", "fixtures/*"], "max_file_size": 1024}
    assert quiet.err == "" and quiet.json()["stats"]["config"] == run.json()["stats"]["config"]
    assert "narrows" not in explicit.err  # the user named it: it is not scanned content
    assert explicit.json()["stats"]["config"]["files"][0]["origin"] == "explicit"


def test_a_repository_exclude_with_a_control_character_is_escaped(
    checkout: Path, cli: Any, tmp_path: Path
) -> None:
    (checkout / ".devtoken.toml").write_text('exclude = ["x\\u001b]0;pwned\\u0007"]\n')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
        run = cli("scan", ".", "--format", "json", cwd=checkout)
    assert "\x1b" not in run.err and "\x07" not in run.err
    assert "exclude 'x\\x1b]0;pwned\\x07'" in run.err


# The Hyperscan database cache: a poisoned entry costs a recompile, never results.


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("DEVTOKEN_CACHE_DIR", str(directory))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return directory


def _found(rules: tuple[Rule, ...]) -> list[tuple[str, int]]:
    engine = Engine(rules, backend="hyperscan")
    result = scan_text(LEAK + f"developer_token: {TOKEN}\n", engine)
    return [(f.rule.id, f.match.line) for f in result.findings]


def _other_database() -> bytes:
    """What the old cache format held: a bare database, here compiled from other patterns."""
    import hyperscan

    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=[b"zzzz-never"], ids=[0], flags=[hyperscan.HS_FLAG_PREFILTER])
    return bytes(hyperscan.dumpb(database))


def _forged_entry(genuine: bytes) -> bytes:
    """The right header and rule-set digest, another database, a MAC under another key."""
    from scanner.digests import mac

    magic_and_digest = genuine[: genuine.index(b"\n") + 1 + 32]
    blob = _other_database()
    return magic_and_digest + mac(b"k" * 32, magic_and_digest + blob) + blob


EXPECTED = [
    ("google-oauth-client-id", 1),
    ("google-oauth-client-secret", 2),
    ("google-oauth-refresh-token", 3),
    ("google-ads-developer-token", 4),
]


@pytest.mark.parametrize("poison", ["garbage", "other-patterns", "forged"])
def test_a_poisoned_hyperscan_cache_does_not_change_results(
    rules: tuple[Rule, ...], cache: Path, poison: str
) -> None:
    assert _found(rules) == EXPECTED
    (entry,) = cache.glob("hs-*.db")
    genuine = entry.read_bytes()
    bad = {"garbage": b"garbage", "other-patterns": _other_database()}.get(poison)
    entry.write_bytes(bad if bad is not None else _forged_entry(genuine))
    assert _found(rules) == EXPECTED
    assert entry.read_bytes() == genuine  # recompiled and replaced


def test_the_cache_is_private_and_a_shared_cache_dir_is_not_used(
    rules: tuple[Rule, ...], cache: Path, tmp_path: Path
) -> None:
    assert _found(rules) == EXPECTED
    (entry,) = cache.glob("hs-*.db")
    key = tmp_path / "state" / "devtoken" / "cache.key"
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(entry).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600 and len(key.read_bytes()) == 32
    entry.write_bytes(_other_database())
    os.chmod(cache, 0o777)  # anyone may write here: neither read nor written
    assert _found(rules) == EXPECTED
    assert entry.read_bytes() == _other_database()


def test_each_kind_of_cache_entry_keeps_only_the_newest_few(cache: Path, tmp_path: Path) -> None:
    """Every rule edit writes new Hyperscan and rule-set entries; writing one deletes all
    but the newest KEEP_PER_KIND of its kind, so the cache does not grow without end."""
    from scanner.rules import load_rules
    from scanner.signedcache import KEEP_PER_KIND
    from tests.rulefiles import bundled_rules_plus

    written: list[Path] = []
    for n in range(KEEP_PER_KIND + 2):
        rule = f"""
id = "extra-{n}"
name = "Extra {n}"
severity = "low"
description = "one more rule"
keywords = ["extra{n}key"]
patterns = ['extra{n}key=(?P<secret>[a-z]{{12}})']
examples = ["extra{n}key=abcdefghijkl"]
negative_examples = ["extra{n}key=short"]
"""
        rules = load_rules(bundled_rules_plus(tmp_path / f"rules-{n}", extra=rule))
        Engine(rules, backend="hyperscan")
        (newest,) = set(cache.glob("hs-*.db")) - set(written)
        written.append(newest)
        os.utime(newest, ns=(n * 10**9, n * 10**9))  # written in this order, a second apart
    kept = sorted(cache.glob("hs-*.db"))
    assert kept == sorted(written[-KEEP_PER_KIND:])
    assert len(list(cache.glob("rules-*.cache"))) == KEEP_PER_KIND


def test_repository_allow_lists_are_counted_and_said(
    checkout: Path, cli: Any, tmp_path: Path
) -> None:
    import hashlib

    client_id = hashlib.sha256(f"google-oauth-client-id:{CLIENT_ID}".encode()).hexdigest()
    (checkout / ".devtokenignore").write_text(client_id + "\n")
    refresh = {
        "rule_id": "google-oauth-refresh-token",
        "secret_sha256": hashlib.sha256(REFRESH.encode()).hexdigest(),
        "path": "google-ads.yaml",
    }
    (checkout / "known.json").write_text(json.dumps({"version": 1, "entries": [refresh]}))
    (checkout / ".devtoken.toml").write_text('baseline = "known.json"\n')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
        run = cli("scan", ".", "--format", "json", cwd=checkout)
        own = cli("scan", ".", "--format", "json", "--ignore-file", ".devtokenignore",
                  "--baseline", "known.json", cwd=checkout)  # fmt: skip
    assert [f["rule_id"] for f in run.json()["findings"]] == ["google-oauth-client-secret"]
    assert run.json()["stats"]["config"]["suppressed_by_repository"] == {
        ".devtokenignore": 1,
        "known.json": 1,
    }
    assert (
        "devtoken: note: .devtokenignore (repository file) suppressed 1 finding(s); "
        "--explain lists them"
    ) in run.err.splitlines()
    assert "devtoken: note: known.json (repository file) suppressed 1 finding(s)" in run.err
    assert [f["rule_id"] for f in own.json()["findings"]] == ["google-oauth-client-secret"]
    assert own.json()["stats"]["config"]["suppressed_by_repository"] == {}
    assert "suppressed" not in own.err


def test_the_installed_rules_win_over_a_foreign_rules_dir_next_to_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scanner.rules

    site = tmp_path / "site-packages"
    for directory in (site / "scanner" / "_rules", site / "rules"):
        directory.mkdir(parents=True)
        (directory / "_fragments.toml").write_text("[fragments]\n")
    monkeypatch.setattr(scanner.rules, "__file__", str(site / "scanner" / "rules.py"))
    assert scanner.rules.default_rules_dir() == site / "scanner" / "_rules"


def test_a_history_scan_does_not_claim_excludes_it_does_not_apply(tmp_path: Path, cli: Any) -> None:
    from tests.gitrepo import Repo

    repo = Repo(tmp_path / "repo")
    repo.write("google-ads.yaml", LEAK)
    repo.commit("add config")
    (repo.path / ".devtoken.toml").write_text('exclude = ["*.yaml"]\n')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
        run = cli("git", ".", "--format", "json", cwd=repo.path)
    assert run.code == 1 and len(run.json()["findings"]) == 3  # history takes no excludes
    assert "narrows" not in run.err
    assert run.json()["stats"]["config"]["files"][0]["narrows"] == {}


@pytest.mark.skipif(os.geteuid() != 0, reason="giving the cache dir away needs root")
def test_a_cache_dir_owned_by_another_user_is_not_used(
    rules: tuple[Rule, ...], cache: Path
) -> None:
    assert _found(rules) == EXPECTED
    (entry,) = cache.glob("hs-*.db")
    entry.write_bytes(_other_database())
    os.chown(cache, 65534, -1)
    assert _found(rules) == EXPECTED
    assert entry.read_bytes() == _other_database()
