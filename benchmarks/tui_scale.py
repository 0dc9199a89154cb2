"""The TUI at scale: a collection of up to a million resources, headless, timed.

Run in a child process of its own (``python -m benchmarks.tui_scale BASE
COLL``), so that its peak resident memory is the app's alone. Measured, with
the app running under ``App.run_test`` and watching files (``watch=True``):

- collections listed: from the app's start to the collection's summary;
- first full screen: from ``open_collection`` to the moment the table has
  drawn a resource on its last visible line (``render_line`` is wrapped to
  see it), and until every row is loaded;
- the error filter: the ``x`` key's action, timed around the call;
- latency: in this same process, a resource's status is changed the way a
  worker does it (``_store.atomic_write`` of ``status``, then
  ``_markers.touch_marker``) and the model is polled every 5 ms until the row
  shows it; repeated for distinct resources, with a random pause between;
- peak resident memory (``ru_maxrss``) after loading and at the end.

Timing never uses ``pilot.press``: it waits until the app is idle, and a
loading app is busy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

from .concurrency import leave_app
from .figures import Row, percentile, spread
from .subprocesses import run_module

__all__ = ("run_tui", "tui_rows")

_POLL = 0.005
_TIMEOUT = 120.0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _until(check: Any, what: str) -> float:
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > _TIMEOUT:
            raise TimeoutError(f"the TUI did not show {what} within {_TIMEOUT:.0f} s")
        await asyncio.sleep(_POLL)
    return time.perf_counter()


async def measure(base: Path, coll: str, changes: int, seed: int = 7) -> dict[str, Any]:
    """Run the app headless on ``base`` and time it on ``coll`` (see the module docstring)."""
    from textual.strip import Strip

    from hadrosaur_tui.app import HadrosaurApp
    from hadrosaur_tui.screens.resources import ResourcesScreen
    from hadrosaur_tui.widgets.resource_table import ResourceTable

    out: dict[str, Any] = {"rows": None, "rss_mb_before_app": _rss_mb()}
    app = HadrosaurApp(base, watch=True)
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)):
        listed = await _until(lambda: coll in app.collections_screen.summaries, "the collection")
        out["collections_listed_s"] = listed - started
        full: list[float] = []
        draw = ResourceTable.render_line

        def render_line(table: ResourceTable, y: int) -> Strip:
            strip = draw(table, y)
            last = table.size.height - 1
            if not full and y == last > 0 and int(table.scroll_y) + y - 1 < len(table.model):
                full.append(time.perf_counter())
            return strip

        ResourceTable.render_line = render_line  # type: ignore[method-assign,assignment]
        opened = time.perf_counter()
        app.open_collection(coll)
        model = app.model
        assert model is not None
        first = await _until(lambda: len(model) > 0, "any row")
        out["first_rows_s"] = first - opened
        await _until(lambda: bool(full), "a full screen of rows")
        out["first_full_screen_s"] = full[0] - opened
        ResourceTable.render_line = draw  # type: ignore[method-assign]
        screen = app.screen
        assert isinstance(screen, ResourcesScreen)
        out["table_height"] = screen.query_one(ResourceTable).size.height
        loaded = await _until(lambda: model.loaded, "every row")
        out["all_loaded_s"] = loaded - opened
        out["rows"] = len(model)
        out["rss_mb_loaded"] = _rss_mb()
        errors_expected = model.counts()["error"]
        start = time.perf_counter()
        screen.action_status("error")
        out["error_filter_s"] = time.perf_counter() - start
        out["error_rows"] = len(model)
        assert len(model) == errors_expected, (len(model), errors_expected)
        start = time.perf_counter()
        screen.action_status("all")
        out["all_filter_s"] = time.perf_counter() - start
        out["rss_mb_filtered"] = _rss_mb()
        out["latency_s"] = await _latencies(base / coll, model, changes, random.Random(seed))
        out["rss_mb_end"] = _rss_mb()
        await leave_app(app)
    return out


async def _latencies(coll_dir: Path, model: Any, changes: int, rng: random.Random) -> list[float]:
    from hadrosaur import _markers, _store

    chosen: list[str] = []
    seen: set[int] = set()
    wanted = min(changes, model.counts()["completed"])
    while len(chosen) < wanted:
        pos = rng.randrange(len(model))
        if pos not in seen:
            seen.add(pos)
            row = model.row(pos)
            if row.status == "completed":
                chosen.append(row.ident)
    latencies = []
    for ident in chosen:
        await asyncio.sleep(rng.uniform(0.05, 0.25))  # no phase-lock with the watcher's debounce
        _store.atomic_write(os.path.join(coll_dir, ident, _store.STATUS_FILE), b"error")
        _markers.touch_marker(coll_dir, ident)
        changed = time.perf_counter()

        def shown(ident: str = ident) -> bool:
            index = model.find(ident)
            return index is not None and model.row(index).status == "error"

        latencies.append(await _until(shown, f"the change of {ident}") - changed)
    return latencies


def run_tui(base: Path, coll: str, changes: int) -> dict[str, Any]:
    """Run :func:`measure` in a child process; return its JSON."""
    return run_module("benchmarks.tui_scale", base, coll, "--changes", changes)


def tui_rows(result: dict[str, Any], where: str) -> list[Row]:
    """Rows: first full screen, memory, error filter, latency p50/p95."""
    n = result["rows"]
    lat = [x * 1e3 for x in result["latency_s"]]
    p50, p95 = percentile(lat, 50), percentile(lat, 95)
    return [
        Row(
            f"TUI, {n:,} rows, {where}: first full screen after opening",
            f"{result['first_full_screen_s']:.2f} s",
            target="< 1 s",
            passed=result["first_full_screen_s"] < 1.0,
            detail={
                k: result[k]
                for k in ("collections_listed_s", "first_rows_s", "all_loaded_s", "table_height")
            },
        ),
        Row(
            f"TUI, {n:,} rows, {where}: all rows loaded",
            f"{result['all_loaded_s']:.2f} s",
        ),
        Row(
            f"TUI, {n:,} rows, {where}: peak resident memory",
            f"{result['rss_mb_end']:.0f} MB",
            target="< 200 MB",
            passed=result["rss_mb_end"] < 200,
            detail={k: result[k] for k in result if k.startswith("rss_mb")},
        ),
        Row(
            f"TUI, {n:,} rows, {where}: error filter ({result['error_rows']:,} shown)",
            f"{result['error_filter_s'] * 1e3:.0f} ms",
            detail={"all_filter_ms": result["all_filter_s"] * 1e3},
        ),
        Row(
            f"TUI, {n:,} rows, {where}: status change to screen, p50 / p95 of {len(lat)}",
            f"{p50:.0f} / {p95:.0f} ms",
            target="p95 ≤ 300 ms",
            passed=p95 <= 300,
            detail={"latency_ms": spread(lat).as_dict(), "p50_ms": p50, "p95_ms": p95},
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the TUI on one collection (JSON out).")
    parser.add_argument("base", type=Path)
    parser.add_argument("collection")
    parser.add_argument("--changes", type=int, default=100)
    opts = parser.parse_args(argv)
    result = asyncio.run(measure(opts.base, opts.collection, opts.changes))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
