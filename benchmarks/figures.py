"""Summaries of repeated measurements, and the rows of the results table.

The machine's disk speed varies several-fold between runs, so a figure is
never one measurement: each is repeated over rounds, ratios are taken within
a round (where both systems met the same disk), and the table reports the
median ratio with the min/median/max of the raw figures.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ("Row", "Spread", "median_ratio", "percentile", "spread")


@dataclass(frozen=True)
class Spread:
    """Min, median and max of repeated measurements (in the unit the caller chose)."""

    min: float
    median: float
    max: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {"min": self.min, "median": self.median, "max": self.max, "n": self.n}


def spread(values: Sequence[float]) -> Spread:
    """The :class:`Spread` of ``values`` (at least one).

    Example:
        >>> spread([3.0, 1.0, 2.0])
        Spread(min=1.0, median=2.0, max=3.0, n=3)
    """
    if not values:
        raise ValueError("spread of no values: the measurement did not run")
    return Spread(min(values), statistics.median(values), max(values), len(values))


def median_ratio(pairs: Sequence[tuple[float, float]]) -> float:
    """The median over rounds of numerator/denominator, each pair from the same round.

    Example:
        >>> median_ratio([(2.0, 1.0), (9.0, 3.0), (4.0, 1.0)])
        3.0
    """
    return statistics.median(a / b for a, b in pairs)


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``.

    Example:
        >>> percentile(list(range(1, 101)), 95)
        95
    """
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


@dataclass
class Row:
    """One line of the results table.

    ``ours`` and ``reference`` are display strings of the medians (with their
    spread in ``detail``); ``ratio`` is ours/reference (the median of
    per-round ratios) or None; ``passed`` is None when the issue sets no target.
    """

    metric: str
    ours: str
    reference: str = "—"
    ratio: float | None = None
    target: str = "—"
    passed: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
