"""Annotated tag messages in `devtoken git`: read like commit messages, reported, redacted.

A secret only in an annotated tag's message is a finding (path "", `in: tag-message`,
the tag named with its tagger, date and object id; still present while a tag ref reaches
it); a tag of a tag is read too, a lightweight tag adds nothing, and the shown message is
masked wherever it appears.
"""

from __future__ import annotations

from typing import Any

from scanner.secret import fingerprint
from tests.gitrepo import BASE_TIME, Repo, git_json

CLIENT_SECRET = "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"
MASKED_SECRET = "GOCSPX-e9…jA"
TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
MASKED_TOKEN = "Qm3x…A1"


def tag(repo: Repo, name: str, message: str, target: str = "HEAD") -> str:
    """`git tag -a NAME TARGET -m MESSAGE` at the next deterministic date; its tag object."""
    repo.count += 1
    repo.git("-c", "advice.nestedTag=false", "tag", "-a", name, target, "-m", message)
    return repo.git("rev-parse", f"refs/tags/{name}")


def iso(count: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(BASE_TIME + count * 3600, UTC).isoformat()


def test_a_secret_in_an_annotated_tag_message_is_a_finding_naming_the_tag(
    repo: Repo, cli: Any
) -> None:
    base = repo.commit("base", {"README.md": "hi\n"})
    obj = tag(repo, "v1.0", f"release 1.0\n\nuse client_secret: {CLIENT_SECRET}")
    for jobs in ("1", "2"):
        doc = git_json(cli, str(repo.path), "--jobs", jobs, codes=(1,))
        (finding,) = doc["findings"]
        assert (finding["rule_id"], finding["path"], finding["in"], finding["blob"]) == (
            "google-oauth-client-secret",
            "",
            "tag-message",
            "",
        )
        assert (finding["line"], finding["column"]) == (3, 20)
        assert (finding["tag"], finding["tag_object"], finding["tagged_commit"]) == (
            "refs/tags/v1.0",
            obj,
            base,
        )
        assert (finding["tagger"], finding["tagger_email"], finding["tagger_date"]) == (
            "Test Author",
            "author@example.com",
            iso(2),
        )
        # the tag is the place it was seen: its id, tagger, date and (redacted) subject
        assert (finding["commit"], finding["author"], finding["date"]) == (
            obj,
            "Test Author",
            iso(2),
        )
        assert finding["message"] == "release 1.0"
        exposure = finding["exposure"]
        assert (exposure["first_commit"], exposure["removed_commit"]) == (obj, None)
        assert exposure["still_present_in"] == ["refs/tags/v1.0"]
        assert exposure["tag"]["tag"] == "refs/tags/v1.0"
        stats = doc["stats"]
        assert (stats["tags"], stats["tag_messages_scanned"], stats["messages_scanned"]) == (
            1,
            1,
            1,
        )
        assert CLIENT_SECRET not in str(doc)


def test_a_tag_of_a_tag_is_read_and_a_lightweight_tag_adds_nothing(repo: Repo, cli: Any) -> None:
    base = repo.commit("base", {"README.md": "hi\n"})
    inner = tag(repo, "v1", f"inner developer_token: {TOKEN}")
    outer = tag(repo, "v2", f"outer client_secret: {CLIENT_SECRET}", target="v1")
    repo.git("tag", "-d", "v1")  # the inner tag object is now reached only through v2
    repo.git("tag", "light")  # lightweight: a ref to the commit, no tag object
    doc = git_json(cli, str(repo.path), codes=(1,))
    got = sorted(
        (f["tag_object"], f["tag"], f["tagged_commit"], f["exposure"]["still_present_in"])
        for f in doc["findings"]
    )
    assert got == sorted(
        [(inner, "v1", base, ["refs/tags/v2"]), (outer, "refs/tags/v2", base, ["refs/tags/v2"])]
    )
    assert {f["in"] for f in doc["findings"]} == {"tag-message"}
    assert (doc["stats"]["tags"], doc["stats"]["tag_messages_scanned"]) == (2, 2)


def test_only_lightweight_tags_read_no_tag_message(repo: Repo, cli: Any) -> None:
    repo.commit("base", {"README.md": "hi\n"})
    repo.git("tag", "light")
    repo.git("tag", "v0", "HEAD")
    doc = git_json(cli, str(repo.path), codes=(0,))
    assert doc["findings"] == []
    assert (doc["stats"]["tags"], doc["stats"]["tag_messages_scanned"]) == (0, 0)


def test_the_tag_message_is_redacted_in_text_and_names_the_tag(repo: Repo, cli: Any) -> None:
    repo.commit("base", {"README.md": "hi\n"})
    obj = tag(repo, "v1.0", f"try oauth client_secret: {CLIENT_SECRET} for now")
    run = cli("git", str(repo.path), "--quiet")
    assert run.code == 1
    lines = run.out.split("\n")
    assert lines[0] == (
        f"tag message of v1.0:1:26: HIGH google-oauth-client-secret {MASKED_SECRET} "
        f"(fingerprint {fingerprint('google-oauth-client-secret', CLIENT_SECRET)[:12]})"
    )
    assert lines[2] == (
        f"    in tag object {obj[:12]} by Test Author <author@example.com> on {iso(2)}: "
        f"try oauth client_secret: {MASKED_SECRET} for now"
    )
    assert lines[3] == "    still present in refs/tags/v1.0"
    assert CLIENT_SECRET not in run.out + run.err


def test_a_secret_in_a_blob_and_a_tag_message_is_the_blob_finding_as_for_commit_messages(
    repo: Repo, cli: Any
) -> None:
    """As a commit message's copy of a blob secret, a tag's adds no finding; a secret only in
    the tag is one, its shown message masking the blob's secret too."""
    sha = repo.commit("add config", {"ads.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
    tag(repo, "v1", f"token {TOKEN} client_secret: {CLIENT_SECRET}")
    doc = git_json(cli, str(repo.path), codes=(1,))
    by_in = {f["in"]: f for f in doc["findings"]}
    assert set(by_in) == {"blob", "tag-message"}
    assert (by_in["blob"]["path"], by_in["blob"]["commit"]) == ("ads.env", sha)
    assert by_in["blob"]["rule_id"] == "google-ads-developer-token"
    assert by_in["tag-message"]["rule_id"] == "google-oauth-client-secret"
    assert by_in["tag-message"]["message"] == f"token {MASKED_TOKEN} client_secret: {MASKED_SECRET}"
    assert TOKEN not in str(doc) and CLIENT_SECRET not in str(doc)


def test_an_allowed_secret_in_a_tag_message_is_suppressed_there(repo: Repo, cli: Any) -> None:
    repo.commit("base", {"README.md": "hi\n"})
    tag(repo, "v1", f"client_secret: {CLIENT_SECRET} devtoken:allow")
    run = cli("git", str(repo.path), "--format", "json", "--explain")
    assert run.code == 0, run.err
    (suppressed,) = run.json()["suppressed"]
    assert (suppressed["in"], suppressed["path"], suppressed["tag"]) == (
        "tag-message",
        "",
        "refs/tags/v1",
    )
    assert suppressed["message"] == f"client_secret: {MASKED_SECRET} devtoken:allow"
    assert CLIENT_SECRET not in run.out


def test_since_until_keep_a_tag_by_its_tagger_date(repo: Repo, cli: Any) -> None:
    repo.commit("base", {"README.md": "hi\n"})  # count 1
    tag(repo, "old", f"developer_token: {TOKEN}")  # tagged at count 2
    repo.count += 5
    tag(repo, "new", f"client_secret: {CLIENT_SECRET}")  # count 8
    doc = git_json(cli, str(repo.path), "--since", iso(5), codes=(1,))
    assert [f["tag"] for f in doc["findings"]] == ["refs/tags/new"]
    doc = git_json(cli, str(repo.path), "--until", iso(5), codes=(1,))
    assert [f["tag"] for f in doc["findings"]] == ["refs/tags/old"]


def test_since_commit_keeps_a_tag_of_a_commit_after_it(repo: Repo, cli: Any) -> None:
    first = repo.commit("base", {"README.md": "hi\n"})
    tag(repo, "v1", f"developer_token: {TOKEN}")
    repo.commit("more", {"b.txt": "b\n"})
    tag(repo, "v2", f"client_secret: {CLIENT_SECRET}")
    doc = git_json(cli, str(repo.path), "--since-commit", first, codes=(1,))
    assert [f["tag"] for f in doc["findings"]] == ["refs/tags/v2"]
    assert doc["stats"]["tags"] == 1
