"""Inline SVG charts for the HTML report: plain data in, one `<svg>` string out.

No script, no network asset, no external font: a chart must read the same in a browser,
a PDF printed from it and a mail client that strips scripts. Labels are never cut short
(two mirrors of one repository must not read the same): a long label wraps onto more
lines, and every bar carries its full label and value as a `<title>` tooltip. Every text
is escaped here (these strings go into the page as markup).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

WIDTH = 560  # viewBox units; the SVG scales to its card
LABEL_CHARS = 34  # characters per label line before it wraps
BAR_COLOR = "#3b5b8c"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    color: str = BAR_COLOR
    note: str = ""  # added to the tooltip (e.g. "2 still present")


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def wrap(label: str, width: int = LABEL_CHARS) -> list[str]:
    """`label` in lines of at most `width` characters, broken after a `/`, else a space,
    else a `-`, `_` or `.` in the second half of the line, else hard; nothing is dropped."""
    lines: list[str] = []
    rest = label
    while len(rest) > width:
        cut = -1
        for seps in ("/", " ", "-_."):  # a path's `/` first, then a space, then a word break
            cut = max(rest.rfind(sep, width // 2, width) for sep in seps)
            if cut > 0:
                break
        cut = cut + 1 if cut > 0 else width
        lines.append(rest[:cut])
        rest = rest[cut:]
    return [*lines, rest] if rest or not lines else lines


def bar_chart(title: str, bars: Sequence[Bar], empty: str = "nothing to show") -> str:
    """Horizontal bars, one per item: the label (wrapped, full) left, bar and count right."""
    label_width, line = 230, 14
    top = max((bar.value for bar in bars), default=0) or 1
    span = WIDTH - label_width - 40
    parts: list[str] = []
    y = 4
    for bar in bars:
        lines = wrap(bar.label)
        height = max(16, line * len(lines) + 2)
        width = max(1, round(span * bar.value / top)) if bar.value else 0
        tip = f"{bar.label}: {bar.value}" + (f" ({bar.note})" if bar.note else "")
        spans = "".join(
            f'<tspan x="0" dy="{line if n else 0}">{_text(text)}</tspan>'
            for n, text in enumerate(lines)
        )
        parts.append(
            f'<g class="bar"><title>{_text(tip)}</title>'
            f'<text x="0" y="{y + 12}">{spans}</text>'
            f'<rect x="{label_width}" y="{y + 1}" width="{width}" height="13" rx="2" '
            f'fill="{bar.color}"></rect>'
            f'<text x="{label_width + width + 4}" y="{y + 12}" class="value">{bar.value}</text></g>'
        )
        y += height + 4
    if not bars:
        parts.append(f'<text x="0" y="16">{_text(empty)}</text>')
        y = 24
    return _svg(title, y, "".join(parts))


def month_range(first: date, last: date) -> list[tuple[int, int]]:
    """Every (year, month) from `first`'s month to `last`'s, both included."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def tick_every(months: int, most: int = 24) -> int:
    """Months between labelled ticks: 1, 2, 3, 6 or 12, the smallest that labels at most
    `most` of them (ticks fall on the same months every year: Jan, Apr, Jul, Oct...)."""
    return next((n for n in (1, 2, 3, 6) if months / n <= most), 12)


def timeline_chart(
    title: str,
    stacks: dict[tuple[int, int], list[tuple[str, int, str]]],
    empty: str,
    width: int = 2 * WIDTH,
) -> str:
    """Columns per month on a real time axis: every month between the first and the last
    shown, empty ones too; each column stacks (label, count, color) parts bottom-up. Month
    ticks on one line, the year under each January (and the first month)."""
    if not stacks:
        return _svg(title, 24, f'<text x="0" y="16">{_text(empty)}</text>', width)
    keys = sorted(stacks)
    months = month_range(date(*keys[0], 1), date(*keys[-1], 1))
    left, plot, base = 28, 84, 98
    step = (width - left) / len(months)
    top = max(sum(n for _, n, _ in stacks.get(m, [])) for m in months) or 1
    parts = [
        f'<line x1="{left}" y1="{base}" x2="{width}" y2="{base}" class="axis"></line>',
        f'<text x="{left - 4}" y="{base - plot + 10}" class="tick" text-anchor="end">{top}</text>',
        f'<text x="{left - 4}" y="{base}" class="tick" text-anchor="end">0</text>',
    ]
    every = tick_every(len(months))
    for n, (year, month) in enumerate(months):
        x = left + n * step
        middle = f"{x + step / 2:.1f}"
        stacked = 0.0
        for label, count, color in stacks.get((year, month), []):
            height = plot * count / top
            tip = f"{MONTHS[month - 1]} {year}: {count} {label}"
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{base - stacked - height:.1f}" '
                f'width="{max(step - 2, 1):.1f}" height="{height:.1f}" fill="{color}">'
                f"<title>{_text(tip)}</title></rect>"
            )
            stacked += height
        total = sum(count for _, count, _ in stacks.get((year, month), []))
        if total:
            parts.append(
                f'<text x="{middle}" y="{base - stacked - 3:.1f}" text-anchor="middle" '
                f'class="value">{total}</text>'
            )
        if (month - 1) % every == 0:
            parts.append(
                f'<line x1="{middle}" y1="{base}" x2="{middle}" y2="{base + 3}" '
                'class="axis"></line>'
                f'<text x="{middle}" y="{base + 14}" text-anchor="middle" class="tick">'
                f"{MONTHS[month - 1] if every < 12 else year}</text>"
            )
        if every < 12 and (month == 1 or n == 0):
            parts.append(f'<text x="{x + 1:.1f}" y="{base + 27}" class="tick year">{year}</text>')
    return _svg(title, base + 32, "".join(parts), width)


def legend(items: Sequence[tuple[str, str]]) -> str:
    """A one-line HTML legend (label, color) under a stacked chart."""
    return "".join(
        f'<span class="key"><i style="background:{color}"></i>{_text(label)}</span>'
        for label, color in items
    )


def _svg(title: str, height: float, body: str, width: int = WIDTH) -> str:
    return (
        f'<svg role="img" aria-label="{_text(title)}" viewBox="0 0 {width} {height:.0f}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet"><title>{_text(title)}</title>'
        f"{body}</svg>"
    )
