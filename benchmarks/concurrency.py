"""Concurrency: two worker processes fetch while the TUI and a ``hadrosaur stats`` loop read.

Workers never open the index; readers take it in turn under an flock. This
measures what that costs the workers (resources/s with the readers, against
the same two workers alone, in the same run) and checks that nobody fails
on a lock: the workers' exceptions, the stats commands that exit non-zero,
and the TUI's "could not read" problems must all be 0. The TUI's "index
busy" notices (it waits at most 0.5 s for the index, then retries) are
counted too; they are not errors. At the end the TUI must show every
resource completed; how long it takes to catch up is reported.

Runs in a child process of its own: ``python -m benchmarks.concurrency BASE N``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .figures import Row
from .subprocesses import CHILDREN, run_module

__all__ = ("concurrency_rows", "leave_app", "run_concurrency")

_WORKERS = 2


def _start_workers(base: Path, n: int, python: str = sys.executable) -> list[subprocess.Popen[str]]:
    bounds = [n * k // _WORKERS for k in range(_WORKERS + 1)]
    return [
        subprocess.Popen(
            [python, str(CHILDREN / "concurrent_worker.py"), str(base), str(lo), str(hi)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for lo, hi in itertools.pairwise(bounds)
    ]


def _collect(workers: list[subprocess.Popen[str]]) -> dict[str, Any]:
    reports = []
    for proc in workers:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"a worker failed ({proc.returncode}):\n{err[-4000:]}")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    span = max(r["ended"] for r in reports) - min(r["began"] for r in reports)
    done = sum(r["done"] for r in reports)
    return {
        "done": done,
        "seconds": span,
        "resources_per_s": done / span,
        "worker_exceptions": sum(r["exceptions"] for r in reports),
        "first_exceptions": [e for r in reports for e in r["first_exceptions"]][:3],
        "not_completed": sum(r["not_completed"] for r in reports),
    }


class _StatsLoop(threading.Thread):
    """Runs ``python -m hadrosaur stats BASE trivial --json`` back to back until stopped."""

    def __init__(self, base: Path) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.calls = 0
        self.failures: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        command = [sys.executable, "-m", "hadrosaur", "stats", str(self.base), "trivial", "--json"]
        while not self.halt.is_set():
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            self.calls += 1
            if done.returncode != 0:
                self.failures.append(f"exit {done.returncode}: {done.stderr.strip()[-300:]}")


async def _with_readers(base: Path, n: int) -> dict[str, Any]:
    import hadrosaur_tui.app
    from hadrosaur_tui.app import HadrosaurApp
    from hadrosaur_tui.messages import IndexBusyChanged, ReadProblem

    class CountingApp(HadrosaurApp):
        """Counts busy notices and problems; Textual also runs the base class's handlers."""

        # A relative CSS_PATH would be looked up next to this module.
        CSS_PATH = str(Path(hadrosaur_tui.app.__file__).with_name("hadrosaur_tui.tcss"))
        busy_notices = 0
        problems: list[str] = []

        def on_index_busy_changed(self, message: IndexBusyChanged) -> None:
            CountingApp.busy_notices += message.busy

        def on_read_problem(self, message: ReadProblem) -> None:
            CountingApp.problems.append(message.text)

    app = CountingApp(base, watch=True)
    async with app.run_test(size=(120, 40)):
        while "trivial" not in app.collections_screen.summaries:
            await asyncio.sleep(0.01)
        app.open_collection("trivial")
        stats = _StatsLoop(base)
        stats.start()
        workers = _start_workers(base, n)
        while any(w.poll() is None for w in workers):
            await asyncio.sleep(0.05)
        finished = time.perf_counter()
        stats.halt.set()
        result = _collect(workers)
        model = app.model
        assert model is not None
        while model.counts()["completed"] < result["done"] - result["not_completed"]:
            if time.perf_counter() - finished > 60:
                break
            await asyncio.sleep(0.01)
        result["tui_caught_up_s"] = time.perf_counter() - finished
        result["tui_completed_shown"] = model.counts()["completed"]
        stats.join()
        await leave_app(app)
    result.update(
        stats_calls=stats.calls,
        stats_failures=len(stats.failures),
        first_stats_failures=stats.failures[:3],
        tui_busy_notices=CountingApp.busy_notices,
        tui_problems=len(CountingApp.problems),
        first_tui_problems=CountingApp.problems[:3],
    )
    result["lock_errors"] = (
        result["worker_exceptions"] + result["stats_failures"] + result["tui_problems"]
    )
    return result


async def leave_app(app: Any) -> None:
    """Back to the collections screen, and a moment for a detail read in flight to land.

    Leaving run_test while the resources screen is being torn down races with
    a detail read arriving from its thread (the app then fails with NoMatches
    for ResourceDetail); see the benchmark's report.
    """
    app.close_collection()
    await asyncio.sleep(0.3)


def measure(root: Path, n: int) -> dict[str, Any]:
    """Two workers alone, then two workers with the readers, each in a fresh base under ``root``."""
    from hadrosaur import Project

    out: dict[str, Any] = {"n": n, "workers": _WORKERS}
    for label in ("alone", "with_readers"):
        base = root / label
        Project(base).resource("trivial")(lambda ident, args, ctx: None)
        if label == "alone":
            out[label] = _collect(_start_workers(base, n))
        else:
            out[label] = asyncio.run(_with_readers(base, n))
    return out


def run_concurrency(root: Path, n: int) -> dict[str, Any]:
    """Run :func:`measure` in a child process (the TUI runs in it); return its JSON."""
    return run_module("benchmarks.concurrency", root, n)


def concurrency_rows(result: dict[str, Any], where: str) -> list[Row]:
    """Rows: the workers' rate with readers vs alone, and the lock errors."""
    alone, busy = result["alone"], result["with_readers"]
    return [
        Row(
            f"2 workers + TUI + stats loop, N={result['n']:,}, {where}: resources/s vs alone",
            f"{busy['resources_per_s']:,.0f}/s",
            f"{alone['resources_per_s']:,.0f}/s",
            busy["resources_per_s"] / alone["resources_per_s"],
            detail={
                "stats_calls": busy["stats_calls"],
                "tui_busy_notices": busy["tui_busy_notices"],
                "tui_caught_up_s": busy["tui_caught_up_s"],
            },
        ),
        Row(
            f"2 workers + TUI + stats loop, N={result['n']:,}, {where}: lock errors",
            f"{busy['lock_errors']}",
            target="0",
            passed=busy["lock_errors"] == 0,
            detail={
                "worker_exceptions": busy["worker_exceptions"],
                "stats_failures": busy["stats_failures"],
                "tui_problems": busy["tui_problems"],
                "stats_calls": busy["stats_calls"],
                "examples": busy["first_exceptions"]
                + busy["first_stats_failures"]
                + busy["first_tui_problems"],
            },
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Workers fetching while readers read (JSON out).")
    parser.add_argument("root", type=Path, help="an empty directory for the two bases")
    parser.add_argument("n", type=int, help="resources fetched by the two workers together")
    opts = parser.parse_args(argv)
    print(json.dumps(measure(opts.root, opts.n)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
