"""Run the selected responders over incidents: dry run by default, each delivery recorded.

Every delivery has an idempotency key (a stable hash of action, target and incident) and a row
in the store (see store.actions). A run sends what was never sent, retries what a previous run
left `sending` (killed mid-send) or `failed` (once its backoff has passed) with the same key, and
says so; only a confirmed delivery is ever reported as sent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scanner.digests import sha256
from scanner.render.incidents import Incident, IncidentMember
from scanner.respond.channels import (
    open_issue,
    revoke_token,
    send_email,
    send_webhook,
    shown,
)
from scanner.respond.dispatch import run_all
from scanner.respond.notice import Notice, notice_for
from scanner.respond.settings import RespondSettings
from scanner.rules import REVOCABLE_ROLES
from scanner.store import actions as records
from scanner.store.db import Store

ACTIONS = ("webhook", "email", "ticket", "revoke")
_SENDERS: dict[str, Callable[[Notice, RespondSettings, str], str]] = {
    "webhook": send_webhook,
    "email": send_email,
    "ticket": open_issue,
}


@dataclass(frozen=True)
class Job:
    """One delivery: what (`action` to `target`) about what (`subject`), and how to send it."""

    action: str
    target: str
    subject: str  # incident id, or the finding fingerprint for a revocation
    label: str  # how log lines name it (redacted)
    key: str  # idempotency_key(action, target, subject)
    send: Callable[[], object]

    def line(self, state: str, error: str = "") -> str:
        """One log line: sent/failed/already sent, in the words of its action."""
        if self.action == "revoke":
            words = {"done": "revoked:", "already": "already revoked:", "failed": "failed: revoke"}
        else:
            words = {"done": "sent:", "already": "already sent:", "failed": "failed:"}
        return f"{words[state]} {self.label}" + (f": {error}" if error else "")


@dataclass
class Outcome:
    """The log lines (redacted) and how many deliveries went through or did not this run;
    `failures` are the log's lines about deliveries that failed (what --quiet still says)."""

    log: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    sent: int = 0
    failed: int = 0

    @property
    def all_failed(self) -> bool:
        return self.failed > 0 and self.sent == 0


def idempotency_key(action: str, target: str, subject: str) -> str:
    """Stable across runs and machines: the same notice to the same place has the same key."""
    material = "\0".join(("devtoken", action, target, subject))
    return sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def parse_actions(text: str) -> list[str]:
    actions = [a.strip() for a in text.split(",") if a.strip()]
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        raise ValueError(
            f"unknown responder(s): {', '.join(unknown)} (choose from {', '.join(ACTIONS)})"
        )
    return actions


def respond(
    store: Store,
    incidents: Sequence[Incident],
    actions: Sequence[str],
    settings: RespondSettings,
    send: bool,
    only_live: bool = False,
    secrets: Mapping[str, str] | None = None,
    confirm: Callable[[str], bool] = lambda _: False,
) -> Outcome:
    """Send (or, without `send`, describe) every wanted delivery; the outcome of the run."""
    outcome = Outcome()
    jobs: list[Job] = []
    chosen = [i for i in incidents if _wanted(i, only_live)]
    for incident in chosen:
        notice = notice_for(incident)
        for action in actions:
            if action == "revoke":
                continue
            target = _target(action, settings)
            if not send:
                outcome.log.append(
                    f"dry run: {action} to {shown(target) or '(not configured)'}: {notice.title}"
                )
                continue
            key = idempotency_key(action, target, notice.incident)
            sender = functools.partial(_SENDERS[action], notice, settings, key)
            label = f"{action} to {shown(target)} for incident {notice.incident}"
            jobs.append(Job(action, target, notice.incident, label, key, sender))
    if "revoke" in actions:
        jobs += _revocations(chosen, settings, send, secrets or {}, confirm, outcome.log)
    if jobs:
        _deliver(store, jobs, settings, outcome)
    return outcome


def _wanted(incident: Incident, only_live: bool) -> bool:
    if incident.status in ("resolved", "false_positive"):
        return False
    return not only_live or incident.verification["status"] == "live"


