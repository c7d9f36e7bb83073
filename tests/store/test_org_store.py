"""OrgStore with literal inputs: tips per rule set, the blob ledger, the journal and resume,
one-transaction records, repository counters, open findings, schema v5 on old stores."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scanner.bundles import Bundle, make_bundles
from scanner.engine import Engine
from scanner.git.scan_history import GitOptions, scan_git
from scanner.render.incidents import load_incidents
from scanner.scan import ScanResult
from scanner.store.db import Store
from scanner.store.org import JournalEntry, OrgStore, RecordOutcome, RepositoryRow
from scanner.store.schema import MIGRATIONS
from tests.gitrepo import Repo
from tests.render.literals import RULES, scan_result

T = "Zk3mQ9vTb2LxWc7RnP4s_g"
U = "Qm3xK9_pL2vN8rT4wY6zA1"
FP_T = "356c4fb93fce170360332fdd97891f047a6acdb474b8fd346734cd453d21b13e"
FP_U = "c5b9a3dd10bcd37d546f7287546c3ec88d4bfc8c1a32bdad8af53312a8545b54"
R1 = "1" * 64  # rule-set keys
R2 = "2" * 64
SHA_A = "a" * 40
SHA_B = "b" * 40
BLOB_X = b"0123456789abcdef0123456789abcdef01234567"
BLOB_Y = b"fedcba9876543210fedcba9876543210fedcba98"
BLOB_Z = b"00000000000000000000000000000000000000ff"


def tokens_result(*tokens: str, path: str = "app.yaml") -> ScanResult:
    return scan_result("".join(f"developer_token: {t}\n" for t in tokens), path)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store(tmp_path / "s.sqlite") as opened:
        yield opened


@pytest.fixture
def org(store: Store) -> OrgStore:
    org = OrgStore(store)
    org.upsert_repository("listed-local-one", "org/one", "file:///r/one", "list", "one")
    org.upsert_repository("listed-local-two", "org/two", "file:///r/two", "list", "two")
    return org


def count(store: Store, table: str) -> int:
    return int(store.rows(f"SELECT COUNT(*) FROM {table}")[0][0])


def test_the_fingerprints_used_here(store: Store) -> None:
    assert [f.fingerprint for f in tokens_result(T, U).findings] == [FP_T, FP_U]


def test_tips_replace_per_rule_set_and_a_new_rule_set_sees_none(org: OrgStore) -> None:
    run = org.open_run(R1)
    empty = tokens_result()
    main_a = {"refs/heads/main": SHA_A, "refs/heads/dev": SHA_A}
    org.record_repository(run.id, "listed-local-one", "org/one", empty, R1, main_a, [])
    assert org.tips("listed-local-one", R1) == main_a
    org.record_repository(
        run.id, "listed-local-one", "org/one", empty, R1, {"refs/heads/main": SHA_B}, []
    )
    assert org.tips("listed-local-one", R1) == {"refs/heads/main": SHA_B}  # dev is gone
    assert org.tips("listed-local-one", R2) == {}
    assert org.tips("listed-local-two", R1) == {}
    org.record_repository(
        run.id, "listed-local-one", "org/one", empty, R2, {"refs/heads/main": SHA_A}, []
    )
    assert org.tips("listed-local-one", R1) == {"refs/heads/main": SHA_B}  # kept per rule set
    assert org.tips("listed-local-one", R2) == {"refs/heads/main": SHA_A}


def test_a_ref_name_that_is_not_utf8_reads_back_exactly(org: OrgStore) -> None:
    ref = b"refs/heads/caf\xe9".decode("utf-8", "surrogateescape")
    run = org.open_run(R1)
    org.record_repository(
        run.id, "listed-local-one", "org/one", tokens_result(), R1, {ref: SHA_A}, []
    )
    assert org.tips("listed-local-one", R1) == {ref: SHA_A}


def test_the_ledger_keeps_one_row_per_blob_and_rule_set_with_the_most_matches(
    org: OrgStore, store: Store
) -> None:
    run = org.open_run(R1)
    empty = tokens_result()
    one = [(BLOB_X, 0), (BLOB_Y, 2), (BLOB_X, 0)]
    org.record_repository(run.id, "listed-local-one", "org/one", empty, R1, {}, one)
    two = [(BLOB_X, 0), (BLOB_Y, 0), (BLOB_Z, 1)]  # a fork sharing X and Y
    org.record_repository(run.id, "listed-local-two", "org/two", empty, R1, {}, two)
    rows = store.rows("SELECT blob, matches FROM blob_ledger ORDER BY blob")
    assert [(bytes(r[0]), r[1]) for r in rows] == [
        (bytes.fromhex(BLOB_Z.decode()), 1),
        (bytes.fromhex(BLOB_X.decode()), 0),
        (bytes.fromhex(BLOB_Y.decode()), 2),  # 2 kept, not replaced by the fork's 0
    ]
    assert len(bytes(rows[0][0])) == 20
    candidates = [BLOB_X, BLOB_Y, BLOB_Z, b"11" * 20]
    assert org.clean_blobs(R1, candidates) == frozenset({BLOB_X})
    assert org.clean_blobs(R2, candidates) == frozenset()  # new rules: nothing is known clean
    org.record_repository(run.id, "listed-local-one", "org/one", empty, R2, {}, [(BLOB_Y, 0)])
    assert org.clean_blobs(R2, candidates) == frozenset({BLOB_Y})
    assert org.clean_blobs(R1, candidates) == frozenset({BLOB_X})
    assert count(store, "blob_ledger") == 4


def test_clean_blobs_asks_in_chunks(org: OrgStore) -> None:
    blobs = [f"{i:040x}".encode() for i in range(2000)]  # more than one statement's parameters
    run = org.open_run(R1)
    scanned = [(blob, i % 3) for i, blob in enumerate(blobs)]
    org.record_repository(run.id, "listed-local-one", "org/one", tokens_result(), R1, {}, scanned)
    clean = org.clean_blobs(R1, blobs + [f"{i:040x}".encode() for i in range(5000, 6000)])
    assert clean == frozenset(blobs[0::3]) and len(clean) == 667


def test_journal_phases_and_resume(org: OrgStore, store: Store) -> None:
    run = org.open_run(R1)
    assert (run.id, run.resumed, run.recorded) == (1, False, frozenset())
    for key in ("listed-local-one", "listed-local-two"):
        org.set_phase(run.id, key, "discovered")
    org.set_phase(run.id, "listed-local-one", "fetched", {"candidates": 3})
    org.set_phase(run.id, "listed-local-one", "scanned", {"blobs": 3})
    org.record_repository(
        run.id,
        "listed-local-one",
        "org/one",
        tokens_result(T),
        R1,
        {"refs/heads/main": SHA_A},
        [(BLOB_X, 1)],
    )
    org.set_phase(run.id, "listed-local-two", "fetched")
    journal = org.journal(run.id)
    assert {k: (e.phase, e.detail, e.error) for k, e in journal.items()} == {
        "listed-local-one": (
            "recorded",
            {
                "scan_id": 1,
                "findings": 1,
                "new": 1,
                "blobs_scanned": 1,
                "new_fingerprints": [FP_T],
            },
            None,
        ),
        "listed-local-two": ("fetched", {}, None),
    }
    # Killed here. The next run with the same rules resumes this one.
    again = org.open_run(R1)
    assert (again.id, again.resumed, again.recorded) == (1, True, frozenset({"listed-local-one"}))
    assert org.new_fingerprints(run.id) == frozenset({FP_T})  # still known after the kill
    org.set_phase(run.id, "listed-local-one", "discovered")  # a driver re-listing everything
    assert org.journal(run.id)["listed-local-one"].phase == "recorded"
    org.mark_failed(run.id, "listed-local-two", "git fetch: timed out after 600s")
    entry = org.journal(run.id)["listed-local-two"]
    assert (entry.phase, entry.error) == ("failed", "git fetch: timed out after 600s")
    org.finish_run(run.id, {"repositories_scanned": 1, "repositories_failed": 1})
    (finished,) = store.rows("SELECT finished IS NOT NULL, stats FROM org_runs")
    assert tuple(finished) == (1, '{"repositories_scanned": 1, "repositories_failed": 1}')
    nightly = org.open_run(R1)
    assert (nightly.id, nightly.resumed, nightly.recorded) == (2, False, frozenset())
    assert org.journal(nightly.id) == {}


def test_a_killed_run_under_other_rules_is_closed_not_resumed(org: OrgStore, store: Store) -> None:
    old = org.open_run(R1)
    org.set_phase(old.id, "listed-local-one", "fetched")
    new = org.open_run(R2)
    assert (new.id, new.ruleset, new.resumed) == (2, R2, False)
    rows = store.rows("SELECT id, finished IS NOT NULL, stats FROM org_runs ORDER BY id")
    assert [tuple(r) for r in rows] == [(1, 1, '{"abandoned": true}'), (2, 0, None)]
    assert org.open_run(R2).id == 2


def test_an_unknown_phase_is_refused(org: OrgStore) -> None:
    with pytest.raises(ValueError, match="unknown journal phase 'done'"):
        org.set_phase(org.open_run(R1).id, "listed-local-one", "done")


def test_record_is_one_transaction(org: OrgStore, store: Store) -> None:
    run = org.open_run(R1)
    org.set_phase(run.id, "listed-local-one", "scanned")
    bad = [(BLOB_X, 0), (b"not hex", 0)]  # fails after the findings and tips were written
    with pytest.raises(ValueError):
        org.record_repository(
            run.id,
            "listed-local-one",
            "org/one",
            tokens_result(T, U),
            R1,
            {"refs/heads/main": SHA_A},
            bad,
        )
    for table in ("findings", "occurrences", "scans", "repository_tips", "blob_ledger"):
        assert count(store, table) == 0, table
    assert org.journal(run.id)["listed-local-one"].phase == "scanned"
    assert org.repositories()[0].status == "discovered"
    outcome = org.record_repository(
        run.id,
        "listed-local-one",
        "org/one",
        tokens_result(T, U),
        R1,
        {"refs/heads/main": SHA_A},
        [(BLOB_X, 2)],
    )
    assert outcome == RecordOutcome(1, frozenset({FP_T, FP_U}))


def test_new_fingerprints_are_those_the_store_never_had(org: OrgStore) -> None:
    run = org.open_run(R1)
    first = org.record_repository(
        run.id, "listed-local-one", "org/one", tokens_result(T), R1, {}, []
    )
    assert first == RecordOutcome(1, frozenset({FP_T}))
    fork = org.record_repository(  # the same token in another repository, and a new one
        run.id, "listed-local-two", "org/two", tokens_result(T, U), R1, {}, []
    )
    assert fork == RecordOutcome(2, frozenset({FP_U}))
    assert org.new_fingerprints(run.id) == frozenset({FP_T, FP_U})
    again = org.record_repository(
        run.id, "listed-local-one", "org/one", tokens_result(T), R1, {}, []
    )
    assert again == RecordOutcome(3, frozenset())
    assert org.new_fingerprints(run.id) == frozenset({FP_T, FP_U})  # the first record's kept


def test_repositories_and_their_counters(org: OrgStore, store: Store) -> None:
    run = org.open_run(R1)
    tips = {"refs/heads/main": SHA_A}
    org.record_repository(
        run.id,
        "listed-local-one",
        "org/one",
        tokens_result(T, U),
        R1,
        tips,
        [(BLOB_X, 2), (BLOB_Y, 0)],
    )
    org.mark_failed(run.id, "listed-local-two", "clone: repository not found")
    store.set_status(FP_U, "resolved")
    one, two = org.repositories()
    assert (one.key, one.repository, one.status, one.error, one.blobs_scanned, one.findings) == (
        "listed-local-one",
        "org/one",
        "scanned",
        None,
        2,
        1,  # U is resolved
    )
    assert one.last_scanned is not None and one.first_seen == one.last_seen
    assert two == RepositoryRow(
        key="listed-local-two",
        full_name="org/two",
        url="file:///r/two",
        source="list",
        stable_id="two",
        repository=None,
        status="failed",
        error="clone: repository not found",
        first_seen=two.first_seen,
        last_seen=two.last_seen,
        last_scanned=None,
        blobs_scanned=0,
        findings=0,
    )
    nightly = org.open_run(R1)  # the run above never finished: this resumes it
    org.finish_run(nightly.id, {})
    nightly = org.open_run(R1)
    org.upsert_repository("listed-local-one", "org/renamed", "file:///r/renamed", "list", "one")
    org.record_repository(
        nightly.id, "listed-local-one", "org/one", tokens_result(T, U), R1, tips, []
    )
    (one, _) = org.repositories()
    assert (one.full_name, one.url, one.status, one.blobs_scanned, one.findings) == (
        "org/renamed",
        "file:///r/renamed",
        "unchanged",
        0,
        1,
    )
    org.record_repository(
        nightly.id, "listed-local-one", "org/one", tokens_result(T), R1, tips, [(BLOB_Z, 0)]
    )
    assert org.repositories()[0].status == "scanned"  # same tips but blobs read: scanned


def test_a_repository_recorded_without_being_listed_gets_a_row(store: Store) -> None:
    org = OrgStore(store)
    run = org.open_run(R1)
    org.record_repository(run.id, "listed-local-x", "/srv/x", tokens_result(T), R1, {}, [])
    (row,) = org.repositories()
    assert (row.key, row.full_name, row.url, row.status, row.findings) == (
        "listed-local-x",
        "/srv/x",
        "/srv/x",
        "scanned",
        1,
    )


def test_open_findings_of_some_repositories(org: OrgStore, store: Store) -> None:
    run = org.open_run(R1)
    org.record_repository(
        run.id, "listed-local-one", "org/one", tokens_result(T, U, path="a.yaml"), R1, {}, []
    )
    org.record_repository(
        run.id, "listed-local-two", "org/two", tokens_result(T, path="b.yaml"), R1, {}, []
    )
    store.set_status(FP_U, "false_positive")
    rows = org.open_findings(["org/one", "org/two"])
    assert [(r["repo"], r["path"], r["line"], r["fingerprint"], r["status"]) for r in rows] == [
        ("org/one", "a.yaml", 1, FP_T, "open"),
        ("org/two", "b.yaml", 1, FP_T, "open"),
    ]
    assert rows[0]["rule_id"] == "google-ads-developer-token"
    assert rows[0]["secret_redacted"] == "Zk3m…_g"
    only = org.open_findings(["org/two", "org/none"])
    assert [(r["repo"], r["fingerprint"]) for r in only] == [("org/two", FP_T)]
    assert org.open_findings([]) == []


def _places(store: Store) -> list[tuple[Any, ...]]:
    rows = store.rows(
        "SELECT id, repo, path, fingerprint, remote_url, first_seen, last_seen FROM occurrences "
        "ORDER BY id"
    )
    return [tuple(row) for row in rows]


def test_a_renamed_repository_s_rows_move_to_its_new_name(store: Store) -> None:
    """The same place recorded under both names (a store from before rows moved): one row
    under the new name survives, with the old row's bundle link and the widest dates."""
    org = OrgStore(store)
    key = "github-github.com-7"
    org.upsert_repository(key, "acme/old", "https://github.com/acme/old", "github", "7")
    run = org.open_run(R1)
    linked = tokens_result(T)
    (bundle,) = make_bundles(linked.findings)
    linked.bundles = [bundle]
    org.record_repository(run.id, key, "acme/old", linked, R1, {}, [])
    org.record_repository(run.id, key, "acme/old", tokens_result(U, path="b.yaml"), R1, {}, [])
    org.record_repository(run.id, key, "acme/new", tokens_result(T), R1, {}, [])  # no bundle
    (old_t, old_u, new_t) = [row[0] for row in _places(store)]
    store.execute(
        "UPDATE occurrences SET first_seen = ?, last_seen = ? WHERE id = ?",
        "2020-01-01T00:00:00+00:00",
        "2023-01-01T00:00:00+00:00",
        old_t,
    )
    store.execute(
        "UPDATE occurrences SET first_seen = ?, last_seen = ? WHERE id = ?",
        "2021-01-01T00:00:00+00:00",
        "2022-01-01T00:00:00+00:00",
        new_t,
    )
    assert [tuple(r) for r in store.rows("SELECT * FROM bundle_occurrences")] == [
        (bundle.id, old_t)
    ]
    unchanged = tokens_result()
    unchanged.extra_stats["remote_url"] = "https://github.com/acme/new"
    org.record_repository(
        run.id, key, "acme/new", unchanged, R1, {}, [], previous_names=["acme/old", "acme/new"]
    )
    places = _places(store)
    assert [(p[0], p[1], p[2], p[3]) for p in places] == [
        (old_u, "acme/new", "b.yaml", FP_U),
        (new_t, "acme/new", "app.yaml", FP_T),
    ]
    assert places[0][4] == "https://github.com/acme/new"  # reports name it by its remote
    assert places[1][5:] == ("2020-01-01T00:00:00+00:00", "2023-01-01T00:00:00+00:00")
    assert [tuple(r) for r in store.rows("SELECT * FROM bundle_occurrences")] == [
        (bundle.id, new_t)
    ]
    targets = store.rows("SELECT DISTINCT target FROM scans WHERE kind = 'git'")
    assert [row[0] for row in targets] == ["acme/new"]
    (incident,) = load_incidents(store)
    assert [(o.repo, o.path) for m in incident.members for o in m.occurrences] == [
        ("acme/new", "app.yaml")
    ]
    assert [(r.repository, r.findings) for r in org.repositories()] == [("acme/new", 2)]


