"""Incidents across an organisation: one per Google Cloud project where the evidence allows.

A store incident is one credential bundle in one place (file, commit). Across many
repositories the same credential leaks again and again, and the credentials of one
Cloud project (which, since 2026-09-09, is what carries Google Ads API access) are reset
together, so the org view joins store incidents that share a credential (fingerprint)
or a project: the connected components of that graph.

Ids are stable across runs: a component with a project is named by its project(s), so a
project's incident keeps its id (and its history in reports) as more leaks of it turn
up; one without is named by its sorted credential fingerprints, the only identity it has.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from scanner.digests import sha256
from scanner.render.incidents import SEVERITY_ORDER, Incident, StoredOccurrence

_CLIENT_ID_PREFIX = re.compile(r"([0-9]{6,})-")  # the kept part of a redacted client id
_SA_ADDRESS = re.compile(r"[^@]+@([a-z][a-z0-9\-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com")


@dataclass(frozen=True)
class OrgIncident:
    """Store incidents joined by a shared credential or project; `new`: a member credential
    was first seen in this run (in `new_fingerprints`, or its incident says `new`)."""

    id: str
    project: str | None  # the first of `projects`
    incidents: tuple[Incident, ...]
    repositories: tuple[str, ...]  # sorted
    new: bool
    projects: tuple[str, ...] = field(default=())  # sorted; several when a credential joins them

    @property
    def fingerprints(self) -> tuple[str, ...]:
        """Every credential of the incident, sorted: what changes when it gains a leak."""
        return tuple(sorted({m.fingerprint for i in self.incidents for m in i.members}))

    @property
    def occurrences(self) -> tuple[StoredOccurrence, ...]:
        """Every place one of its credentials was seen, each once, sorted by repository."""
        unique = {
            (o.repo, o.commit, o.path, o.line, o.column, m.fingerprint): o
            for i in self.incidents
            for m in i.members
            for o in m.occurrences
        }
        return tuple(unique[key] for key in sorted(unique))

    @property
    def severity(self) -> str:
        return max((i.severity for i in self.incidents), key=lambda s: SEVERITY_ORDER.get(s, 0))


def org_incidents(
    incidents: Sequence[Incident], new_fingerprints: Collection[str] = ()
) -> list[OrgIncident]:
    """The connected components of `incidents` over shared fingerprints and projects.

    Sorted new first, then by severity, then by id, so a report reads the same every run.
    """
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    projects = [incident_project(incident) for incident in incidents]
    for index, incident in enumerate(incidents):
        own = find(f"i:{index}")
        keys = [f"f:{m.fingerprint}" for m in incident.members]
        if projects[index]:
            keys.append(f"p:{projects[index]}")
        for key in keys:
            parent[find(key)] = own
    components: dict[str, list[int]] = {}
    for index in range(len(incidents)):
        components.setdefault(find(f"i:{index}"), []).append(index)
    new = frozenset(new_fingerprints)
    joined = [
        _org_incident(
            [incidents[i] for i in members], {p for i in members if (p := projects[i])}, new
        )
        for members in components.values()
    ]
    joined.sort(key=lambda o: (not o.new, -SEVERITY_ORDER.get(o.severity, 0), o.id))
    return joined


def _org_incident(members: list[Incident], projects: set[str], new: frozenset[str]) -> OrgIncident:
    members.sort(key=lambda i: (i.first_seen, i.id))
    named = sorted(projects)
    fingerprints = sorted({m.fingerprint for i in members for m in i.members})
    repositories = {o.repo for i in members for m in i.members for o in m.occurrences if o.repo}
    return OrgIncident(
        id=org_incident_id(named, fingerprints),
        project=named[0] if named else None,
        incidents=tuple(members),
        repositories=tuple(sorted(repositories)),
        new=any(fp in new for fp in fingerprints) or any(getattr(i, "new", False) for i in members),
        projects=tuple(named),
    )


def org_incident_id(projects: Sequence[str], fingerprints: Sequence[str]) -> str:
    """`org-` + 16 hex: of the sorted projects when there are any, else of the fingerprints.

    The kind is hashed in, so a project can never be named like a credential set.
    """
    if projects:
        material = "\n".join(["project", *sorted(projects)])
    else:
        material = "\n".join(["credentials", *sorted(fingerprints)])
    return "org-" + sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def incident_project(incident: Incident) -> str | None:
    """The incident's Cloud project: the store's (`Bundle.project` at scan time).

    A bundle recorded before the store kept projects has none; then what the store does
    keep stands in: the project number a redacted client id still shows, else the project
    part of the service account's iam.gserviceaccount.com address.
    """
    project: str | None = getattr(incident, "project", None)
    if project:
        return project
    for member in incident.members:
        if member.role == "client_id" and (kept := _CLIENT_ID_PREFIX.match(member.secret_redacted)):
            return kept.group(1)
    if incident.client_email and (address := _SA_ADDRESS.fullmatch(incident.client_email)):
        return address.group(1)
    return None
