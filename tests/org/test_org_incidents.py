"""org_incidents: store incidents joined over shared credentials and Cloud projects."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.org.incidents import OrgIncident, incident_project, org_incident_id, org_incidents
from scanner.render.incidents import Incident, IncidentMember, StoredOccurrence, load_incidents
from scanner.store.db import Store
from tests.gitrepo import Repo

TOKEN_FP = "a" * 64
OTHER_FP = "b" * 64
CLIENT_ONE = "278534944592-6vb…g3"  # how the store keeps a client id (redact_keep 16)
CLIENT_TWO = "278534944592-q8w…h0"


@dataclass(frozen=True)
class ProjectIncident(Incident):
    """An incident as the store gives it once it keeps `Bundle.project`."""

    project: str | None = None


def place(repo: str, line: int = 1, commit: str = "c" * 40) -> StoredOccurrence:
    return StoredOccurrence(
        repo, "app.yaml", line, 1, "git-history", commit, "A", "a@example.com", "", "", None, None
    )


def member(
    fingerprint: str,
    *places: StoredOccurrence,
    role: str = "developer_token",
    redacted: str = "Qm3x…A1",
    severity: str = "high",
) -> IncidentMember:
    return IncidentMember(
        fingerprint, f"rule-{role}", role, severity, redacted, "open", "2026-01-01", "2026-01-02",
        {"status": "skipped"}, places,
    )  # fmt: skip


def incident(
    bundle_id: str, *members: IncidentMember, project: str | None = None, email: str | None = None
) -> Incident:
    return ProjectIncident(
        bundle_id, "app.yaml:1", tuple(sorted({m.role for m in members})), members,
        {"status": "skipped"}, None, email, "2026-01-01", project=project,
    )  # fmt: skip


def credentials_id(*fingerprints: str) -> str:
    material = "\n".join(["credentials", *sorted(fingerprints)])
    return "org-" + hashlib.sha256(material.encode()).hexdigest()[:16]


def project_id(*projects: str) -> str:
    material = "\n".join(["project", *sorted(projects)])
    return "org-" + hashlib.sha256(material.encode()).hexdigest()[:16]


def summary(joined: list[OrgIncident]) -> list[tuple[str, str | None, list[str], bool]]:
    return [(o.id, o.project, [i.id for i in o.incidents], o.new) for o in joined]


def test_the_same_credential_in_12_repositories_is_one_incident_with_12_occurrences() -> None:
    repos = [f"acme/service-{n:02d}" for n in range(12)]
    found = [
        incident(f"bundle{n:02d}", member(TOKEN_FP, place(r)))
        for n, r in enumerate(reversed(repos))
    ]
    (joined,) = org_incidents(found)
    assert joined.id == credentials_id(TOKEN_FP)
    assert joined.project is None and joined.projects == ()
    assert joined.repositories == tuple(repos)
    assert [o.repo for o in joined.occurrences] == repos
    assert len(joined.incidents) == 12
    assert joined.fingerprints == (TOKEN_FP,)
    assert joined.new is False


def test_two_client_ids_of_one_project_are_one_incident() -> None:
    one = incident("b1", member(TOKEN_FP, place("acme/a")), project="278534944592")
    two = incident("b2", member(OTHER_FP, place("acme/b")), project="278534944592")
    (joined,) = org_incidents([one, two])
    assert summary([joined]) == [(project_id("278534944592"), "278534944592", ["b1", "b2"], False)]
    assert joined.repositories == ("acme/a", "acme/b")
    assert joined.fingerprints == (TOKEN_FP, OTHER_FP)


def test_without_a_stored_project_the_redacted_client_id_still_names_its_project() -> None:
    """Bundles recorded before the store kept projects: the kept prefix is the project number."""
    one = incident("b1", member(TOKEN_FP, place("acme/a"), role="client_id", redacted=CLIENT_ONE))
    two = incident("b2", member(OTHER_FP, place("acme/b"), role="client_id", redacted=CLIENT_TWO))
    assert [incident_project(i) for i in (one, two)] == ["278534944592", "278534944592"]
    assert summary(org_incidents([one, two])) == [
        (project_id("278534944592"), "278534944592", ["b1", "b2"], False)
    ]


def test_a_service_account_address_names_its_project_only_under_iam() -> None:
    under = incident("b1", member(TOKEN_FP), email="ci@ads-sync-prod.iam.gserviceaccount.com")
    beyond = incident("b2", member(TOKEN_FP), email="ci@ads-sync-prod.iam.gserviceaccount.com.x.io")
    mail = incident("b3", member(TOKEN_FP), email="ci@example.com")
    assert [incident_project(i) for i in (under, beyond, mail)] == ["ads-sync-prod", None, None]


def test_unrelated_credentials_stay_separate_and_the_new_one_comes_first() -> None:
    old = incident("b1", member(TOKEN_FP, place("acme/a")))
    fresh = incident("b2", member(OTHER_FP, place("acme/b"), severity="low"), project="p-fresh1")
    joined = org_incidents([old, fresh], new_fingerprints={OTHER_FP})
    assert summary(joined) == [
        (project_id("p-fresh1"), "p-fresh1", ["b2"], True),
        (credentials_id(TOKEN_FP), None, ["b1"], False),
    ]


def test_a_shared_credential_joins_projects_transitively() -> None:
    """A token used with two OAuth clients links both projects (and a third bundle of one)."""
    first = incident("b1", member(TOKEN_FP, place("acme/a")), project="111111111111")
    second = incident("b2", member(TOKEN_FP, place("acme/b")), project="222222222222")
    third = incident("b3", member(OTHER_FP, place("acme/c")), project="222222222222")
    alone = incident("b4", member("c" * 64, place("acme/d")), project="333333333333")
    joined = org_incidents([third, alone, first, second])
    assert summary(joined) == sorted(
        [
            (project_id("111111111111", "222222222222"), "111111111111", ["b1", "b2", "b3"], False),
            (project_id("333333333333"), "333333333333", ["b4"], False),
        ],
        key=lambda row: row[0],
    )
    assert joined[[o.project for o in joined].index("111111111111")].projects == (
        "111111111111",
        "222222222222",
    )


def test_ids_and_order_do_not_depend_on_the_input_order() -> None:
    found = [
        incident("b1", member(TOKEN_FP, place("acme/a"))),
        incident("b2", member(TOKEN_FP, place("acme/b"))),
        incident("b3", member(OTHER_FP, place("acme/c")), project="p-other1"),
    ]
    assert summary(org_incidents(found)) == summary(org_incidents(list(reversed(found))))


def test_a_project_keeps_its_id_when_a_new_leak_of_it_joins() -> None:
    before = [incident("b1", member(TOKEN_FP, place("acme/a")), project="278534944592")]
    after = [*before, incident("b2", member(OTHER_FP, place("acme/z")), project="278534944592")]
    (yesterday,) = org_incidents(before)
    (today,) = org_incidents(after, new_fingerprints=[OTHER_FP])
    assert today.id == yesterday.id == org_incident_id(["278534944592"], [])
    assert (today.new, today.fingerprints) == (True, (TOKEN_FP, OTHER_FP))


def test_one_place_seen_through_two_bundles_counts_once() -> None:
    same = place("acme/a")
    joined = org_incidents(
        [incident("b1", member(TOKEN_FP, same)), incident("b2", member(TOKEN_FP, same))]
    )
    assert [len(o.occurrences) for o in joined] == [1]


def test_no_incidents_no_org_incidents() -> None:
    assert org_incidents([]) == []


def test_the_store_read_back_joins_one_token_leaked_in_12_repositories(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    """Real repositories, real `devtoken git --store`: 12 bundles, one org incident."""
    store = tmp_path / "s.sqlite"
    for n in range(12):
        repo = Repo(tmp_path / f"service-{n:02d}")
        repo.commit(
            f"configure service {n}", {"app.yaml": "developer_token: Zk3mQ9vTb2LxWc7RnP4s_g\n"}
        )
        assert cli("git", str(repo.path), "--store", str(store), "--quiet").code == 1
    with Store(store) as db:
        found = load_incidents(db)
    (joined,) = org_incidents(found)
    assert len(found) == 12 and len(joined.incidents) == 12
    assert [Path(r).name for r in joined.repositories] == [f"service-{n:02d}" for n in range(12)]
    assert len(joined.occurrences) == 12
    assert joined.id == credentials_id(*joined.fingerprints) and len(joined.fingerprints) == 1


def test_the_store_read_back_joins_two_client_ids_of_one_project(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    clients = {
        "web": "278534944592-6vbtcjbs73z4z61numlhm5zme0k1y5g3.apps.googleusercontent.com",
        "batch": "278534944592-q8w2e4r6t8y0u2i4o6p8a0s2d4f6g8h0.apps.googleusercontent.com",
        "other": "617384920183-q8w2e4r6t8y0u2i4o6p8a0s2d4f6g8h0.apps.googleusercontent.com",
    }
    for name, client_id in clients.items():
        repo = Repo(tmp_path / name)
        repo.commit("oauth", {"ads.yaml": f"client_id: {client_id}\n"})
        cli("git", str(repo.path), "--store", str(store), "--quiet")
    with Store(store) as db:
        joined = org_incidents(load_incidents(db))
    assert sorted(
        (o.id, o.project, [Path(r).name for r in o.repositories]) for o in joined
    ) == sorted(
        [
            (project_id("278534944592"), "278534944592", ["batch", "web"]),
            (project_id("617384920183"), "617384920183", ["other"]),
        ]
    )


@dataclass(frozen=True)
class RunIncident(ProjectIncident):
    """An incident its caller already marked as first seen in this run."""

    new: bool = False


def test_an_incident_marked_new_by_its_caller_makes_its_org_incident_new() -> None:
    fresh = RunIncident(
        "b1", "app.yaml:1", ("developer_token",), (member(TOKEN_FP),), {}, None, None, "", new=True
    )
    old = incident("b2", member(TOKEN_FP, place("acme/b")))
    assert summary(org_incidents([old, fresh])) == [
        (credentials_id(TOKEN_FP), None, ["b1", "b2"], True)
    ]


def test_the_store_keeps_a_service_account_keys_project_id_for_the_org_view(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    """Only `Bundle.project` at scan time knows a key's project_id (the store keeps no key)."""
    store = tmp_path / "s.sqlite"
    bodies = {
        "etl": "q7Rk2VbXw9LmTz4NcPa8sJd1FgHy6Ue3Io5KtQ0rWnEx",
        "bidder": "Ur5TnWq2Xe8Lb3Kd9Fm1Pz7Hc4Vy6Ga0Js5Qo2Mi8Ew",
    }
    for name, body in bodies.items():
        repo = Repo(tmp_path / name)
        key = f"-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n"
        text = f'{{"type": "service_account", "project_id": "ads-reporting-4411", "private_key": "{key}"}}\n'
        repo.commit("key", {"sa.json": text})
        assert cli("git", str(repo.path), "--store", str(store), "--quiet").code == 1
    with Store(store) as db:
        found = load_incidents(db)
    assert [(i.project, i.client_email) for i in found] == [("ads-reporting-4411", None)] * 2
    (joined,) = org_incidents(found)
    assert (joined.id, joined.project) == (project_id("ads-reporting-4411"), "ads-reporting-4411")
    assert [Path(r).name for r in joined.repositories] == ["bidder", "etl"]
