"""What `devtoken org` prints: JSON (the contract), text, SARIF and the HTML report.

`findings` lists every open finding of the run's repositories, so a nightly report is
complete when nothing is new. Each is the same record `devtoken git` gives
(render/records.finding_record): for what this run found, from the live finding; for what
an earlier run found, rebuilt from the store (which never holds a clear secret); plus
`repository` and `new`, and the stored bundle, verification and triage status.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from scanner import __version__
from scanner.digests import sha256
from scanner.exits import EXIT_CLEAN, EXIT_FINDINGS
from scanner.models import CommitInfo, Finding, GitProvenance, Match, Skipped, TagInfo
from scanner.org.tasks import RedactedFinding, RedactedSecret
from scanner.render.records import SCHEMA_VERSION, finding_record

if TYPE_CHECKING:
    from scanner.org.incidents import OrgIncident
    from scanner.org.run import OrgRun
    from scanner.render.incidents import Incident, IncidentMember, StoredOccurrence
    from scanner.rules import Rule
    from scanner.store.db import Store

EXIT_FAILED_REPOSITORIES = 4  # --fail-on-error: some repositories could not be scanned
FORMATS = ("text", "json", "sarif", "html")
_Key = tuple[str, str, str, str, int]  # fingerprint, repository, commit, path, line


@dataclasses.dataclass(frozen=True)
class Report:
    """A finished run read back with the store: its records and its incidents."""

    run: OrgRun
    findings: list[dict[str, Any]]
    incidents: list[Incident]
    rules: tuple[Rule, ...] = ()
    org_incidents: tuple[OrgIncident, ...] = ()  # the incidents joined across repositories
    previous_run: str = ""  # when the org run before this one began ("" for the first)


def build_report(run: OrgRun, store: Store, rules: Sequence[Rule]) -> Report:
    from scanner.org.incidents import org_incidents
    from scanner.org.run import incidents_of_run

    incidents = [_marked(i, run) for i in incidents_of_run(store, run)]
    records = finding_records(run, store, incidents, rules)
    joined = tuple(org_incidents(incidents, run.new_fingerprints))
    before = store.rows("SELECT MAX(started) AS started FROM org_runs WHERE id < ?", run.run_id)
    previous = str(before[0]["started"] or "")
    return Report(run, records, incidents, tuple(rules), joined, previous)


def finding_records(
    run: OrgRun, store: Store, incidents: Sequence[Incident], rules: Sequence[Rule]
) -> list[dict[str, Any]]:
    """One record per place an open finding of the run's repositories was seen."""
    current = {name: r.repository for r in run.repositories for name in r.names}
    names = set(current)
    blobs = _blobs(store, names)
    live = {_live_key(f, repository): f for repository, fs in run.found.items() for f in fs}
    by_id = {rule.id: rule for rule in rules}
    records: dict[_Key, dict[str, Any]] = {}
    for incident in incidents:
        for member in incident.members:
            if member.status != "open":
                continue
            for seen in member.occurrences:
                if seen.repo not in names:
                    continue
                key = (member.fingerprint, seen.repo, seen.commit, seen.path, seen.line)
                if key in records:
                    continue
                checked = {"bundle": incident.id, "verification": member.verification}
                finding = live.get(key)
                if finding is not None:
                    record = finding_record(finding, False, checked)
                else:
                    rebuilt = _rebuilt(member, seen, blobs.get(key, ""), by_id)
                    record = finding_record(rebuilt, False, checked)
                    if seen.exposure:
                        record["exposure"] = seen.exposure
                record.update(  # severity: what the rule says now (finding_record)
                    repository=current[seen.repo],
                    new=member.fingerprint in run.new_fingerprints,
                    status=member.status,
                    first_seen=member.first_seen,
                    last_seen=member.last_seen,
                )
                records[key] = record
    return [records[k] for k in sorted(records, key=lambda k: (k[1], k[3], k[4], k[0], k[2]))]


