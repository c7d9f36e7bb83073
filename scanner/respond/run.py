"""Run the selected responders over incidents: dry run by default, each send recorded once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from scanner.report.model import Incident
from scanner.respond.channels import (
    DeliveryError,
    open_issue,
    revoke_token,
    send_email,
    send_webhook,
)
from scanner.respond.notice import Notice, notice_for
from scanner.respond.settings import RespondSettings
from scanner.store.db import Store

ACTIONS = ("webhook", "email", "ticket", "revoke")
_SENDERS: dict[str, Callable[[Notice, RespondSettings], str]] = {
    "webhook": send_webhook,
    "email": send_email,
    "ticket": open_issue,
}
REVOCABLE_ROLES = ("refresh_token", "access_token")


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
) -> list[str]:
    """What was sent, skipped or would be sent, one line each (all redacted)."""
    log: list[str] = []
    chosen = [i for i in incidents if _wanted(i, only_live)]
    for incident in chosen:
        notice = notice_for(incident)
        for action in actions:
            if action != "revoke":
                log.append(_deliver(store, action, notice, settings, send))
    if "revoke" in actions:
        log += _revoke(store, chosen, settings, send, secrets or {}, confirm)
    return log


def _wanted(incident: Incident, only_live: bool) -> bool:
    if incident.status in ("resolved", "false_positive"):
        return False
    return not only_live or incident.verification["status"] == "live"


def _deliver(
    store: Store, action: str, notice: Notice, settings: RespondSettings, send: bool
) -> str:
    target = _target(action, settings)
    if not send:
        return f"dry run: {action} to {target or '(not configured)'}: {notice.title}"
    if not store.claim_action(action, target, notice.incident):
        return f"already sent: {action} to {target} for incident {notice.incident}"
    try:
        _SENDERS[action](notice, settings)
    except DeliveryError as error:
        store.finish_action(action, target, notice.incident, ok=False, detail=str(error))
        return f"failed: {action} for incident {notice.incident}: {error}"
    store.finish_action(action, target, notice.incident, ok=True)
    return f"sent: {action} to {target} for incident {notice.incident}"


def _target(action: str, settings: RespondSettings) -> str:
    if action == "webhook":
        return settings.webhook_url or ""
    if action == "email":
        return ",".join(settings.smtp_to)
    return settings.github_repo or ""


def _revoke(
    store: Store,
    incidents: Sequence[Incident],
    settings: RespondSettings,
    send: bool,
    secrets: Mapping[str, str],
    confirm: Callable[[str], bool],
) -> list[str]:
    members = [m for i in incidents for m in i.members if m.role in REVOCABLE_ROLES]
    if not members:
        return []
    usable = [m for m in members if m.fingerprint in secrets]
    log = [
        f"cannot revoke {m.role} {m.secret_redacted}: its value is only known during a scan "
        "(run the scan with --respond revoke)"
        for m in members
        if m.fingerprint not in secrets
    ]
    if not usable:
        return log
    question = f"revoke {len(usable)} leaked token(s) at {settings.revoke_url}?"
    if not send:
        return [*log, f"dry run: would {question}"]
    if not confirm(question):
        return [*log, "revoke not confirmed: nothing revoked (use --yes to skip the question)"]
    for member in usable:
        if not store.claim_action("revoke", settings.revoke_url, member.fingerprint):
            log.append(f"already revoked: {member.role} {member.secret_redacted}")
            continue
        try:
            revoke_token(secrets[member.fingerprint], settings)
        except DeliveryError as error:
            store.finish_action(
                "revoke", settings.revoke_url, member.fingerprint, ok=False, detail=str(error)
            )
            log.append(f"failed: revoke {member.role} {member.secret_redacted}: {error}")
            continue
        store.finish_action("revoke", settings.revoke_url, member.fingerprint, ok=True)
        log.append(f"revoked: {member.role} {member.secret_redacted}")
    return log
