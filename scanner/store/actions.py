"""The store's record of responder deliveries: one row per (action, target, incident).

A row moves pending -> sending -> sent | failed. `sending` is written before the network call,
so a run killed mid-send leaves `sending` behind; the next run retries it (and every `failed`
row whose backoff has passed) with the same idempotency key, so the receiver can drop the
duplicate if the first attempt did arrive. Only `sent` is ever reported as sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scanner.store.db import Store, now

_WHERE = "WHERE action = ? AND target = ? AND incident = ?"


@dataclass(frozen=True)
class Delivery:
    """Where one notice (or revocation) stands: `state`, how many attempts, the last error."""

    state: str
    attempts: int
    detail: str
    next_attempt_at: str | None
    key: str

    def waiting(self, at: datetime) -> bool:
        """A failed delivery still inside its backoff window."""
        if self.state != "failed" or not self.next_attempt_at:
            return False
        return datetime.fromisoformat(self.next_attempt_at) > at


def delivery(store: Store, action: str, target: str, incident: str) -> Delivery | None:
    rows = store.rows(
        f"SELECT state, attempts, detail, next_attempt_at, idempotency_key FROM actions {_WHERE}",
        action,
        target,
        incident,
    )
    if not rows:
        return None
    row = rows[0]
    return Delivery(
        row["state"],
        int(row["attempts"]),
        row["detail"] or "",
        row["next_attempt_at"],
        row["idempotency_key"],
    )


def queue(store: Store, action: str, target: str, incident: str, key: str) -> None:
    """Record a delivery this run will attempt (new rows start `pending`)."""
    store.execute(
        """INSERT INTO actions (action, target, incident, state, at, idempotency_key)
           VALUES (?, ?, ?, 'pending', ?, ?)
           ON CONFLICT (action, target, incident) DO UPDATE SET
               idempotency_key = excluded.idempotency_key WHERE state != 'sent'""",
        action,
        target,
        incident,
        now(),
        key,
    )


def start(store: Store, action: str, target: str, incident: str) -> None:
    """Mark the delivery in flight, before the network call (a kill leaves it `sending`)."""
    store.execute(
        f"UPDATE actions SET state = 'sending', attempts = attempts + 1, at = ? {_WHERE}",
        now(),
        action,
        target,
        incident,
    )


def finish(
    store: Store,
    action: str,
    target: str,
    incident: str,
    error: str | None,
    backoff: float,
) -> None:
    """`sent`, or `failed` with the error and when the next run may try again."""
    retry_at = None
    if error is not None:
        attempts = delivery(store, action, target, incident)
        count = attempts.attempts if attempts else 1
        delay = min(backoff * 2 ** max(0, count - 1), 86400.0)
        retry_at = (datetime.now(UTC) + timedelta(seconds=delay)).isoformat(timespec="seconds")
    store.execute(
        f"UPDATE actions SET state = ?, detail = ?, at = ?, next_attempt_at = ? {_WHERE}",
        "sent" if error is None else "failed",
        (error or "")[:500],
        now(),
        retry_at,
        action,
        target,
        incident,
    )