def document(report: Report) -> dict[str, Any]:
    """The `--format json` document (issue 10): findings, repositories, incidents, stats."""
    run = report.run
    current = {name: r.repository for r in run.repositories for name in r.names}
    stats = run.stats()
    stats.update(
        findings=len(report.findings),
        findings_new=sum(bool(r["new"]) for r in report.findings),
        incidents=len(report.org_incidents),
        incidents_new=sum(o.new for o in report.org_incidents),
        bundles=len(report.incidents),
    )
    return {
        "version": __version__,
        "schema_version": SCHEMA_VERSION,
        "findings": report.findings,
        "repositories": [r.record() for r in run.repositories],
        "incidents": [_org_record(o, current, run) for o in report.org_incidents],
        "deleted": [{"key": m.key, "name": m.full_name, "url": m.url} for m in run.deleted],
        "source_errors": [{"source": s, "error": e} for s, e in run.source_errors],
        "respond": list(run.respond_log),
        "stats": stats,
    }


def render(report: Report, fmt: str, store_name: str = "") -> str:
    if fmt == "json":
        return json.dumps(document(report), indent=2) + "\n"
    if fmt == "sarif":
        return sarif(report)
    if fmt == "html":
        from scanner.render import render_store

        return render_store(list(report.incidents), "html", store_name, report.previous_run)
    return text(report)


def skipped_blobs(report: Report) -> list[Skipped]:
    """What each repository's scan could not read whole, named `repository: path`."""
    return [
        dataclasses.replace(item, path=f"{repo.repository}: {item.path or '(no path)'}")
        for repo in report.run.repositories
        for item in repo.skipped
    ]


def summary(report: Report) -> str:
    run, stats = report.run, report.run.stats()
    new = sum(bool(r["new"]) for r in report.findings)
    skipped = sum(stats["skipped_by_reason"].values())
    parts = [
        f"{stats['repositories']} repositories: {stats['repositories_scanned']} scanned, "
        f"{stats['repositories_unchanged']} unchanged, {stats['repositories_failed']} failed",
        f"{stats['blobs_scanned']} blob(s) scanned ({stats['blobs_skipped_known']} known clean)"
        + (f", {skipped} not read whole" if skipped else ""),
        f"{len(report.findings)} open finding(s), {new} new",
        f"{len(report.org_incidents)} incident(s), {sum(o.new for o in report.org_incidents)} new",
    ]
    if run.deleted:
        parts.append(f"{len(run.deleted)} deleted")
    if run.source_errors:
        parts.append(f"{len(run.source_errors)} source(s) failed to list")
    return f"devtoken org: {'; '.join(parts)}; {stats['duration_seconds']:.1f}s"


def text(report: Report) -> str:
    from scanner.render.escape import visible
    from scanner.render.refs import refs_summary
    from scanner.secret import short_fingerprint

    out: list[str] = []
    for record in report.findings:
        where = record["path"] or _message_place(record)
        flag = " NEW" if record["new"] else ""
        out.append(
            f"{visible(record['repository'])}: {visible(where)}:{record['line']}:"
            f"{record['column']}: {visible(record['severity'].upper())} "
            f"{visible(record['rule_id'])} {visible(record['secret_redacted'])} "
            f"(fingerprint {short_fingerprint(str(record['fingerprint']))}){flag}\n"
        )
        if record.get("commit"):
            out.append(
                f"    in {record['commit'][:12]} by {visible(str(record.get('author', '')))}"
                f" on {visible(str(record.get('date', '')))}\n"
            )
        exposure = record.get("exposure") or {}
        if exposure.get("rewritten"):
            out.append("    in rewritten-away history: only commits a force-push dropped hold it\n")
        elif exposure.get("still_present_in"):
            branches = refs_summary([str(b) for b in exposure["still_present_in"]])
            out.append(f"    still present in {visible(branches)}\n")
        status = record.get("verification", {}).get("status", "skipped")
        if status != "skipped":
            out.append(f"    verification: {visible(status.upper())}\n")
    for repo in report.run.failed:
        out.append(f"FAILED {visible(repo.repository)}: {visible(repo.error or '')}\n")
    for source, error in report.run.source_errors:
        out.append(f"SOURCE FAILED {visible(source)}: {visible(error)}\n")
    out.append(visible(summary(report)) + "\n")
    return "".join(out)


