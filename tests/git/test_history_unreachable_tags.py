"""`devtoken git --all-objects` reads annotated tag objects that no ref reaches.

A deleted tag (`git tag -d`) leaves its tag object in the store until gc, and a tag object
written with `git mktag` may never have had a ref: a credential pasted into such a release
note is still there. Without `--all-objects` only the tags the scanned refs reach are read.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.git.test_history_tags import CLIENT_SECRET, TOKEN, iso, tag
from tests.gitrepo import Repo, git_json


def deleted_tag(repo: Repo) -> tuple[str, str]:
    """A release tag whose message holds a secret, then `git tag -d`: (base commit, tag object)."""
    base = repo.commit("base", {"README.md": "hi\n"})
    obj = tag(repo, "v1", f"release 1\n\nclient_secret: {CLIENT_SECRET}")
    repo.git("tag", "-d", "v1")
    return base, obj


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("packed", [False, True])
def test_a_deleted_tags_message_is_an_unreachable_finding(
    repo: Repo, cli: Any, jobs: str, packed: bool
) -> None:
    base, obj = deleted_tag(repo)
    if packed:  # unreachable objects kept in packs (cruft packs on recent git)
        repo.git("-c", "gc.pruneExpire=never", "gc", "-q")
    # without --all-objects no ref reaches the tag object: it is not read
    doc = git_json(cli, str(repo.path), "--jobs", jobs, codes=(0,))
    assert doc["findings"] == []
    assert doc["stats"]["tags"] == 0 and "unreachable_tags" not in doc["stats"]

    doc = git_json(cli, str(repo.path), "--all-objects", "--jobs", jobs, codes=(1,))
    (finding,) = doc["findings"]
    assert (finding["rule_id"], finding["in"], finding["path"], finding["unreachable"]) == (
        "google-oauth-client-secret",
        "tag-message",
        "",
        True,
    )
    assert (finding["line"], finding["column"]) == (3, 16)
    # no ref names it: the tag is named by its own `tag` header
    assert (finding["tag"], finding["tag_object"], finding["tagged_commit"]) == ("v1", obj, base)
    assert (finding["tagger"], finding["tagger_email"], finding["tagger_date"]) == (
        "Test Author",
        "author@example.com",
        iso(2),
    )
    assert (finding["commit"], finding["message"]) == (obj, "release 1")
    exposure = finding["exposure"]
    assert (exposure["first_commit"], exposure["still_present_in"]) == (obj, [])
    assert exposure["tag"]["tag_object"] == obj
    stats = doc["stats"]
    assert (stats["tags"], stats["unreachable_tags"], stats["tag_messages_scanned"]) == (1, 1, 1)
    assert CLIENT_SECRET not in str(doc)


def test_a_reachable_tags_finding_is_unchanged_and_not_read_twice(repo: Repo, cli: Any) -> None:
    deleted_tag(repo)
    kept = tag(repo, "v2", f"release 2 developer_token: {TOKEN}")
    before = git_json(cli, str(repo.path), codes=(1,))
    (reachable,) = before["findings"]
    doc = git_json(cli, str(repo.path), "--all-objects", codes=(1,))
    by_object = {f["tag_object"]: f for f in doc["findings"]}
    assert len(doc["findings"]) == len(by_object) == 2
    assert by_object[kept] == reachable
    assert (reachable["tag"], reachable["unreachable"]) == ("refs/tags/v2", False)
    assert reachable["exposure"]["still_present_in"] == ["refs/tags/v2"]
    assert (doc["stats"]["tags"], doc["stats"]["unreachable_tags"]) == (2, 1)
    assert doc["stats"]["tag_messages_scanned"] == 2


def test_a_secret_also_in_a_reachable_tag_keeps_the_reachable_tag(repo: Repo, cli: Any) -> None:
    deleted_tag(repo)
    kept = tag(repo, "v2", f"again client_secret: {CLIENT_SECRET}")
    (finding,) = git_json(cli, str(repo.path), "--all-objects", codes=(1,))["findings"]
    assert (finding["tag_object"], finding["tag"], finding["unreachable"]) == (
        kept,
        "refs/tags/v2",
        False,
    )
    assert finding["exposure"]["still_present_in"] == ["refs/tags/v2"]
    assert finding["exposure"]["added_in_commits"] == 2  # both tags hold it


def test_a_tag_object_never_referenced_is_read_and_what_it_tags_is_not_doubled(
    repo: Repo, cli: Any
) -> None:
    """`git mktag` of the live tag v1: the new object is unreachable, v1 stays as it was."""
    base = repo.commit("base", {"README.md": "hi\n"})
    inner = tag(repo, "v1", f"developer_token: {TOKEN}")
    raw = (
        f"object {inner}\ntype tag\ntag wrapped\n"
        "tagger Someone Else <else@example.com> 1700090000 +0100\n\n"
        f"client_secret: {CLIENT_SECRET}\n"
    )
    outer = repo.git("mktag", input=raw.encode())
    doc = git_json(cli, str(repo.path), "--all-objects", codes=(1,))
    got = sorted(
        (f["tag_object"], f["tag"], f["tagged_commit"], f["unreachable"], f["tagger"])
        for f in doc["findings"]
    )
    assert got == sorted(
        [
            (inner, "refs/tags/v1", base, False, "Test Author"),
            (outer, "wrapped", base, True, "Someone Else"),
        ]
    )
    (lost,) = [f for f in doc["findings"] if f["unreachable"]]
    assert (lost["tagger_email"], lost["tagger_date"]) == (
        "else@example.com",
        "2023-11-16T00:13:20+01:00",
    )
    assert (doc["stats"]["tags"], doc["stats"]["unreachable_tags"]) == (2, 1)


def test_no_tag_outside_the_refs_counts_none(repo: Repo, cli: Any) -> None:
    repo.commit("base", {"README.md": "hi\n"})
    tag(repo, "v1", "release 1")
    doc = git_json(cli, str(repo.path), "--all-objects", codes=(0,))
    assert (doc["stats"]["tags"], doc["stats"]["unreachable_tags"]) == (1, 0)
