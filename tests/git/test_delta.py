"""The org scan's history delta on real bare mirrors (`git clone --mirror`).

`delta_blobs`/`scan_delta` walk `new tips + held --not old tips`: exactly the blobs new
commits added are read, a ledger's known-clean blobs are skipped and counted, vanished old
tips mean a full scan, and what only a force-pushed-away (held) tip reaches is reported as
rewritten-away history, never as present at a refs/devtoken/ ref.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scanner.engine import Engine
from scanner.git.delta import delta_blobs, read_tips, scan_delta
from scanner.git.mirror import HELD_PREFIX
from scanner.git.runner import GitError
from scanner.git.scan_history import GitOptions, scan_git
from scanner.models import Finding, GitProvenance
from scanner.render.records import finding_record
from scanner.rules import Rule, load_rules, ruleset_key
from scanner.scan import ScanResult
from tests.gitrepo import Repo

BASE = "Qm3xK9_pL2vN8rT4wY6z"
CLIENT_SECRET = "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"


def token(n: int) -> str:
    return f"developer_token: {BASE}{n:02d}\n"


@pytest.fixture(scope="module")
def engine(rules: tuple[Rule, ...]) -> Engine:
    return Engine(rules)


class Mirror:
    """A working repository and a bare `git clone --mirror` of it, fetched on demand."""

    def __init__(self, tmp_path: Path) -> None:
        self.work = Repo(tmp_path / "work")
        self.path = tmp_path / "mirror.git"

    def clone(self) -> None:
        _git(None, "clone", "-q", "--mirror", str(self.work.path), str(self.path))

    def fetch(self) -> None:
        _git(self.path, "fetch", "-q", "--prune", "origin")

    def tips(self) -> list[str]:
        return sorted(set(read_tips(str(self.path))[0].values()))

    def hold(self, sha: str) -> None:
        _git(self.path, "update-ref", f"{HELD_PREFIX}{sha}", sha)

    def blob(self, commit: str, path: str) -> bytes:
        return self.work.git("rev-parse", f"{commit}:{path}").encode()


def _git(repo: Path | None, *args: str) -> str:
    where = ["-C", str(repo)] if repo else []
    done = subprocess.run(["git", *where, *args], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode().strip()


@pytest.fixture
def mirror(tmp_path: Path) -> Mirror:
    return Mirror(tmp_path)


def found(result: ScanResult) -> list[tuple[str, str, str, str | None, tuple[str, ...], bool]]:
    """(in, path, first commit, removed commit, still present in, rewritten) per finding."""
    rows = []
    for finding in result.findings:
        where = finding.provenance
        assert isinstance(where, GitProvenance) and where.exposure is not None
        window = where.exposure
        removed = window.removed.sha if window.removed else None
        rows.append(
            (
                where.location,
                where.path,
                window.introduced.sha,
                removed,
                window.present_in,
                window.rewritten,
            )
        )
    return sorted(rows)


def records(findings: list[Finding]) -> list[dict[str, Any]]:
    return sorted(
        (finding_record(f, show_secrets=False) for f in findings),
        key=lambda r: (r["path"], r["line"], r["rule_id"], r.get("commit", "")),
    )


def test_read_tips_splits_held_refs(mirror: Mirror) -> None:
    first = mirror.work.commit("base", {"a.txt": "a\n"})
    mirror.work.git("tag", "-a", "-m", "release", "v1")
    tag = mirror.work.git("rev-parse", "v1")
    mirror.clone()
    mirror.hold(first)
    tips, held = read_tips(str(mirror.path))
    assert tips == {"refs/heads/main": first, "refs/tags/v1": tag}
    assert held == {f"{HELD_PREFIX}{first}": first}


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_delta_reads_exactly_the_blobs_new_commits_added(
    mirror: Mirror, engine: Engine, jobs: int
) -> None:
    work = mirror.work
    work.commit("base", {"a.txt": "one\n", "old.yaml": token(1)})
    mirror.clone()
    old = mirror.tips()
    changed = work.commit("change a, add b", {"a.txt": "two\n", "b.yaml": token(2)})
    work.git("checkout", "-q", "-b", "feature")
    feature = work.commit(f"client_secret: {CLIENT_SECRET}", {"c.txt": "three\n"})
    work.git("checkout", "-q", "main")
    mirror.fetch()
    new = mirror.tips()
    expected = {mirror.blob(changed, "a.txt"), mirror.blob(changed, "b.yaml")}
    expected.add(mirror.blob(feature, "c.txt"))

    candidates = delta_blobs(str(mirror.path), new, old)
    delta = scan_delta(str(mirror.path), engine, new, old, jobs=jobs)

    assert sorted(candidates) == sorted(expected)
    b_yaml = mirror.blob(changed, "b.yaml")
    assert delta.scanned == sorted((blob, int(blob == b_yaml)) for blob in expected)
    assert delta.skipped_known == 0
    # the old token is not found again; the new one and the new commit message are
    assert found(delta.result) == [
        ("blob", "b.yaml", changed, None, ("refs/heads/feature", "refs/heads/main"), False),
        ("commit-message", "", feature, None, (), False),
    ]
    stats = delta.result.extra_stats
    assert (stats["commits"], stats["messages_scanned"], stats["blobs_scanned"]) == (2, 2, 3)
    assert (stats["new_tips"], stats["old_tips"], stats["old_tips_gone"]) == (2, 1, 0)


def test_known_clean_blobs_are_skipped_and_counted(mirror: Mirror, engine: Engine) -> None:
    work = mirror.work
    work.commit("base", {"a.txt": "one\n"})
    mirror.clone()
    old = mirror.tips()
    added = work.commit("more", {"b.txt": "two\n", "c.txt": "three\n", "d.yaml": token(3)})
    mirror.fetch()
    b, c, d = (mirror.blob(added, name) for name in ("b.txt", "c.txt", "d.yaml"))
    elsewhere = mirror.blob(old[0], "a.txt")  # known clean, but not in this delta

    delta = scan_delta(str(mirror.path), engine, mirror.tips(), old, skip=frozenset({b, elsewhere}))

    assert delta.skipped_known == 1
    assert delta.scanned == sorted([(c, 0), (d, 1)])
    assert [f.provenance.path for f in delta.result.findings] == ["d.yaml"]
    assert delta.result.extra_stats["blobs_skipped_known"] == 1
    assert delta.result.files_scanned == 2


PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\xff\xfe\0\0"


@pytest.mark.parametrize(
    ("content", "limit", "reason"),
    [(b"x" * 4096, 2048, "too-large"), (PNG * 64 + token(14).encode(), 1 << 20, "binary")],
)
def test_a_blob_not_read_whole_is_never_in_the_ledger(
    mirror: Mirror, engine: Engine, content: bytes, limit: int, reason: str
) -> None:
    """A ledger row says "clean under these rules": never for what was not scanned."""
    mirror.work.commit("base", {"a.txt": "one\n"})
    mirror.clone()
    old = mirror.tips()
    mirror.work.write("c.dat", content)
    added = mirror.work.commit("more", {"b.txt": "two\n"})
    mirror.fetch()
    delta = scan_delta(str(mirror.path), engine, mirror.tips(), old, max_blob_size=limit)
    assert delta.scanned == [(mirror.blob(added, "b.txt"), 0)]
    assert [(s.path, s.reason) for s in delta.result.skipped] == [("c.dat", reason)]


def test_old_tips_the_repository_lost_mean_a_full_scan(mirror: Mirror, engine: Engine) -> None:
    work = mirror.work
    first = work.commit("base", {"a.txt": "one\n", "s.yaml": token(4)})
    second = work.commit("more", {"b.txt": "two\n"})
    mirror.clone()
    gone = "0123456789abcdef0123456789abcdef01234567"
    everything = {mirror.blob(first, "a.txt"), mirror.blob(first, "s.yaml")}
    everything.add(mirror.blob(second, "b.txt"))

    assert sorted(delta_blobs(str(mirror.path), mirror.tips(), [gone])) == sorted(everything)
    delta = scan_delta(str(mirror.path), engine, mirror.tips(), [gone])
    assert sorted(blob for blob, _ in delta.scanned) == sorted(everything)
    assert found(delta.result) == [("blob", "s.yaml", first, None, ("refs/heads/main",), False)]
    assert delta.result.extra_stats["old_tips_gone"] == 1


def test_a_full_delta_gives_what_devtoken_git_gives(mirror: Mirror, engine: Engine) -> None:
    """Same findings, same provenance records, as `devtoken git` on the same mirror."""
    work = mirror.work
    work.commit("base", {"a.yaml": token(5), "keep.yaml": token(6)})
    work.commit("remove a", remove=("a.yaml",))
    work.git("checkout", "-q", "-b", "side")
    work.commit(f"client_secret: {CLIENT_SECRET}", {"side.yaml": token(7)})
    work.git("checkout", "-q", "main")
    work.commit("readd a", {"a.yaml": token(5)})
    mirror.clone()

    delta = scan_delta(str(mirror.path), engine, mirror.tips(), [])
    history = scan_git(GitOptions(repo=str(mirror.path), jobs=1), engine)

    assert len(delta.result.findings) == 4
    assert records(delta.result.findings) == records(history.findings)


def test_the_window_is_the_deltas_and_presence_the_branches_now(
    mirror: Mirror, engine: Engine
) -> None:
    work = mirror.work
    work.commit("base", {"a.txt": "one\n"})
    mirror.clone()
    old = mirror.tips()
    added = work.commit("add", {"x.yaml": token(8), "y.yaml": token(9)})
    removed = work.commit("remove x", remove=("x.yaml",))
    mirror.fetch()
    work.git("branch", "later", added)  # a branch the delta's tips did not include
    new = mirror.tips()
    mirror.fetch()

    delta = scan_delta(str(mirror.path), engine, new, old)

    assert found(delta.result) == [
        ("blob", "x.yaml", added, removed, ("refs/heads/later",), False),
        ("blob", "y.yaml", added, None, ("refs/heads/later", "refs/heads/main"), False),
    ]


def force_pushed(mirror: Mirror) -> dict[str, str]:
    """main scanned at `base`; the mirror then fetched `gone` (never scanned), which a
    force-push replaced by `kept`; the mirror holds `gone` under refs/devtoken/rewritten/."""
    work = mirror.work
    base = work.commit("base", {"a.txt": "one\n"})
    mirror.clone()
    gone = work.commit(
        f"oops client_secret: {CLIENT_SECRET}",
        {"only-gone.yaml": token(10), "both.yaml": token(11)},
    )
    mirror.fetch()
    work.git("reset", "-q", "--hard", base)
    kept = work.commit("redo", {"both.yaml": token(11), "new.txt": "two\n"})
    mirror.fetch()
    mirror.hold(gone)
    return {"base": base, "gone": gone, "kept": kept}


def test_what_only_a_force_pushed_away_tip_reaches_is_rewritten(
    mirror: Mirror, engine: Engine
) -> None:
    shas = force_pushed(mirror)
    tips, held = read_tips(str(mirror.path))
    assert tips == {"refs/heads/main": shas["kept"]}
    assert held == {f"{HELD_PREFIX}{shas['gone']}": shas["gone"]}
    expected = {mirror.blob(shas["kept"], "both.yaml"), mirror.blob(shas["kept"], "new.txt")}
    expected.add(mirror.blob(shas["gone"], "only-gone.yaml"))

    # held tips are added whether or not the caller passes them among the new tips
    for new in ([shas["kept"]], [shas["kept"], shas["gone"]]):
        assert sorted(delta_blobs(str(mirror.path), new, [shas["base"]])) == sorted(expected)
        delta = scan_delta(str(mirror.path), engine, new, [shas["base"]])
        assert found(delta.result) == [
            ("blob", "both.yaml", shas["kept"], None, ("refs/heads/main",), False),
            ("blob", "only-gone.yaml", shas["gone"], None, (), True),
            ("commit-message", "", shas["gone"], None, (), True),
        ]
        assert delta.result.extra_stats["rewritten_commits"] == 1
        assert delta.result.extra_stats["held_tips"] == 1
        exposures = [finding_record(f, False)["exposure"] for f in delta.result.findings]
        assert sorted(e["rewritten"] for e in exposures) == [False, True, True]


@pytest.mark.parametrize("all_objects", [False, True])
def test_devtoken_git_on_a_mirror_marks_rewritten_history_too(
    mirror: Mirror, engine: Engine, all_objects: bool
) -> None:
    shas = force_pushed(mirror)
    result = scan_git(GitOptions(repo=str(mirror.path), jobs=1, all_objects=all_objects), engine)
    assert result.extra_stats["rewritten_commits"] == 1
    assert result.extra_stats["revisions"] == ["--all"]
    assert found(result) == [
        ("blob", "both.yaml", shas["kept"], None, ("refs/heads/main",), False),
        ("blob", "only-gone.yaml", shas["gone"], None, (), True),
        ("commit-message", "", shas["gone"], None, (), True),
    ]


def test_held_tips_given_explicitly(mirror: Mirror, engine: Engine) -> None:
    """As FetchOutcome.held when another machine fetched: walked held without a ref."""
    shas = force_pushed(mirror)
    _git(mirror.path, "update-ref", "-d", f"{HELD_PREFIX}{shas['gone']}")
    new, old = [shas["kept"]], [shas["base"]]
    gone_only = mirror.blob(shas["gone"], "only-gone.yaml")
    assert gone_only not in delta_blobs(str(mirror.path), new, old)
    assert gone_only in delta_blobs(str(mirror.path), new, old, held=[shas["gone"]])
    delta = scan_delta(str(mirror.path), engine, new, old, held=[shas["gone"]])
    assert [row[1:] for row in found(delta.result) if row[5]] == [
        ("only-gone.yaml", shas["gone"], None, (), True),
        ("", shas["gone"], None, (), True),
    ]
    absent = "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(GitError) as missing:
        scan_delta(str(mirror.path), engine, new, old, held=[absent])
    assert str(missing.value) == f"held tip {absent} is not in the repository {mirror.path}"


def test_a_held_tip_that_is_also_a_branch_is_live(mirror: Mirror, engine: Engine) -> None:
    first = mirror.work.commit("base", {"s.yaml": token(12)})
    mirror.clone()
    mirror.hold(first)
    delta = scan_delta(str(mirror.path), engine, mirror.tips(), [])
    assert found(delta.result) == [("blob", "s.yaml", first, None, ("refs/heads/main",), False)]


def test_an_unscanned_delta_reads_nothing(mirror: Mirror, engine: Engine) -> None:
    mirror.work.commit("base", {"s.yaml": token(13)})
    mirror.clone()
    tips = mirror.tips()
    assert delta_blobs(str(mirror.path), tips, tips) == []
    delta = scan_delta(str(mirror.path), engine, tips, tips)
    assert (delta.result.findings, delta.scanned, delta.skipped_known) == ([], [], 0)
    assert delta.result.extra_stats["commits"] == 0


def test_a_new_tip_the_repository_lacks_is_an_error(mirror: Mirror, engine: Engine) -> None:
    mirror.work.commit("base", {"a.txt": "one\n"})
    mirror.clone()
    absent = "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(GitError) as missing:
        delta_blobs(str(mirror.path), [absent], [])
    assert str(missing.value) == f"tip {absent} is not in the repository {mirror.path}"
    with pytest.raises(GitError) as malformed:
        scan_delta(str(mirror.path), engine, ["--all"], [])
    assert str(malformed.value) == "not a full object id: '--all'"


def test_a_rules_change_gives_another_ruleset_key(tmp_path: Path) -> None:
    rules = load_rules()
    copy = tmp_path / "rules"
    shutil.copytree(Path(rules[0].source_file).parent, copy)
    assert ruleset_key(load_rules(copy)) == ruleset_key(rules)  # where they live: no change
    assert ruleset_key(tuple(reversed(rules))) == ruleset_key(rules)
    target = copy / Path(rules[0].source_file).name
    text = target.read_text()
    assert "\nkeywords = [" in text
    target.write_text(text.replace("\nkeywords = [", '\nkeywords = ["zzqq", ', 1))
    assert ruleset_key(load_rules(copy)) != ruleset_key(rules)
    assert ruleset_key(rules[1:]) != ruleset_key(rules)


def test_the_text_report_says_a_finding_is_in_rewritten_away_history(
    mirror: Mirror, engine: Engine
) -> None:
    from scanner.render import render_scan

    force_pushed(mirror)
    result = scan_git(GitOptions(repo=str(mirror.path), jobs=1), engine)
    text = render_scan(result, "text")
    assert text.count("(in rewritten-away history)") == 1  # the file; the message says its own
    assert text.count("in rewritten-away history: only commits a force-push dropped hold it") == 2
    assert "only-gone.yaml (in rewritten-away history)" in text