def _message_place(record: dict[str, Any]) -> str:
    """What holds a finding without a path: a tag's message (the live record names the
    tag), else a commit's."""
    if record.get("in") == "tag-message" and record.get("tag"):
        return f"tag message of {str(record['tag']).removeprefix('refs/tags/')}"
    return f"commit message of {str(record.get('commit', ''))[:12]}"


def sarif(report: Report, remote: str = "") -> str:
    """One SARIF run; each result names its repository in `properties` (and `new`), and
    a run of one repository (`remote`) names it in versionControlProvenance."""
    from scanner.render.sarif import (
        RuleDescriptor,
        SarifFinding,
        history_properties,
        sarif_log,
        version_control,
    )

    findings = [
        SarifFinding(
            rule_id=r["rule_id"],
            severity=r["severity"],
            message=f"{r['rule_name']} {r['secret_redacted']} in {r['repository']}: {r['why']}",
            path=r["path"],
            line=r["line"],
            column=r["column"],
            fingerprint=r["fingerprint"],
            properties={
                "repository": r["repository"],
                "new": r["new"],
                "bundle": r.get("bundle"),
                "verification": r.get("verification", {}).get("status"),
                **({"commit": r["commit"]} if r.get("commit") else {}),
                **history_properties(r),
            },
        )
        for r in report.findings
    ]
    descriptors = [RuleDescriptor.of(rule) for rule in report.rules]
    provenance = version_control({"remote_url": remote}) if remote else None
    return json.dumps(sarif_log(descriptors, findings, provenance), indent=2) + "\n"


def per_repository(report: Report) -> dict[str, tuple[str, str]]:
    """File stem -> (JSON, SARIF) for each repository of the run: what a team uploads to
    that repository's code scanning. A repository with no open finding gets empty ones
    (so code scanning closes its alerts). The stem is the repository's name made safe
    for a file name, plus a short hash of the name so two names never share a file."""
    files: dict[str, tuple[str, str]] = {}
    for repository in report.run.repositories:
        names = set(repository.names)
        mine = dataclasses.replace(
            report, findings=[r for r in report.findings if r["repository"] in names]
        )
        doc = {
            "version": __version__,
            "schema_version": SCHEMA_VERSION,
            "repository": repository.record(),
            "findings": mine.findings,
            "stats": {
                "findings": len(mine.findings),
                "findings_new": sum(bool(r["new"]) for r in mine.findings),
                "blobs_scanned": repository.blobs_scanned,
            },
        }
        files[_file_stem(repository.repository)] = (
            json.dumps(doc, indent=2) + "\n",
            sarif(mine, repository.url),
        )
    return files


def _file_stem(name: str) -> str:
    digest = sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", name.split("://", 1)[-1]).strip("._")[:80]
    return f"{readable or 'repository'}-{digest}"


def exit_code(report: Report, fail_on: str = "any", fail_on_error: bool = False) -> int:
    """1 on findings (`new`: only new ones; `live`: only live ones; `none`: never), 0 clean;
    4 with `fail_on_error` when a repository or a source failed."""
    run = report.run
    if fail_on_error and (run.failed or run.source_errors):
        return EXIT_FAILED_REPOSITORIES
    if fail_on == "none":
        return EXIT_CLEAN
    if fail_on == "new":
        chosen = [r for r in report.findings if r["new"]]
    elif fail_on == "live":
        chosen = [r for r in report.findings if r["verification"]["status"] == "live"]
    else:
        chosen = report.findings
    return EXIT_FINDINGS if chosen else EXIT_CLEAN


