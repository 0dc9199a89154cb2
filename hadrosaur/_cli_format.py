"""How the ``hadrosaur`` command prints things for people: times, durations, tables.

Kept apart from cli.py so that the commands read as what they do. Machine
output (``--json``) does not come through here: it keeps epoch milliseconds
and raw values.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import lru_cache

from .resource import COUNT_KEYS

__all__ = ("counts_table", "format_duration", "format_time", "table")


def format_time(ms: int | None) -> str:
    """Epoch milliseconds as local time, ``-`` when unknown.

    Example:
        >>> format_time(None)
        '-'
    """
    if ms is None:
        return "-"
    return _local_second(ms // 1000)


@lru_cache(maxsize=4096)
def _local_second(seconds: int) -> str:
    # Cached: a listing has many resources that started within the same second.
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def format_duration(ms: int | None) -> str:
    """A duration for reading at a glance: ``850 ms``, ``12.3 s``, ``4m05s``, ``2h03m``.

    Example:
        >>> format_duration(245_000)
        '4m05s'
    """
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    seconds = ms // 1000
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: int = 0) -> str:
    """Columns padded to their widest cell; the last ``right`` columns right-aligned.

    The last column is not padded, so long reasons do not drag trailing spaces.

    Example:
        >>> print(table(["NAME", "N"], [["a", "10"]], right=1))
        NAME   N
        a     10
    """
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    first_right = len(headers) - right
    # One format template for every row: far faster than padding cell by cell
    # (ls prints hundreds of thousands of rows).
    specs = []
    for i, width in enumerate(widths):
        if i >= first_right:
            specs.append(f"{{{i}:>{width}}}")
        elif i == len(widths) - 1:
            specs.append(f"{{{i}}}")
        else:
            specs.append(f"{{{i}:<{width}}}")
    template = "  ".join(specs)
    return "\n".join(template.format(*row).rstrip() for row in [headers, *rows])


def counts_table(stats: Mapping[str, Mapping[str, int]]) -> str:
    """One row of counts per collection, from ``{name: counts}``."""
    rows = [[name, *(str(counts[k]) for k in COUNT_KEYS)] for name, counts in stats.items()]
    headers = ["COLLECTION", *(k.upper() for k in COUNT_KEYS)]
    return table(headers, rows, right=len(COUNT_KEYS))
