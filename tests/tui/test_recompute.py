"""RecomputeRun: the monitor's recompute child on a real base, followed line by line and stopped.

Every run starts the real ``python -m hadrosaur recompute`` child, which
loads the collection's function from its recorded reference; the assertions
read what it did from the base directory.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from hadrosaur import COMPLETED, ERROR, INTERRUPTED, PENDING, Project
from hadrosaur_tui.messages import RecomputeFinished, RecomputeProgress
from hadrosaur_tui.recompute import RecomputeRun, recompute_command
from hadrosaur_tui.recompute_tally import RecomputeTally

from ..helpers import wait_for
from .harness import Posted
from .retry_functions import stubborn


def test_the_command_reads_idents_from_stdin_and_runs_jobs_only_when_asked() -> None:
    one = recompute_command(Path("/b"), "c", 1)
    assert one[-6:] == ["/b", "c", "--idents-from", "-", "--jsonl", "--log-output"]
    assert recompute_command(Path("/b"), "c", 4)[-2:] == ["--jobs", "4"]


def test_a_retry_reports_each_resource_and_how_it_ended(computed: Project) -> None:
    posted = Posted()
    run = RecomputeRun(computed.base, "c", ["a", "fail-b"], jobs=2, verb="retry", post=posted)
    run.run()
    finished = posted.of(RecomputeFinished)
    assert len(finished) == 1
    end = finished[0]
    assert (end.collection, end.idents, end.returncode) == ("c", ("a", "fail-b"), 1)
    assert end.tally == RecomputeTally("retry", 2, 2, 1, 1, 0, "finished")
    assert end.summary == "retried 2 · 1 completed · 1 failed again"
    # Progress came one resource at a time, before the end.
    assert [m.tally.done for m in posted.of(RecomputeProgress)] == [1, 2, 2]
    assert [computed.load("c", i).attempt for i in ("a", "fail-b")] == [2, 2]
    assert computed.status("c", "fail-b") == ERROR


def test_a_function_that_cannot_be_loaded_is_the_problem_shown(tmp_path: Path) -> None:
    project = Project(tmp_path / "base")

    def nested(ident: str, args: object, ctx: object) -> int:
        return 1

    project.resource("n")(nested)
    project.fetch("n", "x")
    posted = Posted()
    RecomputeRun(project.base, "n", ["x"], jobs=1, verb="recompute", post=posted).run()
    end = posted.wait(RecomputeFinished)
    assert end.returncode == 2
    assert end.tally is not None and "inside another function" in end.tally.problem
    assert end.summary == end.tally.problem
    assert end.tally.describe().startswith("recompute failed: ")
    assert project.load("n", "x").attempt == 1  # nothing was computed


@pytest.mark.parametrize("jobs", [1, 2])
def test_stop_interrupts_what_computes_and_keeps_what_completed(held: Project, jobs: int) -> None:
    posted = Posted()
    run = RecomputeRun(
        held.base, "g", ["quick", "gate1", "gate2"], jobs=jobs, verb="retry", post=posted
    )
    thread = threading.Thread(target=run.run, daemon=True)
    thread.start()
    # Reported by the child (the tally), not only on disk: a result still on its
    # way from a worker when the stop comes is completed but never reported.
    wait_for(lambda: run.tally.completed == 1, timeout=60)
    wait_for(lambda: held.status("g", "gate1") == PENDING, timeout=60)
    assert run.tally.state == "running"
    run.stop()
    assert run.tally.state == "stopping"
    end = posted.wait(RecomputeFinished)
    assert end.tally is not None and end.tally.state == "stopped"
    assert end.tally.completed == 1 and end.tally.failed == 0
    assert end.summary.startswith("retry stopped after ")
    assert held.status("g", "quick") == COMPLETED
    assert held.load("g", "gate1").status == INTERRUPTED  # as Ctrl-C leaves it
    assert held.status("g", "gate2") in (INTERRUPTED, ERROR)  # started or not, never pending
    thread.join(timeout=60)
    assert not thread.is_alive()


def _stopped_once(
    run: RecomputeRun, posted: Posted, ready: Callable[[], bool]
) -> RecomputeFinished:
    """Run ``run`` in a thread, stop it once ``ready()`` holds; how it ended."""
    thread = threading.Thread(target=run.run, daemon=True)
    thread.start()
    wait_for(ready, timeout=60)
    run.stop()
    end = posted.wait(RecomputeFinished)
    thread.join(timeout=60)
    assert not thread.is_alive()
    return end


def test_a_child_that_ignores_sigint_is_terminated_after_the_grace(tmp_path: Path) -> None:
    project = Project(tmp_path / "base")
    project.resource("s")(stubborn)
    gate = tmp_path / "gate"
    gate.touch()
    project.fetch("s", "x", {"gate": str(gate)})
    gate.unlink()
    posted = Posted()
    run = RecomputeRun(project.base, "s", ["x"], jobs=1, verb="recompute", post=posted, grace=0.5)
    end = _stopped_once(run, posted, lambda: project.status("s", "x") == PENDING)
    assert end.returncode == -15  # SIGTERM: it ignored the SIGINT
    assert end.tally is not None and end.tally.state == "stopped"
    assert project.status("s", "x") == INTERRUPTED


def test_a_run_stopped_before_it_started_computes_nothing(computed: Project) -> None:
    posted = Posted()
    run = RecomputeRun(computed.base, "c", ["a", "fail-b"], jobs=2, verb="retry", post=posted)
    run.stop()  # the app quit, or ctrl+c, before the worker thread ran
    run.run()
    end = posted.wait(RecomputeFinished)
    assert end.tally is not None and (end.tally.state, end.tally.done) == ("stopped", 0)
    assert [computed.load("c", i).attempt for i in ("a", "fail-b")] == [1, 1]


def test_stop_reaches_the_child_even_if_this_process_ignores_sigint(held: Project) -> None:
    """Started with SIGINT ignored (nohup, `cmd &`), children inherit that; the child undoes it."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        posted = Posted()
        # A grace of a minute: only the SIGINT can end it before the test's deadlines.
        run = RecomputeRun(held.base, "g", ["gate1"], jobs=1, verb="retry", post=posted, grace=60)
        end = _stopped_once(run, posted, lambda: held.status("g", "gate1") == PENDING)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert end.returncode == 130  # the command line's KeyboardInterrupt, not SIGTERM's -15
    assert held.status("g", "gate1") == INTERRUPTED
