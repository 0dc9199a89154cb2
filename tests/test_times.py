"""Times in epoch milliseconds, and the one computation of a duration."""

from __future__ import annotations

import time

from hadrosaur import Resource
from hadrosaur.entries import Entry
from hadrosaur.times import duration_ms, now_ms


def test_now_ms_is_the_clock_in_milliseconds() -> None:
    before = time.time()
    now = now_ms()
    assert isinstance(now, int)
    assert before * 1000 - 1 <= now <= time.time() * 1000 + 1


def test_duration_needs_both_ends_unless_now_is_given() -> None:
    assert duration_ms(1_000, 1_850) == 850
    assert duration_ms(1_000, None) is None
    assert duration_ms(None, 1_850) is None
    assert duration_ms(None, None, now=5_000) is None
    assert duration_ms(1_000, None, now=1_200) == 200  # still running
    assert duration_ms(1_000, 1_850, now=9_999) == 850  # an end wins over now


def test_resources_and_entries_use_it() -> None:
    assert Resource("c", "i", "completed", start_time=10, end_time=25).duration_ms == 15
    assert Resource("c", "i", "pending", start_time=10).duration_ms is None
    assert Entry("i", "error", 10, 12).duration_ms == 2
    assert Entry("i", "unavailable").duration_ms is None
