"""The ETA: the estimator (a pure function) and the collections screen's column."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hadrosaur import COMPLETED, ERROR, PENDING
from hadrosaur._plans import write_plan
from hadrosaur_tui.eta import STALL_GRACE_MS, Estimate, estimate_eta
from hadrosaur_tui.format import DASH, format_eta

from .harness import make_app, settle, wait_until
from .sample import NOW_MS, define_collection, write_resource
from .test_screens import HOLD_LOCKS

MINUTE = 60_000


def counts(total: int, completed: int, error: int = 0, pending: int = 0) -> dict[str, int]:
    return {"total": total, COMPLETED: completed, ERROR: error, PENDING: pending}


def test_nothing_left_is_done() -> None:
    assert estimate_eta(counts(10, 8, 2), {}, NOW_MS).state == "done"


def test_nothing_running_with_work_left_is_stalled_and_stays_so() -> None:
    """The reported case: 0 running, 100 waiting, a recent rate; it crept from 4.5s to 32s."""
    recent = {NOW_MS // MINUTE - 1: 30, NOW_MS // MINUTE: 5}
    for later in (0, 10_000, 60_000, 5 * MINUTE):
        estimate = estimate_eta(counts(135, 35), recent, NOW_MS + later)
        assert estimate.state == "stalled"
        assert format_eta(estimate) == "stalled"


def test_the_gap_between_two_resources_is_not_a_stall() -> None:
    """A serial pipeline has 0 running for an instant between resources."""
    recent = {NOW_MS // MINUTE - 1: 30}
    seen = NOW_MS - 1_000
    assert estimate_eta(counts(100, 30), recent, NOW_MS, seen).state == "range"
    late = NOW_MS - STALL_GRACE_MS
    assert estimate_eta(counts(100, 30), recent, NOW_MS, late).state == "stalled"


def test_running_without_recent_completions_has_no_rate() -> None:
    estimate = estimate_eta(counts(100, 0, pending=4), {}, NOW_MS)
    assert estimate.state == "unknown"
    assert format_eta(estimate) == "?"


def _range(estimate: Estimate) -> tuple[float, float]:
    assert estimate.state == "range"
    assert estimate.low is not None and estimate.high is not None
    return estimate.low, estimate.high


def test_the_range_holds_the_time_at_the_recent_rate() -> None:
    # 30 done in the two minutes since the oldest bucket began: 15/min; 60 left: 4 min.
    now = 100 * MINUTE
    estimate = estimate_eta(counts(100, 30, 10, pending=2), {98: 10, 99: 20}, now)
    assert estimate.rate_per_minute == pytest.approx(15.0)
    low, high = _range(estimate)
    assert low < 240 < high


def test_fewer_completions_give_a_wider_range() -> None:
    """The Poisson error: 20 completions say less about the rate than 2,000 do."""
    now = 100 * MINUTE
    few = _range(estimate_eta(counts(1000, 20, pending=2), {98: 10, 99: 10}, now))
    many = _range(estimate_eta(counts(100_000, 2000, pending=2), {98: 1000, 99: 1000}, now))
    assert few[1] / few[0] > many[1] / many[0] > 1


def test_an_uneven_rate_gives_a_wider_range() -> None:
    """The same 600 completions in 6 minutes, even and in bursts."""
    now = 100 * MINUTE
    even = {m: 100 for m in range(94, 100)}
    bursts = {94: 300, 95: 0, 96: 0, 97: 300, 98: 0, 99: 0}
    steady = _range(estimate_eta(counts(10_000, 600, pending=4), even, now))
    uneven = _range(estimate_eta(counts(10_000, 600, pending=4), bursts, now))
    assert uneven[1] / uneven[0] > steady[1] / steady[0]


def test_a_single_completion_leaves_the_slow_end_open() -> None:
    estimate = estimate_eta(counts(100, 1, pending=1), {100: 1}, 100 * MINUTE + 30_000)
    assert estimate.state == "range" and estimate.high is None
    assert format_eta(estimate).startswith("> ")


@pytest.mark.parametrize(
    ("low", "high", "shown"),
    [
        (40.0, 55.0, f"40{DASH}55 s"),
        (190.0, 290.0, f"3{DASH}5 min"),
        (20.0, 100.0, "< 2 min"),
        (120.0, 120.0, "~2 min"),
        (2 * 3600.0, 3 * 3600.0 + 1, f"2{DASH}4 h"),
        (3 * 86400.0, 4 * 86400.0, f"3{DASH}4 d"),
        (200.0, None, "> 3 min"),
    ],
)
def test_format_eta(low: float, high: float | None, shown: str) -> None:
    text = format_eta(Estimate("range", 1.0, low, high))
    assert text == shown
    assert len(text) <= 9  # the column's width


def _host() -> str:
    from hadrosaur._liveness import local_host

    return local_host()


def build_running_base(base: Path, now_ms: int) -> list[Path]:
    """Collection "run": 40 completed in the last 4 minutes, 2 running, 58 waiting;
    collection "halted": 5 completed a minute ago, 20 waiting, nothing running.
    Returns the lock files of the running resources (for a process to hold).

    Times are relative to the real clock: the index keeps the completions of
    the last minutes by its own clock."""
    run = define_collection(base, "run")
    for i in range(40):
        end = now_ms - (i % 4) * MINUTE - 5_000
        write_resource(run, f"done-{i:02d}", "completed", start_ms=end - 9_000, end_ms=end)
    locks = []
    for i in range(2):
        res = write_resource(
            run, f"busy-{i}", "pending", start_ms=now_ms - 4_000, host=_host(), log="working\n"
        )
        locks.append(res / ".lock")
    write_plan(run, [f"todo-{i:02d}" for i in range(58)])
    halted = define_collection(base, "halted")
    for i in range(5):
        write_resource(
            halted, f"h{i}", "completed", start_ms=now_ms - 70_000, end_ms=now_ms - 60_000
        )
    write_plan(halted, [f"h{i}" for i in range(25)])
    return locks


@pytest.mark.asyncio
async def test_the_eta_column_shows_a_range_or_stalled(tmp_path: Path) -> None:
    now = time.time()
    locks = build_running_base(tmp_path / "base", int(now * 1000))
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCKS, *map(str, locks)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdin is not None and holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        app = make_app(tmp_path / "base", clock=time.time)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = app.collections_screen
            await wait_until(pilot, lambda: {"run", "halted"} <= set(screen.summaries))
            await settle(pilot)
            table = screen.query_one("#collections")
            run = str(table.get_cell("run", "eta")).strip()  # type: ignore[attr-defined]
            halted = str(table.get_cell("halted", "eta")).strip()  # type: ignore[attr-defined]
            assert re.fullmatch(rf"\d+{DASH}\d+ min", run), run
            estimate = screen.summaries["run"].eta
            assert estimate is not None and estimate.low is not None and estimate.high is not None
            # 40 in the last 4 minutes (3 to 5 minute buckets back from now): 8-13/min.
            rate = estimate.rate_per_minute
            assert rate is not None and 40 / 5 <= rate <= 40 / 3
            # 58 waiting and 2 running are left.
            assert estimate.low < 60 / rate * 60 < estimate.high
            assert halted == "stalled"
        holder.stdin.write("\n")
