"""Group findings that leaked together into credential bundles (offline).

A developer token is rarely alone: the client id, client secret and refresh
token of the same configuration sit next to it. Findings in the same file (or
blob, or log record) whose lines are close, and for history the same commit,
form one bundle: one incident, verified once, reset together.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from scanner.models import Finding, GitProvenance
from scanner.secret import Secret

ROLE_BY_RULE = {
    "google-ads-developer-token": "developer_token",
    "google-oauth-client-id": "client_id",
    "google-oauth-client-secret": "client_secret",
    "google-oauth-refresh-token": "refresh_token",
    "google-oauth-access-token": "access_token",
    "gcp-service-account-key": "service_account_key",
}
NEARBY_LINES = 40  # one config block or log record; farther apart means another bundle


@dataclass(frozen=True)
class Bundle:
    id: str
    members: tuple[Finding, ...]

    def secret(self, role: str) -> Secret | None:
        for finding in self.members:
            if ROLE_BY_RULE.get(finding.rule.id) == role:
                return finding.match.secret
        return None

    def attribute(self, name: str) -> str | None:
        for finding in self.members:
            for key, value in finding.match.attributes:
                if key == name:
                    return value
        return None

    @property
    def roles(self) -> list[str]:
        return sorted({ROLE_BY_RULE.get(f.rule.id, f.rule.id) for f in self.members})

    @property
    def location(self) -> str:
        first = self.members[0]
        where = f"{first.provenance.path}:{first.match.line}"
        if isinstance(first.provenance, GitProvenance) and first.provenance.commit:
            where += f" @ {first.provenance.commit.sha[:12]}"
        return where


def make_bundles(findings: Iterable[Finding], nearby: int = NEARBY_LINES) -> list[Bundle]:
    """Bundles in a stable order; every finding belongs to exactly one."""
    groups: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        groups[_place(finding)].append(finding)
    bundles = []
    for place in sorted(groups):
        members = sorted(groups[place], key=Finding.sort_key)
        cluster = [members[0]]
        for finding in members[1:]:
            if finding.match.line - cluster[-1].match.line > nearby:
                bundles.append(_bundle(cluster))
                cluster = []
            cluster.append(finding)
        bundles.append(_bundle(cluster))
    return bundles


def _place(finding: Finding) -> tuple[str, str, str]:
    provenance = finding.provenance
    commit = ""
    if isinstance(provenance, GitProvenance):
        # a dangling blob (`git --all-objects`) has no commit: the blob is the record
        commit = provenance.commit.sha if provenance.commit else provenance.blob
    return (provenance.source, provenance.path, commit)


def _bundle(members: list[Finding]) -> Bundle:
    digest = hashlib.sha256("\n".join(sorted(f.fingerprint for f in members)).encode())
    return Bundle(id=digest.hexdigest()[:16], members=tuple(members))
