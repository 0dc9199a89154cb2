"""How values look on screen: status symbols, times, durations, rates, progress bars.

Statuses carry a symbol as well as a colour, so the table reads the same on a
monochrome terminal or to a colour-blind user.
"""

from __future__ import annotations

import time
from math import ceil, floor

from hadrosaur.resource import COMPLETED, ERROR, INTERRUPTED, PENDING, STATUSES, UNAVAILABLE

from .eta import Estimate

__all__ = (
    "DASH",
    "STATUS_HEADINGS",
    "STATUS_LABELS",
    "STATUS_ORDER",
    "STATUS_SYMBOLS",
    "format_clock",
    "format_count",
    "format_eta",
    "format_moment",
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
    """Local wall-clock time of an epoch-ms instant, at most 11 characters.

    'HH:MM:SS' today, 'MM-DD HH:MM' another day of this year, and
    'YYYY-MM-DD' in another year: a resource started last December must not
    read as this December's. On 2026-03-01: '11:59:00', '02-28 12:00', '2025-12-01'.
    """
    if ms is None or ms < 0:
        return ""
    moment = time.localtime(ms / 1000)
    today = time.localtime(now_ms / 1000)
    if moment[:3] == today[:3]:
        return time.strftime("%H:%M:%S", moment)
    if moment.tm_year == today.tm_year:
        return time.strftime("%m-%d %H:%M", moment)
    return time.strftime("%Y-%m-%d", moment)


def format_moment(ms: int | None) -> str:
    """A full local date and time, 'YYYY-MM-DD HH:MM:SS', for where there is room (Info tab)."""
    if ms is None or ms < 0:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


def format_rate(per_minute: float | None) -> str:
    """Completions per minute: '1,234/min', '0.5/min', '' when unknown."""
    if per_minute is None:
        return ""
    if per_minute >= 10:
        return f"{per_minute:,.0f}/min"
    return f"{per_minute:.1f}/min"


#: Between the two ends of a range: an en dash, as in print.
DASH = "\u2013"
#: (seconds in the unit, its name, the largest count shown in it) for the ETA's range.
_ETA_UNITS = ((1, "s", 90), (60, "min", 90), (3600, "h", 48), (86400, "d", 10**9))


def format_eta(estimate: Estimate | None) -> str:
    """Time left, at most 9 characters: 'done', 'stalled', '?', or a range.

    The range is in one unit, chosen by its slow end, rounded outwards (so
    it still holds the estimate): '40-55 s', '3-5 min' (with an en dash), '~2 h' when both ends
    round alike, '< 2 min' when the fast end rounds to 0, '> 3 min' when the
    slow end is unbounded. '?' means resources run but none completed in
    the last minutes, so there is no rate to go by.

    Example:
        >>> format_eta(Estimate("range", 10.0, 190.0, 290.0)) == f"3{DASH}5 min"
        True
    """
    if estimate is None:
        return ""
    if estimate.state == "done":
        return "done"
    if estimate.state == "stalled":
        return "stalled"
    if estimate.state == "unknown" or estimate.low is None:
        return "?"
    low, high = estimate.low, estimate.high
    end = high if high is not None else low
    size, unit, _ = next(u for u in _ETA_UNITS if end < u[0] * u[2])
    fast = floor(low / size)
    if high is None:
        return f"> {max(1, fast)} {unit}"
    slow = max(1, ceil(high / size))
    if fast == 0:
        return f"< {slow} {unit}"
    if fast == slow:
        return f"~{slow} {unit}"
    return f"{fast}{DASH}{slow} {unit}"


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
