"""The terminal report of a live scan, and the pre-commit hook's short form.

Every field that came from scanned content goes through `visible`.
"""

from __future__ import annotations

from collections import Counter

from scanner.models import GitProvenance, Provenance
from scanner.render.escape import visible
from scanner.render.records import member_verifications
from scanner.secret import short_fingerprint

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any

    from scanner.render import RenderOptions
    from scanner.scan import ScanResult


def render_scan(result: ScanResult, options: RenderOptions) -> str:
    return text(result, options.show_secrets, options.explain)


def text(result: ScanResult, show_secrets: bool, explain: bool) -> str:
    """One entry per finding (and per suppressed match with `explain`), then the summary."""
    out: list[str] = []
    verifications = member_verifications(result)
    for finding in result.findings:
        match, rule = finding.match, finding.rule
        shown = match.secret.reveal() if show_secrets else match.secret.redacted
        out.append(
            f"{visible(place(finding.provenance))}:{match.line}:{match.column}: "
            f"{visible(rule.severity.upper())} {visible(rule.id)} {visible(shown)} "
            f"(fingerprint {short_fingerprint(finding.fingerprint)})\n"
            f"    {visible(rule.name)}: {visible(rule.why)}\n"
        )
        out.extend(f"    {visible(line)}\n" for line in history_lines(finding.provenance))
        checked = verifications.get(finding.fingerprint)
        if checked and checked["verification"]["status"] != "skipped":
            out.append(f"    {visible(verification_line(checked['verification']))}\n")
    if explain:
        for item in result.suppressed:
            out.append(
                f"{visible(place(item.provenance))}:{item.match.line}:{item.match.column}: "
                f"suppressed {visible(item.match.rule.id)} {visible(item.match.secret.redacted)}: "
                f"{visible(item.reason)}\n"
            )
    out.append(visible(summary(result)) + "\n")
    return "".join(out)


def place(provenance: Provenance) -> str:
    """Where a finding is, for a person: its path, or for history what holds it when no path
    does (a commit or tag message, a blob no ref reaches), so no line starts with a bare
    `:1:26:`."""
    if not isinstance(provenance, GitProvenance):
        return provenance.path
    if provenance.location == "commit-message":
        commit = provenance.exposure.introduced.sha[:12] if provenance.exposure else "?"
        return f"commit message of {commit}"
    if provenance.location == "tag-message":
        return f"tag message of {tag_name(provenance.tag.name if provenance.tag else '?')}"
    where = provenance.path or f"unreachable blob {provenance.blob[:12]}"
    if provenance.unreachable and provenance.path:
        where += " (unreachable)"
    elif provenance.exposure and provenance.exposure.rewritten:
        where += " (in rewritten-away history)"
    return where


def tag_name(ref: str) -> str:
    """A tag as people name it: `v1.0` for refs/tags/v1.0."""
    return ref.removeprefix("refs/tags/")


def verification_line(record: dict[str, Any]) -> str:
    line = f"verification: {record['status'].upper()}: {record['reason']}"
    reach = record.get("reach")
    if reach:
        line += f"; opens customer(s) {', '.join(reach)}"
    return line


def history_lines(provenance: Provenance) -> list[str]:
    """Where a history finding came from and how long it was exposed (unescaped: one line each)."""
    if not isinstance(provenance, GitProvenance) or provenance.exposure is None:
        return []
    from scanner.render.refs import refs_summary  # history only: not on the hook's path

    window = provenance.exposure
    first = window.introduced
    added = "added in"
    if provenance.location == "tag-message":  # `introduced` is the tag object itself
        added = "in tag object"
    lines = [
        f"{added} {first.sha[:12]} by {first.author} <{first.email}> on {first.date}: "
        f"{first.message}"
    ]
    if provenance.repo:  # a scan of several repositories: say whose history this is
        from scanner.render.incidents import remote_project

        lines.insert(0, f"in repository {remote_project(provenance.remote_url) or provenance.repo}")
    if window.removed:
        lines.append(f"removed in {window.removed.sha[:12]} on {window.removed.date}")
    if window.rewritten:
        lines.append(
            "in rewritten-away history: only commits a force-push dropped hold it "
            "(still fetchable by SHA on most hosts)"
        )
    elif window.present_in:
        lines.append(f"still present in {refs_summary(window.present_in)}")
    elif not window.removed:
        lines.append("not at any branch tip (only in history)")
    return lines


def summary(result: ScanResult) -> str:
    skipped = Counter(s.reason for s in result.skipped)
    skipped_text = ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
    places = {f.provenance.path for f in result.findings}
    if "commits" in result.extra_stats:
        scanned = f"{result.files_scanned} blob(s) of {result.extra_stats['commits']} commit(s)"
    else:
        scanned = f"{result.files_scanned} file(s)"
    return (
        f"devtoken: {len(result.findings)} finding(s) in {len(places)} file(s); "
        f"scanned {scanned}, {result.bytes_scanned / 1e6:.1f} MB in {result.duration:.2f}s"
        + (f"; skipped {sum(skipped.values())} ({skipped_text})" if skipped else "")
    )


def hook_text(result: ScanResult, show_secrets: bool) -> str:
    """What the pre-commit hook prints: one line per finding, then both ways to allow a
    false positive, with the exact `.devtokenignore` line for each secret."""
    lines = []
    ignore_lines: dict[str, str] = {}
    for finding in result.findings:
        secret = finding.match.secret
        shown = secret.reveal() if show_secrets else secret.redacted
        short = short_fingerprint(finding.fingerprint)
        where = f"{finding.provenance.path}:{finding.match.line}"
        lines.append(visible(f"{where} {finding.rule.id} {shown} (fingerprint {short})"))
        ignore_lines.setdefault(short, visible(f"    {short}  # {finding.rule.id} in {where}"))
    if not lines:
        return ""
    lines += [
        "devtoken: commit blocked. Remove the secret (and reset it if it was ever pushed), "
        "or allow a false positive:",
        "  - add a `devtoken:allow` comment on its line, or",
        "  - add its fingerprint to .devtokenignore at the repository root "
        "(it then allows that secret everywhere):",
        *ignore_lines.values(),
    ]
    return "\n".join(lines) + "\n"
