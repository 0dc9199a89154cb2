"""The suites of ``python -m benchmarks``: each runs its measurements and returns table rows.

A suite stores its raw results under ``run.results[NAME]`` (they go to the
JSON as they are) and returns the rows of the table it contributes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hadrosaur import Project

from .concurrency import concurrency_rows, run_concurrency
from .fetch_overhead import fetch_rows, run_fetch_overhead, summarize
from .figures import Row
from .generate import COLLECTION, generate_base, remove_tree
from .index_reads import index_rows, run_index_reads
from .log_open import log_rows, run_log_open
from .machine import Where
from .pending import pending_rows, run_pending
from .scales import Scale
from .subprocesses import run_module
from .triage import triage_rows
from .tui_scale import run_tui, tui_rows
from .watching import watching_rows

__all__ = ("SUITES", "Run")


def log(text: str) -> None:
    print(text, flush=True)


@dataclass
class Run:
    """What the suites share: the scale, where to measure, 0.4.1's python, the results."""

    scale: Scale
    places: list[Where]
    legacy: Path | None
    selected: list[str]
    results: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def fetch_suite(run: Run) -> list[Row]:
    fetch = run_fetch_overhead(run.scale, run.places, run.legacy, log)
    fetch["summary"] = summarize(fetch)
    run.results["fetch"] = fetch
    return fetch_rows(fetch, run.scale, run.places)


def _tui_place(run: Run) -> Where:
    """The TUI runs on the memory place if it has a base of tui_rows, else on the disk."""
    for where in run.places:
        scale = run.scale
        sizes = scale.index_sizes_memory if where.label == "memory" else scale.index_sizes_disk
        if scale.tui_rows in sizes:
            return where
    return run.places[0]


def _tui_on(run: Run, where: Where, base: Path) -> None:
    start = time.perf_counter()
    log(f"  TUI on {run.scale.tui_rows:,} resources ({where.label}) ...")
    result = run_tui(base, COLLECTION, run.scale.tui_changes)
    run.results["tui"] = {"where": where.label, **result}
    run.seconds["tui"] = time.perf_counter() - start


def reads_suite(run: Run) -> list[Row]:
    """stats, fetch_by_status and rebuild; the TUI is measured on the largest base meanwhile."""
    tui_where = _tui_place(run)

    def after_size(where: Where, n: int, base: Path) -> None:
        if "tui" in run.selected and where == tui_where and n == run.scale.tui_rows:
            _tui_on(run, where, base)

    reads = run_index_reads(run.scale, run.places, run.legacy, after_size, log)
    run.results["reads"] = reads
    return index_rows(reads)


def tui_suite(run: Run) -> list[Row]:
    """The TUI's rows; it generates a base of its own when the reads suite did not run it."""
    if "tui" not in run.results:
        where = _tui_place(run)
        work = Path(tempfile.mkdtemp(prefix="bench-tui-", dir=where.root))
        try:
            generate_base(work, run.scale.tui_rows, run.scale.index_errors)
            Project(work, create=False).reindex(COLLECTION)  # "after the index exists"
            _tui_on(run, where, work)
        finally:
            remove_tree(work)
    result = run.results["tui"]
    return tui_rows(result, result["where"])


