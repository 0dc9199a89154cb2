"""RecomputeTally: the counts read from the recompute child's lines, and the line shown."""

from __future__ import annotations

from dataclasses import replace

from hadrosaur_tui.recompute_tally import RecomputeTally


def _lines(tally: RecomputeTally, *statuses: str) -> RecomputeTally:
    for n, status in enumerate(statuses):
        tally = tally.with_line(f'{{"ident": "r{n}", "status": "{status}", "reason": ""}}\n')
    return tally


def test_each_resource_line_counts_and_anything_else_does_not() -> None:
    tally = RecomputeTally("retry", 230)
    for other in ("printed while importing\n", "[1, 2]\n", '{"status": "error"}\n', "{\n"):
        assert tally.with_line(other) == tally
    tally = _lines(tally, "completed", "error", "interrupted", "completed")
    assert (tally.done, tally.completed, tally.failed, tally.interrupted) == (4, 2, 1, 1)


def test_the_line_says_how_far_it_got_and_how_it_ended() -> None:
    tally = _lines(RecomputeTally("retry", 230), *["completed"] * 14, *["error"] * 3)
    assert tally.describe() == "retrying 17/230 · 3 failed again"
    assert _lines(RecomputeTally("retry", 5), "completed").describe() == "retrying 1/5"
    assert replace(tally, state="stopping").describe() == (
        "retrying 17/230 · 3 failed again · stopping…"
    )
    assert replace(tally, state="stopped").describe() == (
        "retry stopped after 17/230 · 14 completed · 3 failed again"
    )
    done = _lines(RecomputeTally("retry", 230), *["completed"] * 227, *["error"] * 3)
    assert replace(done, state="finished").describe() == (
        "retried 230 · 227 completed · 3 failed again"
    )
    one = replace(_lines(RecomputeTally("recompute", 1), "error"), state="finished")
    assert one.describe() == "recomputed 1 · 0 completed · 1 failed"
    assert replace(one, problem="cannot import x").describe() == "recompute failed: cannot import x"
    assert not replace(one, state="stopped").running and replace(one, state="stopping").running


def test_the_notification_at_the_end_says_how_it_ended() -> None:
    done = replace(_lines(RecomputeTally("retry", 2), "completed", "completed"), state="finished")
    assert done.headline("g") == ("Retry of 2 in g finished", "information")
    failed = replace(_lines(RecomputeTally("retry", 2), "completed", "error"), state="finished")
    assert failed.headline("g") == ("Retry of 2 in g finished, not all completed", "warning")
    assert replace(failed, state="stopped").headline("g") == (
        "Retry of 2 in g stopped",
        "information",
    )
    broken = replace(RecomputeTally("recompute", 1), state="finished", problem="cannot import x")
    assert broken.headline("g") == ("Recompute of 1 in g could not run", "error")
