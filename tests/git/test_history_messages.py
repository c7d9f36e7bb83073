"""Commit messages in `devtoken git`: scanned by the rules, reported, and always redacted.

A secret only in a message is a finding (path "", `in: commit-message`, its
commit); every rule match in every message that reaches an output, the store
or a report is masked, whether or not the secret is also in a blob.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from scanner.secret import fingerprint
from tests.gitrepo import Repo, git_json

CLIENT_SECRET = "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"
MASKED_SECRET = "GOCSPX-e9…jA"
TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
MASKED_TOKEN = "Qm3x…A1"


def test_a_secret_only_in_a_message_is_a_finding_with_its_commit(repo: Repo, cli: Any) -> None:
    repo.commit("base", {"README.md": "hi\n"})
    sha = repo.commit(f"try oauth client_secret: {CLIENT_SECRET} for now")
    repo.commit(f"again client_secret: {CLIENT_SECRET}")
    for jobs in ("1", "2"):
        doc = git_json(cli, str(repo.path), "--jobs", jobs, codes=(1,))
        (finding,) = doc["findings"]
        assert (finding["rule_id"], finding["path"], finding["in"]) == (
            "google-oauth-client-secret",
            "",
            "commit-message",
        )
        assert (finding["line"], finding["column"], finding["commit"]) == (1, 26, sha)
        assert finding["message"] == f"try oauth client_secret: {MASKED_SECRET} for now"
        assert finding["blob"] == "" and finding["unreachable"] is False
        assert finding["exposure"]["added_in_commits"] == 2
        assert doc["stats"]["messages_scanned"] == 3
        assert CLIENT_SECRET not in str(doc)


def test_a_secret_in_the_message_body_is_found_on_its_line(repo: Repo, cli: Any) -> None:
    sha = repo.commit(f"subject\n\nsee below\nclient_secret = {CLIENT_SECRET}\n")
    (finding,) = git_json(cli, str(repo.path), codes=(1,))["findings"]
    assert (finding["line"], finding["column"], finding["commit"]) == (4, 17, sha)
    assert finding["message"] == "subject"


def test_a_message_only_secret_is_masked_in_the_message_of_a_blob_finding(
    repo: Repo, cli: Any, tmp_path: Path
) -> None:
    """The commit that adds a blob secret carries another secret in its message."""
    sha = repo.commit(
        f"add config, client_secret: {CLIENT_SECRET}",
        {"ads.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"},
    )
    shown = f"add config, client_secret: {MASKED_SECRET}"
    doc = git_json(cli, str(repo.path), codes=(1,))
    by_in = {f["in"]: f for f in doc["findings"]}
    assert set(by_in) == {"blob", "commit-message"}
    assert by_in["blob"]["path"] == "ads.env" and by_in["blob"]["commit"] == sha
    assert by_in["blob"]["message"] == shown == by_in["commit-message"]["message"]
    text = cli("git", str(repo.path))
    assert shown in text.out and CLIENT_SECRET not in text.out + text.err
    store = tmp_path / "store.sqlite"
    assert cli("git", str(repo.path), "--quiet", "--store", str(store)).code == 1
    with sqlite3.connect(store) as db:
        stored = sorted(row[0] for row in db.execute("SELECT message FROM occurrences"))
    assert stored == [shown, shown]
    for fmt in ("html", "md", "csv", "json", "sarif"):
        target = tmp_path / f"report.{fmt}"
        run = cli("report", "--store", str(store), "--format", fmt, "-o", str(target))
        assert run.code == 0, run.err
        assert CLIENT_SECRET not in target.read_text(), fmt


def test_a_secret_in_a_blob_and_a_message_is_one_finding(repo: Repo, cli: Any) -> None:
    sha = repo.commit(f"token {TOKEN}", {"ads.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
    repo.commit(f"developer_token: {TOKEN} still here")
    (finding,) = git_json(cli, str(repo.path), codes=(1,))["findings"]
    assert (finding["path"], finding["in"], finding["commit"]) == ("ads.env", "blob", sha)
    assert finding["message"] == f"token {MASKED_TOKEN}"


def test_every_rule_match_in_a_shown_message_is_masked_even_a_suppressed_one(
    repo: Repo, cli: Any
) -> None:
    """An allow-commented secret in the message is no finding, yet never shown in clear."""
    repo.commit(
        f"client_secret: {CLIENT_SECRET} devtoken:allow",
        {"ads.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"},
    )
    run = cli("git", str(repo.path), "--format", "json", "--explain")
    assert run.code == 1, run.err
    doc = run.json()
    (finding,) = doc["findings"]
    assert finding["message"] == f"client_secret: {MASKED_SECRET} devtoken:allow"
    (suppressed,) = doc["suppressed"]
    assert (suppressed["in"], suppressed["path"]) == ("commit-message", "")
    assert CLIENT_SECRET not in run.out


def test_a_message_in_a_legacy_encoding_is_decoded(repo: Repo, cli: Any) -> None:
    repo.git("config", "i18n.commitEncoding", "ISO-8859-1")
    message = f"caf\xe9 client_secret: {CLIENT_SECRET}\n".encode("latin-1")
    repo.count += 1
    repo.git("commit", "-q", "--allow-empty", "-F", "-", input=message)
    (finding,) = git_json(cli, str(repo.path), codes=(1,))["findings"]
    assert (finding["in"], finding["column"]) == ("commit-message", 21)
    assert finding["message"] == f"caf\xe9 client_secret: {MASKED_SECRET}"


def test_redact_messages_masks_rule_matches_and_known_secrets(engine: Any) -> None:
    from scanner.git.messages import redact_messages
    from scanner.models import CommitInfo

    infos = {
        "a": CommitInfo("a", "A", "a@x", "d", f"client_secret: {CLIENT_SECRET} and {TOKEN}"),
        "b": CommitInfo("b", "A", "a@x", "d", "nothing here"),
    }
    shown = redact_messages(engine, infos, {TOKEN: MASKED_TOKEN, "unused": "u…"})
    assert shown["a"].message == f"client_secret: {MASKED_SECRET} and {MASKED_TOKEN}"
    assert shown["b"] == infos["b"]


def test_text_output_names_the_commit_whose_message_holds_the_secret(repo: Repo, cli: Any) -> None:
    repo.commit("base", {"README.md": "hi\n"})
    sha = repo.commit(f"try oauth client_secret: {CLIENT_SECRET} for now")
    run = cli("git", str(repo.path), "--quiet")
    assert run.code == 1
    first = run.out.split("\n")[0]
    assert (
        first
        == f"commit message of {sha[:12]}:1:26: HIGH google-oauth-client-secret {MASKED_SECRET} "
        f"(fingerprint {fingerprint('google-oauth-client-secret', CLIENT_SECRET)[:12]})"
    )
