"""Times as hadrosaur records them: integer epoch milliseconds.

meta.json, the index, :class:`~hadrosaur.Resource` and :class:`~hadrosaur.Entry`
all keep start and end times this way; :func:`duration_ms` is the one place a
duration is computed from them, for the library, the CLI and the TUI.

Example:
    >>> duration_ms(1_000, 1_850)
    850
    >>> duration_ms(1_000, None), duration_ms(1_000, None, now=1_200)
    (None, 200)
"""

from __future__ import annotations

import time

__all__ = ("duration_ms", "now_ms")


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def duration_ms(start: int | None, end: int | None, now: int | None = None) -> int | None:
    """Milliseconds from ``start`` to ``end``; None when either is unknown.

    Pass ``now`` for a resource still running (no end yet): its duration so
    far. Whether it is running is the caller's to know (a pending status), so
    an errored resource without an end time is not counted up to now.
    """
    if start is None:
        return None
    if end is None:
        return None if now is None else now - start
    return end - start