def _org_record(joined: OrgIncident, current: dict[str, str], run: OrgRun) -> dict[str, Any]:
    """One incident of the organisation: its Cloud project, repositories, credentials and
    the store incidents (bundles: one place each) it joins."""
    return {
        "id": joined.id,
        "project": joined.project,
        "projects": list(joined.projects),
        "repositories": sorted({current.get(r, r) for r in joined.repositories}),
        "fingerprints": list(joined.fingerprints),
        "severity": joined.severity,
        "new": joined.new,
        "newly_live": any(i.id in run.newly_live for i in joined.incidents),
        "bundles": [_incident_record(i, current, run) for i in joined.incidents],
    }


def _incident_record(incident: Incident, current: dict[str, str], run: OrgRun) -> dict[str, Any]:
    return {
        "id": incident.id,
        "location": incident.location,
        "roles": list(incident.roles),
        "members": [m.fingerprint for m in incident.members],
        "verification": incident.verification,
        "severity": incident.severity,
        "status": incident.status,
        "repositories": sorted({current[r] for r in incident.repositories if r in current}),
        "new": any(m.fingerprint in run.new_fingerprints for m in incident.members),
        "newly_live": incident.id in run.newly_live,
    }


def _marked(incident: Incident, run: OrgRun) -> Incident:
    """The incident marked `new` when a member was first seen in this run (the report
    highlights it)."""
    if any(m.fingerprint in run.new_fingerprints for m in incident.members):
        return dataclasses.replace(incident, new=True)
    return incident


def _live_key(finding: Finding, repository: str) -> _Key:
    provenance = finding.provenance
    commit = (
        provenance.commit.sha if isinstance(provenance, GitProvenance) and provenance.commit else ""
    )
    return (finding.fingerprint, repository, commit, provenance.path, finding.match.line)


def _blobs(store: Store, names: set[str]) -> dict[_Key, str]:
    """Blob ids of the stored occurrences (the incidents view leaves them out)."""
    found: dict[_Key, str] = {}
    for row in store.rows(
        "SELECT fingerprint, repo, commit_sha, path, line, blob FROM occurrences"
    ):
        if row["repo"] in names:
            key = (row["fingerprint"], row["repo"], row["commit_sha"], row["path"], row["line"])
            found[key] = row["blob"]
    return found


def _rebuilt(
    member: IncidentMember, seen: StoredOccurrence, blob: str, rules: dict[str, Rule]
) -> Finding:
    """A finding from what the store kept: redacted secret, place, commit; the rule by id."""
    rule = rules.get(member.rule_id) or _stand_in(member, rules)
    commit = (
        CommitInfo(seen.commit, seen.author, seen.email, seen.date, seen.message)
        if seen.commit
        else None
    )
    tag = _stored_tag(seen.exposure)
    message = "tag-message" if tag else "commit-message"
    provenance = GitProvenance(
        path=seen.path,
        source=seen.source,
        blob=blob,
        commit=commit,
        location=message if seen.commit and not seen.path and not blob else "blob",
        tag=tag,
    )
    secret = RedactedSecret(member.secret_redacted)
    match = Match(rule, secret, 0, seen.line, seen.column, "", "", "")
    return RedactedFinding(match, provenance, member.fingerprint)


def _stored_tag(exposure: dict[str, Any] | None) -> TagInfo | None:
    """The annotated tag a stored exposure window names (a tag message's), else None."""
    stored = (exposure or {}).get("tag")
    if not isinstance(stored, dict):
        return None
    keys = ("tag", "tag_object", "tagger", "tagger_email", "tagger_date", "tagged_commit")
    return TagInfo(*(str(stored.get(key, "")) for key in keys))


def _stand_in(member: IncidentMember, rules: dict[str, Rule]) -> Rule:
    """A rule no longer loaded (the rules changed since): only its id and severity are known."""
    template = next(iter(rules.values()))
    return dataclasses.replace(
        template,
        id=member.rule_id,
        name=member.rule_id,
        severity=member.severity,
        role=member.role,
        description="",
        why="",
    )