def _in_a_new_directory(where: Where, prefix: str, measure: Callable[[Path], Any]) -> Any:
    """``measure(work)`` in a new directory under ``where``, removed afterwards."""
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=where.root))
    try:
        return measure(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _each_place(
    run: Run,
    name: str,
    measure: Callable[[Path], dict[str, Any]],
    say: Callable[[dict[str, Any]], str],
    rows_of: Callable[[dict[str, Any], str], list[Row]],
) -> list[Row]:
    """``measure`` once per place, in a new directory; results under ``run.results[name]``."""
    rows = []
    run.results[name] = {}
    for where in run.places:
        result = _in_a_new_directory(where, f"bench-{name}-", measure)
        run.results[name][where.label] = result
        log(f"  {where.label}: {say(result)}")
        rows += rows_of(result, where.label)
    return rows


def concurrency_suite(run: Run) -> list[Row]:
    return _each_place(
        run,
        "concurrency",
        lambda work: run_concurrency(work, run.scale.concurrency_n),
        lambda result: (
            f"alone {result['alone']['resources_per_s']:,.0f}/s, with readers "
            f"{result['with_readers']['resources_per_s']:,.0f}/s, "
            f"lock errors {result['with_readers']['lock_errors']}"
        ),
        concurrency_rows,
    )


def fetch_many_suite(run: Run) -> list[Row]:
    """benchmarks/fetch_many.py (another engineer's), once per place."""
    from .fetch_many import measure

    n = run.scale.fetch_many_n
    if not n:
        return []
    rows = []
    run.results["fetch_many"] = {}
    for where in run.places:
        result = measure(where.root, n, 1)
        run.results["fetch_many"][where.label] = result
        log(
            f"  {where.label}: loop {result['loop_per_resource_us']:.0f} µs/resource, "
            f"fetch_many {result['fetch_many_per_resource_us']:.0f} µs/resource"
        )
        rows.append(
            Row(
                f"fetch_many ({os.cpu_count()} processes) vs a loop of fetch, N={n:,}, "
                f"{where.label}",
                f"{result['fetch_many_per_resource_us']:,.0f} µs",
                f"{result['loop_per_resource_us']:,.0f} µs",
                result["fetch_many_s"] / result["loop_fetch_s"],
            )
        )
    return rows


def pending_suite(run: Run) -> list[Row]:
    """benchmarks/pending.py: dead pending resources for stats, deaths for the TUI (memory)."""
    where = next((w for w in run.places if w.label == "memory"), run.places[0])
    work = Path(tempfile.mkdtemp(prefix="bench-pending-", dir=where.root))
    try:
        result = run_pending(work, run.scale.pending_n, run.scale.pending_count)
    finally:
        remove_tree(work)
    run.results["pending"] = {"where": where.label, **result}
    log(
        f"  {where.label}: stats {result['stats']['first_s']:.2f} s first, then "
        f"{min(result['stats']['later_s']) * 1e3:.2f} ms; the TUI showed the deaths after "
        f"{result['tui']['deaths_shown_s']:.2f} s"
    )
    return pending_rows(result, where.label)


def logs_suite(run: Run) -> list[Row]:
    """benchmarks/log_open.py: the log pane on a huge run.log, once per place."""
    return _each_place(
        run,
        "logs",
        lambda work: run_log_open(work, run.scale.log_bytes),
        lambda result: (
            f"{result['bytes'] / 1e6:,.0f} MB, first screen {result['first_screen_s']:.3f} s, "
            f"indexed in {result['indexed_s']:.2f} s, {result['rss_mb_for_log']:.0f} MB"
        ),
        log_rows,
    )


def triage_suite(run: Run) -> list[Row]:
    """benchmarks/triage.py: error groups, a group's members, signatures, failing fetches."""
    where = next((w for w in run.places if w.label == "memory"), run.places[0])
    work = Path(tempfile.mkdtemp(prefix="bench-triage-", dir=where.root))
    scale = run.scale
    try:
        result = run_module(
            "benchmarks.triage",
            work,
            "--n",
            scale.triage_n,
            "--errors",
            scale.triage_errors,
            "--causes",
            scale.triage_causes,
            "--fetches",
            scale.triage_fetches,
        )
    finally:
        remove_tree(work)
    run.results["triage"] = {"where": where.label, **result}
    rows = triage_rows(result, where.label)
    log("".join(f"  {row.metric}: {row.ours}\n" for row in rows).rstrip())
    return rows


def watching_suite(run: Run) -> list[Row]:
    """benchmarks/watching.py: 2 workers watched by hadrosaur-tui vs alone, and the drain."""
    where = next((w for w in run.places if w.label == "memory"), run.places[0])
    scale = run.scale
    result = _in_a_new_directory(
        where,
        "bench-watching-",
        lambda work: run_module(
            "benchmarks.watching",
            work,
            "--n",
            scale.watching_n,
            "--rounds",
            scale.watching_rounds,
            "--drain-n",
            scale.drain_n,
        ),
    )
    run.results["watching"] = {"where": where.label, **result}
    rows = watching_rows(result, where.label)
    log("".join(f"  {row.metric}: {row.ours}\n" for row in rows).rstrip())
    return rows


#: In the order they run; the reads suite runs before the TUI's, which reuses its base.
SUITES: dict[str, tuple[str, Callable[[Run], list[Row]]]] = {
    "fetch": ("fetch overhead per resource", fetch_suite),
    "reads": ("stats, fetch_by_status, rebuild (the TUI on the largest base)", reads_suite),
    "tui": ("the TUI at scale", tui_suite),
    "concurrency": ("2 workers while the TUI and a stats loop read", concurrency_suite),
    "fetch_many": ("fetch_many vs a loop of fetch (benchmarks/fetch_many.py)", fetch_many_suite),
    "pending": ("many pending resources: dead ones for stats, deaths for the TUI", pending_suite),
    "logs": ("the log pane on a huge run.log (benchmarks/log_open.py)", logs_suite),
    "triage": ("error groups at scale, and what signatures cost a failing fetch", triage_suite),
    "watching": ("2 workers watched by hadrosaur-tui vs alone; the drain", watching_suite),
}
