"""History blobs get the engine's bounds too: capped suppressed matches, rule timeouts
reported per blob, and both readings of a blob whose encoding is a guess."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scanner.engine import Engine
from scanner.git.blobscan import KEEP_SUPPRESSED, BlobScanner
from scanner.rules import load_rules
from tests.engine.test_engine_bounds import MASKED, STUCK, slow_rules  # noqa: F401 (fixture)
from tests.gitrepo import Repo

T = "Zk3mQ9vTb2LxWc7RnP4s_g"
DEV = "google-ads-developer-token"


def test_a_blob_of_masked_tokens_keeps_at_most_the_bound(engine: Engine) -> None:
    data = (MASKED * 1500 + f"developer_token: {T}\n" + MASKED * 1500).encode()
    result = BlobScanner(engine).feed_all([(b"a" * 40, data, "")])
    findings = [m for m in result.matches if m.reason is None]
    suppressed = [m for m in result.matches if m.reason is not None]
    assert [(m.secret.reveal(), m.line) for m in findings] == [(T, 1501)]
    assert len(suppressed) == KEEP_SUPPRESSED == 1000
    assert [m.line for m in suppressed] == list(range(1, 1001))


def test_a_rule_timeout_in_a_blob_is_a_skip_of_that_blob(slow_rules: Path) -> None:  # noqa: F811
    engine = Engine(load_rules(slow_rules), "hyperscan", timeout=0.05)
    data = (STUCK + f"developer_token: {T}\n").encode()
    result = BlobScanner(engine).feed_all([(b"b" * 40, data, "")])
    assert [(m.rule_id, m.line) for m in result.matches] == [(DEV, 2)]
    assert [(sha, reason) for sha, reason, _ in result.skipped] == [(b"b" * 40, "rule-timeout")]
    assert result.skipped[0][2].startswith("rule slow-rule timed out after 0.05s")


def test_a_guessed_utf16_blob_is_scanned_in_both_readings(tmp_path: Path, cli: Any) -> None:
    # No BOM and mostly ASCII-looking bytes: the UTF-16 reading is a guess, so the plain
    # reading is scanned too; here the token sits in the plain bytes.
    wide = "w: x\n".encode("utf-16-le") * 200
    repo = Repo(tmp_path / "r")
    repo.write("mixed.bin", wide + f"\ndeveloper_token: {T}\n".encode())
    repo.commit("add")
    doc = cli("git", str(repo.path), "--format", "json", "--scan-binary").json()
    assert [(f["path"], f["rule_id"]) for f in doc["findings"]] == [("mixed.bin", DEV)]


def test_a_history_rule_timeout_is_warned_with_its_path(
    tmp_path: Path,
    cli: Any,
    slow_rules: Path,  # noqa: F811
) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("add", {"app.log": STUCK + f"developer_token: {T}\n"})
    config = tmp_path / "ci.toml"
    config.write_text("rule_timeout = 0.05\n")
    run = cli(
        "git",
        str(repo.path),
        "--rules",
        str(slow_rules),
        "--config",
        str(config),
        "--format",
        "json",
    )
    doc = run.json()
    assert [(f["path"], f["line"]) for f in doc["findings"]] == [("app.log", 2)]
    assert doc["stats"]["skipped_by_reason"].get("rule-timeout") == 1
    assert "rule-timeout: rule slow-rule timed out after 0.05s" in run.err


def test_a_rule_timeout_masking_commit_messages_is_a_skip_and_masks_what_could_be_a_secret(
    tmp_path: Path,
    cli: Any,
    slow_rules: Path,  # noqa: F811
) -> None:
    """Shown commit messages are masked by a second pass of the rules: a rule that times out
    there may have missed a secret, so every credential-like run is masked too, and the
    timeout is a skip like any other (summarised, in JSON, silent under --quiet), not a
    line written straight to stderr."""
    repo = Repo(tmp_path / "r")
    bare = "Q7xLm2Vb9Tk4Rw8Zp3Nc6Jd"  # no rule's context: the rules alone would show it
    subject = f"add the log {STUCK.strip()} token {bare}"  # the part of a message shown
    repo.commit(subject, {"app.log": f"developer_token: {T}\n"})
    config = tmp_path / "ci.toml"
    config.write_text("rule_timeout = 0.05\n")
    args = ("git", str(repo.path), "--rules", str(slow_rules), "--config", str(config))
    run = cli(*args, "--format", "json")
    (finding,) = run.json()["findings"]
    message = finding["message"]
    assert bare not in message and "Q7xL…Jd" in message
    skipped = run.json()["stats"]["skipped"]
    skips = [s for s in skipped if "masking commit messages" in s["detail"]]
    assert [s["reason"] for s in skips] == ["rule-timeout"]
    quiet = cli(*args, "--quiet")
    assert (quiet.code, quiet.err) == (1, "")
