"""The compiled rule set cache: a hit gives the rules a fresh parse gives, a bad entry nothing."""

from __future__ import annotations

import hashlib
import hmac
import marshal
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.engine import Engine, rulecache
from scanner.engine.chunks import scan_blocks
from scanner.rules import Rule, default_rules_dir, load_rules, ruleset_key
from tests.conftest import REPO
from tests.gitrepo import Repo
from tests.hookprobe import hook_modules

TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache and key of this test's own; no compiled form from earlier tests."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("DEVTOKEN_CACHE_DIR", str(directory))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(rulecache, "_forms", {})
    return directory


def _entry(cache: Path) -> Path:
    (entry,) = cache.glob("rules-*.cache")
    return entry


def _shape(rules: tuple[Rule, ...]) -> list[tuple[str, tuple[str, ...], str]]:
    return [(r.id, r.patterns, r.severity) for r in rules]


def _found(rules: tuple[Rule, ...], text: str) -> list[tuple[str, int, str]]:
    engine = Engine(rules, backend="regex")
    return [(m.rule.id, m.line, m.secret.reveal()) for m in scan_blocks(engine, [text.encode()])]


def test_a_second_load_comes_from_the_private_signed_entry(cache: Path) -> None:
    parsed = load_rules()
    entry = _entry(cache)
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(entry).st_mode) == 0o600
    cached = load_rules()
    assert cached == parsed and cached is not parsed
    assert ruleset_key(cached) == ruleset_key(parsed)
    assert set(rulecache._forms) == {
        *(p for r in parsed for p in r.patterns),
        *(p for r in parsed for _n, p in r.attributes),
    }


def test_cached_patterns_find_what_compiled_patterns_find(cache: Path) -> None:
    """Every rule example through the patterns rebuilt from their cached forms."""
    parsed = load_rules(validate=True)
    cached = load_rules()
    for fresh, again in zip(parsed, cached, strict=True):
        assert [p.pattern for p in again.compiled] == [p.pattern for p in fresh.compiled]
        for example in (*fresh.examples, *fresh.negative_examples):
            data = example.encode()
            spans = [[m.span("secret") for m in p.finditer(data)] for p in fresh.compiled]
            assert [[m.span("secret") for m in p.finditer(data)] for p in again.compiled] == spans


@pytest.mark.parametrize("poison", ["garbage", "body-changed", "fewer-rules-other-key"])
def test_a_tampered_entry_is_ignored_and_replaced(cache: Path, poison: str) -> None:
    """An entry that does not verify under our key cannot drop a rule: it is parsed afresh."""
    leak = f"developer_token: {TOKEN}\n"
    expected = _found(load_rules(), leak)
    assert expected == [("google-ads-developer-token", 1, TOKEN)]
    entry = _entry(cache)
    genuine = entry.read_bytes()
    header_size = genuine.index(b"\n") + 1 + 32
    header, body = genuine[:header_size], genuine[header_size + 32 :]
    fields, forms, identity = marshal.loads(body)
    fewer = marshal.dumps(
        ([f for f in fields if f["id"] != "google-ads-developer-token"], forms, identity)
    )
    bad = {
        "garbage": b"garbage",
        "body-changed": genuine[: header_size + 32] + fewer,
        "fewer-rules-other-key": header
        + hmac.new(b"k" * 32, header + fewer, hashlib.sha256).digest()
        + fewer,
    }[poison]
    entry.write_bytes(bad)
    rulecache._forms.clear()
    rules = load_rules()
    assert [r.id for r in rules] == [r.id for r in load_rules(validate=True)]
    assert _found(rules, leak) == expected
    assert entry.read_bytes() == genuine  # parsed again and replaced


def test_an_edited_rule_file_is_read_again(cache: Path, tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules_dir)
    assert {r.id: r.severity for r in load_rules(rules_dir)}["google-ads-developer-token"] == "high"
    path = rules_dir / "google-ads-developer-token.toml"
    path.write_text(path.read_text().replace('severity = "high"', 'severity = "critical"'))
    rules = load_rules(rules_dir)
    assert {r.id: r.severity for r in rules}["google-ads-developer-token"] == "critical"
    assert len(list(cache.glob("rules-*.cache"))) == 2


def test_a_cache_others_may_write_is_neither_read_nor_written(cache: Path) -> None:
    load_rules()
    entry = _entry(cache)
    entry.unlink()
    os.chmod(cache, 0o777)
    rulecache._forms.clear()
    assert _shape(load_rules()) == _shape(load_rules(validate=True))
    assert list(cache.glob("rules-*.cache")) == [] and rulecache._forms == {}


def test_a_hit_loads_regex_without_its_python_parser(cache: Path) -> None:
    """In a new process, a cached rule set matches through regex's C extension alone, and a
    later `import regex` shares it (one Pattern type)."""
    load_rules()
    probe = (
        "import sys; from scanner.rules import load_rules; r = load_rules()[0]; "
        "p = r.compiled[0]; core = 'regex._regex_core' in sys.modules; "
        "import regex; print(core, type(p) is regex.Pattern, p.pattern == r.patterns[0].encode())"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.split() == ["False", "True", "True"]


def test_the_hook_parses_no_toml_and_compiles_no_pattern_once_cached(tmp_path: Path) -> None:
    """After one run fills the cache, `scan --staged` imports neither tomllib nor regex's
    parser (~25 ms of a commit on a 2-core machine) and still blocks the leak."""
    repo = Repo(tmp_path / "repo")
    repo.write("n.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    repo.git("add", "n.env")
    hook_modules(repo.path)
    code, modules = hook_modules(repo.path)
    assert code == 1
    assert [m for m in modules if m in ("tomllib", "regex._regex_core", "regex._main")] == []
    assert "regex._regex" in modules


def test_rules_compiled_from_a_hit_still_travel_to_worker_processes(cache: Path) -> None:
    """The org scan pickles its rules to its workers: a rule whose patterns were rebuilt from
    the cache (no `regex` imported, so no pickle support for them) goes as data, and the
    worker's copy compiles its own."""
    load_rules()
    probe = (
        "import pickle; from scanner.rules import load_rules; rules = load_rules(); "
        "[r.compiled for r in rules]; back = pickle.loads(pickle.dumps(rules)); "
        "print(back == rules, any('compiled' in vars(r) for r in back), "
        "[p.pattern for p in back[0].compiled] == [p.pattern for p in rules[0].compiled])"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert (done.returncode, done.stdout.split()) == (0, ["True", "False", "True"]), done.stderr
