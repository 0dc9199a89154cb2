"""How values look on screen: status symbols, times, durations, rates, progress bars.

Statuses carry a symbol as well as a colour, so the table reads the same on a
monochrome terminal or to a colour-blind user.
"""

from __future__ import annotations

import time
from math import ceil

from hadrosaur.display import format_duration
from hadrosaur.resource import COMPLETED, ERROR, INTERRUPTED, PENDING, STATUSES, UNAVAILABLE

__all__ = (
    "STATUS_HEADINGS",
    "STATUS_LABELS",
    "STATUS_ORDER",
    "STATUS_SYMBOLS",
    "format_clock",
    "format_count",
    "format_eta",
    "format_rate",
    "progress_bar",
    "sparkline",
)

#: Display order of statuses everywhere (also the order of the status codes).
STATUS_ORDER: tuple[str, ...] = STATUSES
STATUS_SYMBOLS = {
    COMPLETED: "✔",
    PENDING: "▶",
    INTERRUPTED: "■",
    ERROR: "✘",
    UNAVAILABLE: "·",
}
#: Very short column headings for the counts (next to the symbol).
STATUS_HEADINGS = {
    COMPLETED: "done",
    PENDING: "run",
    INTERRUPTED: "intr",
    ERROR: "err",
    UNAVAILABLE: "wait",
}
#: Short names of the statuses for people.
STATUS_LABELS = {
    COMPLETED: "done",
    PENDING: "running",
    INTERRUPTED: "interrupted",
    ERROR: "errors",
    UNAVAILABLE: "waiting",
}


def format_count(n: int) -> str:
    """1234567 -> '1,234,567'."""
    return f"{n:,}"


def format_clock(ms: int | None, now_ms: int) -> str:
    """Local wall-clock time of an epoch-ms instant: 'HH:MM:SS' today, else 'MM-DD HH:MM'."""
    if ms is None or ms < 0:
        return ""
    moment = time.localtime(ms / 1000)
    today = time.localtime(now_ms / 1000)
    if moment[:3] == today[:3]:
        return time.strftime("%H:%M:%S", moment)
    return time.strftime("%m-%d %H:%M", moment)


def format_rate(per_minute: float | None) -> str:
    """Completions per minute: '1,234/min', '0.5/min', '' when unknown."""
    if per_minute is None:
        return ""
    if per_minute >= 10:
        return f"{per_minute:,.0f}/min"
    return f"{per_minute:.1f}/min"


def format_eta(seconds: float | None) -> str:
    """Time left: '' when unknown, 'done' at zero, else a compact duration."""
    if seconds is None:
        return ""
    if seconds <= 0:
        return "done"
    return format_duration(int(seconds * 1000))


def progress_bar(done: int, total: int, width: int = 12) -> str:
    """A text progress bar with a percentage: '██████░░░░░░  50%'."""
    if total <= 0:
        return "░" * width + "    "
    fraction = min(1.0, done / total)
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled) + f" {fraction * 100:3.0f}%"


_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """One character per value, scaled to the largest: ' ' for 0, '▁' to '█' for the rest.

    Example:
        >>> sparkline([0, 1, 4, 8])
        ' ▁▄█'
    """
    top = max(values, default=0)
    if top <= 0:
        return " " * len(values)
    steps = len(_BLOCKS)
    return "".join(" " if v <= 0 else _BLOCKS[max(0, ceil(v * steps / top) - 1)] for v in values)