def _target(action: str, settings: RespondSettings) -> str:
    if action == "webhook":
        return settings.webhook_url or ""
    if action == "email":
        return ",".join(settings.smtp_to)
    return settings.github_repo or ""


def _deliver(store: Store, jobs: Sequence[Job], settings: RespondSettings, out: Outcome) -> None:
    """Skip what was sent, hold back what is in its backoff, send the rest concurrently."""
    todo = _due(store, jobs, out)
    lines: dict[int, str] = {}

    def started(index: int) -> None:
        job = todo[index]
        records.start(store, job.action, job.target, job.subject)

    def finished(index: int, error: str | None) -> None:
        job = todo[index]
        records.finish(store, job.action, job.target, job.subject, error, settings.backoff)
        if error is None:
            out.sent += 1
            lines[index] = job.line("done")
        else:
            out.failed += 1
            lines[index] = job.line("failed", f"{error} (retried by a later run)")
            out.failures.append(lines[index])

    not_started = run_all(
        [job.send for job in todo], settings.concurrency, settings.deadline, started, finished
    )
    out.log += [lines[i] for i in sorted(lines)]
    if not_started:
        out.failed += len(not_started)
        out.log.append(
            f"{len(not_started)} delivery(ies) not attempted before the run's deadline "
            f"({settings.deadline:g}s, DEVTOKEN_RESPOND_DEADLINE): the next run sends them"
        )
        out.failures.append(out.log[-1])


def _due(store: Store, jobs: Sequence[Job], out: Outcome) -> list[Job]:
    """The jobs to attempt now, each queued in the store; says what is retried or held back."""
    todo: list[Job] = []
    retried = 0
    moment = datetime.now(UTC)
    for job in jobs:
        before = records.delivery(store, job.action, job.target, job.subject)
        if before and before.state == "sent":
            out.log.append(job.line("already"))
            continue
        if before and before.waiting(moment):
            out.log.append(
                f"not retried yet: {job.label}: failed {before.attempts} time(s) "
                f"({before.detail}); next attempt after {before.next_attempt_at}"
            )
            continue
        retried += before is not None
        records.queue(store, job.action, job.target, job.subject, job.key)
        todo.append(job)
    if retried:
        out.log.append(
            f"retrying {retried} notice(s) from a previous run that were never confirmed "
            "(same idempotency keys, so a receiver can drop what it already has)"
        )
    return todo


def _revocations(
    incidents: Sequence[Incident],
    settings: RespondSettings,
    send: bool,
    secrets: Mapping[str, str],
    confirm: Callable[[str], bool],
    log: list[str],
) -> list[Job]:
    """Revocations of the revocable tokens: a member of a revocable role, or any member the scan
    handed in by its rule's role (`secrets` holds only those); each token once, whatever
    incidents share it."""
    unique = {m.fingerprint: m for i in incidents for m in i.members}
    members = [m for m in unique.values() if m.role in REVOCABLE_ROLES or m.fingerprint in secrets]
    usable = [m for m in members if m.fingerprint in secrets]
    log += [
        f"cannot revoke {m.role} {m.secret_redacted}: its value is only known during a scan "
        "(run the scan with --respond revoke)"
        for m in members
        if m.fingerprint not in secrets
    ]
    if not usable:
        return []
    question = f"revoke {len(usable)} leaked token(s) at {settings.revoke_url}?"
    if not send:
        log.append(f"dry run: would {question}")
        return []
    if not confirm(question):
        log.append("revoke not confirmed: nothing revoked (use --yes to skip the question)")
        return []
    return [_revocation(member, secrets[member.fingerprint], settings) for member in usable]


def _revocation(member: IncidentMember, token: str, settings: RespondSettings) -> Job:
    target = settings.revoke_url
    key = idempotency_key("revoke", target, member.fingerprint)
    sender = functools.partial(revoke_token, token, settings, key)
    label = f"{member.role} {member.secret_redacted}"
    return Job("revoke", target, member.fingerprint, label, key, sender)
