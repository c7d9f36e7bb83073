"""`--since DATE` / `--until DATE`: a commit window by committer date, as git reads it.

Only ISO 8601 is accepted (git's own date parser takes almost anything, `--since=lastyear`
included, and silently reads what it cannot as "now"). A date or time without a zone is
UTC, so a scan means the same on every machine; a bare date bounds whole days: `--since`
from its first second, `--until` through its last.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

_EXAMPLES = "YYYY-MM-DD or ISO 8601, e.g. 2025-01-31T09:30:00+01:00"


def commit_time(value: str, until: bool = False) -> int:
    """The epoch second `value` names; `until`: a bare date means its last second.

    Raises ValueError with a one-line reason for anything else.
    """
    text = value.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1) - timedelta(seconds=1)
        return int((end if until else start).timestamp())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a date ({_EXAMPLES})") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stamp = moment.timestamp()
    # commit dates are whole seconds: `since` 10:00:00.5 starts at 10:00:01
    return int(stamp) if until or stamp == int(stamp) else int(stamp) + 1


def window_args(since: int | None, until: int | None) -> tuple[str, ...]:
    """`git log` options keeping commits dated since..until, both included. The lower
    bound filters rather than stops the walk (git's `--since` stops at the first older
    commit, so a commit behind one with a skewed clock would be missed)."""
    args: list[str] = []
    if since is not None:
        args.append(f"--since-as-filter=@{since}")
    if until is not None:
        args.append(f"--until=@{until}")
    return tuple(args)


def iso(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat()
