"""Group findings that leaked together into credential bundles (offline).

A developer token is rarely alone: the client id, client secret and refresh
token of the same configuration sit next to it. Findings in the same file (or
blob, or log record) whose lines are close, and for history the same commit,
form one bundle: one incident, verified once, reset together. A finding's role
(developer_token, client_secret, ...) is its rule's `role` field (rules are data).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from scanner.digests import sha256
from scanner.models import Finding, GitProvenance
from scanner.rules import load_rules
from scanner.secret import Secret

NEARBY_LINES = 40  # one config block or log record; farther apart means another bundle
# Whose `project` attribute names the bundle's project first (any other role's comes after).
PROJECT_ROLES = {"client_id": 0, "service_account_key": 1}


@dataclass(frozen=True)
class Bundle:
    """Credentials that leaked together, checked and reported as one incident."""

    id: str
    members: tuple[Finding, ...]

    def secret(self, role: str) -> Secret | None:
        """The secret of the first member with this role whose rule asks to be checked."""
        for finding in self.members:
            if finding.rule.role == role and finding.rule.verify != "none":
                return finding.match.secret
        return None

    def clear_value(self, role: str) -> str | None:
        """The first member's secret of this role in clear, whatever its check (for headers)."""
        for finding in self.members:
            if finding.rule.role == role:
                return finding.match.secret.reveal()
        return None

    def attribute(self, name: str) -> str | None:
        for finding in self.members:
            for key, value in finding.match.attributes:
                if key == name:
                    return value
        return None

    @property
    def project(self) -> str | None:
        """The Google Cloud project the bundle's access follows, which org scans group by.

        The rules capture it as the `project` attribute (rules are data): an OAuth client id's
        project number, else a service-account key's project id; a client id wins because the
        refresh token and client secret beside it act through that OAuth client's project.
        """
        ranked = sorted(
            self.members, key=lambda f: PROJECT_ROLES.get(role_of(f), len(PROJECT_ROLES))
        )
        for finding in ranked:
            for key, value in finding.match.attributes:
                if key == "project" and value:
                    return value
        return None

    @property
    def roles(self) -> list[str]:
        return sorted({role_of(f) for f in self.members})

    @property
    def location(self) -> str:
        first = self.members[0]
        where = f"{first.provenance.path}:{first.match.line}"
        if isinstance(first.provenance, GitProvenance) and first.provenance.commit:
            where += f" @ {first.provenance.commit.sha[:12]}"
        return where


def role_of(finding: Finding) -> str:
    """The finding's credential role; a rule without one stands for itself."""
    return finding.rule.role or finding.rule.id


def make_bundles(findings: Iterable[Finding], nearby: int = NEARBY_LINES) -> list[Bundle]:
    """Bundles in a stable order; every finding belongs to exactly one; ids are unique.

    An id is a hash of where the bundle is (path, and commit for history) and of its members'
    fingerprints, not of its line: the same credentials in two files are two incidents, and
    code moving within a file keeps its incident.
    """
    groups: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        groups[_place(finding)].append(finding)
    bundles = []
    seen: Counter[str] = Counter()
    for place in sorted(groups):
        for cluster in _clusters(sorted(groups[place], key=Finding.sort_key), nearby):
            material = "\n".join([place[1], place[2], *sorted(f.fingerprint for f in cluster)])
            repeat = seen[material]  # the same set twice at one place: number the later ones
            seen[material] += 1
            if repeat:
                material += f"\n#{repeat}"
            digest = sha256(material.encode("utf-8", "surrogatepass")).hexdigest()
            bundles.append(Bundle(id=digest[:16], members=tuple(cluster)))
    return bundles


def _clusters(members: list[Finding], nearby: int) -> Iterator[list[Finding]]:
    """Runs of findings (sorted by line) with no gap wider than `nearby` lines."""
    cluster = [members[0]]
    for finding in members[1:]:
        if finding.match.line - cluster[-1].match.line > nearby:
            yield cluster
            cluster = []
        cluster.append(finding)
    yield cluster


def _place(finding: Finding) -> tuple[str, str, str]:
    provenance = finding.provenance
    commit = ""
    if isinstance(provenance, GitProvenance):
        # a dangling blob (`git --all-objects`) has no commit: the blob is the record
        commit = provenance.commit.sha if provenance.commit else provenance.blob
    return (provenance.source, provenance.path, commit)


class _BundledRoles(Mapping[str, str]):
    """Rule id -> role of the bundled rules, for readers that only have a stored rule id.

    Loaded on first use (TOML only, no pattern is compiled). Kept for report.model until the
    store records each finding's role.
    """

    def __getitem__(self, rule_id: str) -> str:
        return _bundled_roles()[rule_id]

    def __iter__(self) -> Iterator[str]:
        return iter(_bundled_roles())

    def __len__(self) -> int:
        return len(_bundled_roles())


@cache
def _bundled_roles() -> dict[str, str]:
    return {rule.id: rule.role for rule in load_rules() if rule.role}


ROLE_BY_RULE: Mapping[str, str] = _BundledRoles()
