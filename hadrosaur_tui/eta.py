"""How long a collection has left: a range from the recent completion rate, or ``stalled``.

A single number ("4.5s") claims more than a monitor knows, and one computed
while nothing runs is simply wrong: with 0 resources running and 100 waiting
the old estimate crept from 4.5 s to 32 s as the recent rate decayed, when
the truth is that nothing will finish until someone starts a worker. So the
estimate is one of

- ``done``: nothing is left (errors count as finished: they wait for a person),
- ``stalled``: work is left, nothing is running (and nothing was seen running
  for :data:`STALL_GRACE_MS`, so the instant between one resource's end and the
  next one's start, which a serial pipeline shows on every change, does not
  flash ``stalled``),
- ``unknown``: resources run but none completed recently, so there is no rate yet,
- a range of seconds, as snakesee shows its ETA with a confidence: the
  completion rate is measured over the recent minutes (the index keeps
  completions per minute), and its uncertainty is the larger of the Poisson
  error of the count (few completions: a wide range) and the spread of the
  per-minute rates (an uneven pipeline: a wide range). The range is the time
  left at the rate plus and minus :data:`Z` of that error.

It is a pure function of counts, per-minute completions and clocks, so it is
tested without an app.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import pstdev
from typing import Literal

from hadrosaur.resource import COMPLETED, ERROR, PENDING

__all__ = ("STALL_GRACE_MS", "Estimate", "Z", "estimate_eta")

#: Nothing seen running for this long (ms) while work is left: the collection is stalled.
STALL_GRACE_MS = 3_000
#: Width of the range in standard errors of the rate (1.28: an 80% interval).
Z = 1.28
#: The rate is measured over at least this many minutes (a run that just began is not
#: infinitely fast) and at most the window of buckets read.
_MIN_SPAN = 0.25
_MAX_SPAN = 10.0

State = Literal["done", "stalled", "unknown", "range"]


@dataclass(frozen=True)
class Estimate:
    """What the ETA column says: a state, and for ``range`` the seconds left (low, high).

    ``high`` is None when the slow end is unbounded (the rate could be zero).
    """

    state: State
    rate_per_minute: float | None = None
    low: float | None = None
    high: float | None = None


def estimate_eta(
    counts: dict[str, int],
    per_minute: dict[int, int],
    now_ms: int,
    running_seen_ms: int | None = None,
) -> Estimate:
    """The time left of a collection.

    Args:
        counts: resources per status, and ``total``.
        per_minute: completions per epoch minute over the recent minutes (the index's ``m/``).
        now_ms: the clock, epoch ms.
        running_seen_ms: when a resource of the collection was last seen running
            (None: never); counts[PENDING] > 0 means now.

    Example:
        >>> estimate_eta({"total": 10, COMPLETED: 10, ERROR: 0, PENDING: 0}, {}, 0).state
        'done'
        >>> estimate_eta({"total": 10, COMPLETED: 0, ERROR: 0, PENDING: 0}, {}, 60_000).state
        'stalled'
    """
    remaining = counts["total"] - counts[COMPLETED] - counts[ERROR]
    rate = _rate(per_minute, now_ms)
    if remaining <= 0:
        return Estimate("done", rate)
    if counts[PENDING] == 0 and (
        running_seen_ms is None or now_ms - running_seen_ms >= STALL_GRACE_MS
    ):
        return Estimate("stalled", rate)
    if rate is None or rate <= 0:
        return Estimate("unknown", rate)
    error = _rate_error(per_minute, now_ms)
    fast = rate + Z * error
    slow = rate - Z * error
    low = remaining / fast * 60
    high = remaining / slow * 60 if slow > 0 else None
    return Estimate("range", rate, low, high)


def _span(per_minute: dict[int, int], now_ms: int) -> float:
    """Minutes from the start of the oldest bucket to now, within [_MIN_SPAN, _MAX_SPAN]."""
    return max(_MIN_SPAN, min(_MAX_SPAN, now_ms / 60_000 - min(per_minute)))


def _rate(per_minute: dict[int, int], now_ms: int) -> float | None:
    """Completions per minute over the buckets read (None: no completion recently)."""
    if not per_minute or sum(per_minute.values()) <= 0:
        return None
    return sum(per_minute.values()) / _span(per_minute, now_ms)


def _rate_error(per_minute: dict[int, int], now_ms: int) -> float:
    """The standard error of the rate: Poisson's sqrt(n)/span, or the per-minute spread.

    The spread is taken over the whole minutes after the oldest bucket up to
    the last complete one (a minute with no completion counts as 0): the
    current minute is partial, and so is the oldest when the run began in it
    (a run 2 minutes old would otherwise look uneven for its first minute).
    """
    span = _span(per_minute, now_ms)
    n = sum(per_minute.values())
    poisson = math.sqrt(n) / span
    current = now_ms // 60_000
    whole = [per_minute.get(m, 0) for m in range(min(per_minute) + 1, current)]
    if len(whole) < 2:
        return poisson
    spread = pstdev(whole) / math.sqrt(len(whole))
    return max(poisson, spread)