def test_a_previous_name_another_repository_was_recorded_under_stays_its_own(
    store: Store,
) -> None:
    """acme/a renamed to acme/b, then a new acme/a: its rows are not taken by acme/b."""
    org = OrgStore(store)
    renamed, created = "github-github.com-1", "github-github.com-2"
    run = org.open_run(R1)
    org.record_repository(run.id, renamed, "acme/a", tokens_result(T), R1, {}, [])
    org.record_repository(run.id, renamed, "acme/x", tokens_result(T, path="x.yaml"), R1, {}, [])
    org.record_repository(run.id, created, "acme/a", tokens_result(U, path="c.yaml"), R1, {}, [])
    org.record_repository(
        run.id, renamed, "acme/b", tokens_result(), R1, {}, [], previous_names=["acme/a", "acme/x"]
    )
    assert [(p[1], p[2]) for p in _places(store)] == [
        ("acme/a", "app.yaml"),
        ("acme/b", "x.yaml"),  # a name nobody else holds moves
        ("acme/a", "c.yaml"),
    ]
    targets = store.rows("SELECT target FROM scans WHERE kind = 'git' ORDER BY id")
    assert [row[0] for row in targets] == ["acme/a", "acme/b", "acme/a", "acme/b"]


def _tables(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row Store.record writes, without the columns that hold times or row ids."""
    return {
        "findings": [
            tuple(r)
            for r in store.rows(
                "SELECT fingerprint, rule_id, severity, secret_redacted, role, status "
                "FROM findings ORDER BY fingerprint"
            )
        ],
        "occurrences": [
            tuple(r)
            for r in store.rows(
                "SELECT fingerprint, repo, ref, commit_sha, path, line, col, source, author, "
                "email, date, message, blob, exposure, remote_url FROM occurrences ORDER BY id"
            )
        ],
        "bundles": [
            tuple(r)
            for r in store.rows("SELECT id, location, roles, project FROM bundles ORDER BY id")
        ],
        "bundle_members": [
            tuple(r) for r in store.rows("SELECT * FROM bundle_members ORDER BY 1, 2")
        ],
        "bundle_occurrences": [
            tuple(r) for r in store.rows("SELECT * FROM bundle_occurrences ORDER BY 1, 2")
        ],
        "scans": [tuple(r) for r in store.rows("SELECT kind, target, stats FROM scans")],
    }


def test_a_git_record_writes_what_store_record_writes(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    sha = repo.commit("add config", {"conf/app.yaml": f"developer_token: {T}\n"})
    result = scan_git(GitOptions(repo=str(repo.path), jobs=1), Engine(RULES))
    result.bundles = make_bundles(result.findings)
    with Store(tmp_path / "plain.sqlite") as plain:
        result.extra_stats["repo"] = "org/one"  # what Store.record takes a git scan's repo from
        plain.record(result, "git", "org/one")
        expected = _tables(plain)
    result.extra_stats["repo"] = str(repo.path)  # record_repository names it itself
    with Store(tmp_path / "org.sqlite") as store:
        org = OrgStore(store)
        run = org.open_run(R1)
        org.record_repository(run.id, "listed-local-one", "org/one", result, R1, {}, [])
        assert _tables(store) == expected
    (occurrence,) = expected["occurrences"]
    assert occurrence[:8] == (
        FP_T,
        "org/one",
        "refs/heads/main",
        sha,
        "conf/app.yaml",
        1,
        18,
        "git-history",
    )
    assert expected["scans"] == [("git", "org/one", '{"findings": 1, "bytes": 40}')]


@dataclass(frozen=True)
class ProjectBundle(Bundle):
    """A bundle that knows its Google Cloud project (Bundle.project, from org-incidents)."""

    @property
    def project(self) -> str | None:
        return "123456789012"


def test_bundles_keep_their_project(store: Store) -> None:
    result = tokens_result(T)
    (bundle,) = make_bundles(result.findings)
    result.bundles = [ProjectBundle(bundle.id, bundle.members)]
    store.record(result, "files", ".")
    assert [tuple(r) for r in store.rows("SELECT id, project FROM bundles")] == [
        (bundle.id, "123456789012")
    ]


def _old_store(path: Path, version: int) -> None:
    """A store as devtoken left it at schema `version`, with one finding and one bundle."""
    db = sqlite3.connect(path, isolation_level=None)
    for number in range(version):
        db.executescript(
            "BEGIN;" + MIGRATIONS[number] + f"PRAGMA user_version = {number + 1}; COMMIT;"
        )
    db.execute(
        "INSERT INTO findings (fingerprint, rule_id, severity, secret_redacted, first_seen, "
        "last_seen) VALUES (?, 'google-ads-developer-token', 'high', 'Zk3m…_g', 't0', 't0')",
        (FP_T,),
    )
    db.execute(
        "INSERT INTO occurrences (fingerprint, repo, path, line, col, source, first_seen, "
        "last_seen) VALUES (?, 'org/one', 'app.yaml', 1, 18, 'git', 't0', 't0')",
        (FP_T,),
    )
    db.execute(
        "INSERT INTO bundles (id, location, roles, first_seen, last_seen) "
        "VALUES ('b1', 'app.yaml:1', '[\"developer_token\"]', 't0', 't0')"
    )
    db.close()


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5])
def test_an_old_store_migrates_to_the_latest(tmp_path: Path, version: int) -> None:
    path = tmp_path / f"v{version}.sqlite"
    _old_store(path, version)
    with Store(path) as store:
        assert store.version == len(MIGRATIONS) == 7
        assert [tuple(r) for r in store.rows("SELECT id, project FROM bundles")] == [("b1", None)]
        org = OrgStore(store)
        assert org.repositories() == []
        run = org.open_run(R1)
        outcome = org.record_repository(
            run.id,
            "listed-local-one",
            "org/one",
            tokens_result(T),
            R1,
            {"refs/heads/main": SHA_A},
            [(BLOB_X, 0)],
        )
        assert outcome == RecordOutcome(1, frozenset())  # the old store had T already
        assert [(r["repo"], r["path"]) for r in org.open_findings(["org/one"])] == [
            ("org/one", "app.yaml")  # one occurrence: the old row and the new one are the same
        ]
        assert org.clean_blobs(R1, [BLOB_X]) == frozenset({BLOB_X})


def test_journal_entries_are_plain_records(org: OrgStore) -> None:
    run = org.open_run(R1)
    org.set_phase(run.id, "listed-local-one", "fetched", {"tips": {"refs/heads/main": SHA_A}})
    (entry,) = org.journal(run.id).values()
    assert entry == JournalEntry(
        "fetched", {"tips": {"refs/heads/main": SHA_A}}, None, entry.updated
    )


def test_a_failure_after_the_record_leaves_the_repository_recorded(org: OrgStore) -> None:
    run = org.open_run(R1)
    tips = {"refs/heads/main": SHA_A}
    org.record_repository(run.id, "listed-local-one", "org/one", tokens_result(T), R1, tips, [])
    org.mark_failed(run.id, "listed-local-one", "release: cannot delete refs/devtoken/rewritten/x")
    entry = org.journal(run.id)["listed-local-one"]
    assert (entry.phase, entry.error) == ("recorded", None)
    (row, _) = org.repositories()
    assert (row.status, row.error) == ("scanned", None)
    assert org.open_run(R1).recorded == frozenset({"listed-local-one"})
