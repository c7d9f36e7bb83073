"""Schema v6: bundles keep a service-account key's id, so the store's report fills the
runbook's `gcloud iam service-accounts keys delete` as a live scan does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from scanner import api
from scanner.config import ScanConfig
from scanner.render.incidents import load_incidents
from scanner.render.runbooks import incident_runbooks
from scanner.store.db import Store
from scanner.store.schema import MIGRATIONS

KEY_ID = "3f1c0e9a7b5d2e8f6a4c1b9d7e5f3a2c0b8d6e4f"
EMAIL = "ads-report@ads-reporting-4411.iam.gserviceaccount.com"
SA_KEY = (
    f'{{"type": "service_account", "project_id": "ads-reporting-4411", "private_key_id": "{KEY_ID}",'
    ' "private_key": "-----BEGIN PRIVATE KEY-----\\nq7Rk2VbXw9LmTz4NcPa8sJd1FgHy6Ue3Io5KtQ0rWnEx\\n'
    f'-----END PRIVATE KEY-----\\n", "client_email": "{EMAIL}"}}\n'
)
DELETE = f"gcloud iam service-accounts keys delete {KEY_ID} --iam-account={EMAIL}"


def _record(tree: Path, store: Path) -> None:
    config = api.Config(scan=ScanConfig(paths=(str(tree),), jobs=1))
    reviewed = api.review(api.scan_paths(config), config, "files", str(tree))
    with api.open_store(str(store), create=True) as db:
        api.record(reviewed, db)


def _v5_store(path: Path) -> None:
    """A store as devtoken left it at schema 5 (bundles with no private_key_id column)."""
    db = sqlite3.connect(path, isolation_level=None)
    for number in range(5):
        db.executescript(
            "BEGIN;" + MIGRATIONS[number] + f"PRAGMA user_version = {number + 1}; COMMIT;"
        )
    db.close()


def _delete_command(store: Path) -> str:
    with Store(store) as db:
        (incident,) = load_incidents(db)
    (book,) = [b for b in incident_runbooks(incident) if b.role == "service_account_key"]
    return book.commands[1]


def test_a_recorded_key_id_fills_the_store_s_runbook(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "sa.json").write_text(SA_KEY)
    _record(tree, tmp_path / "s.sqlite")
    with Store(tmp_path / "s.sqlite") as db:
        assert [tuple(r) for r in db.rows("SELECT private_key_id FROM bundles")] == [(KEY_ID,)]
    assert _delete_command(tmp_path / "s.sqlite") == DELETE


def test_a_v5_store_migrates_and_its_bundles_gain_the_key_id_when_seen_again(
    tmp_path: Path,
) -> None:
    store = tmp_path / "v5.sqlite"
    _v5_store(store)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "sa.json").write_text(SA_KEY)
    with sqlite3.connect(store) as db:  # the v5 devtoken recorded this bundle (no key id)
        db.execute(
            "INSERT INTO bundles (id, location, roles, client_email, first_seen, last_seen) "
            "VALUES ('b0', 'old.json:1', '[\"service_account_key\"]', ?, 't0', 't0')",
            (EMAIL,),
        )
    with Store(store) as db:
        assert db.version == len(MIGRATIONS) == 7
        rows = db.rows("SELECT id, private_key_id FROM bundles")
        assert [tuple(r) for r in rows] == [("b0", None)]
    _record(tree, store)
    with Store(store) as db:
        rows = db.rows("SELECT location, private_key_id FROM bundles")
        assert sorted((r[0].rsplit("/", 1)[-1], r[1]) for r in rows) == [
            ("old.json:1", None),
            ("sa.json:1", KEY_ID),
        ]


def test_a_bundle_recorded_before_gains_its_key_id_when_recorded_again(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "sa.json").write_text(SA_KEY)
    store = tmp_path / "s.sqlite"
    _record(tree, store)
    with Store(store) as db:  # as a v5 store migrated to v6 holds it: no key id yet
        db.execute("UPDATE bundles SET private_key_id = NULL")
    assert (
        _delete_command(store)
        == f"gcloud iam service-accounts keys delete KEY_ID --iam-account={EMAIL}"
    )
    _record(tree, store)
    assert _delete_command(store) == DELETE
