"""The monitor, headless, on one collection: its CPU time while nothing is asked of it.

Usage: python tui_idle_child.py BASE COLL SECONDS [IDENT]  (prints one JSON object)

Runs with whichever Python it is given (this tree's venv or another
checkout's), so it uses only what every version of the app has: the app,
``open_collection`` and the model. With IDENT, the cursor is put on that
resource, so its log is tailed while measuring. The CPU time is the whole
process's (every thread: the UI, the reader, the watcher), from
``getrusage``, over SECONDS of wall time once every row is loaded and the
app has settled.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

_TIMEOUT = 300.0
_SETTLE_S = 3.0


def _thread_cpu_s() -> dict[str, float]:
    """CPU seconds of each thread of this process, by its Python name (Linux /proc)."""
    import os
    import threading

    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), f"thread {tid}")
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _until(check: Any, what: str) -> None:
    deadline = time.perf_counter() + _TIMEOUT
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the TUI did not show {what} within {_TIMEOUT:.0f} s")
        await asyncio.sleep(0.02)


async def measure(base: Path, coll: str, seconds: float, ident: str | None) -> dict[str, Any]:
    from hadrosaur_tui.app import HadrosaurApp
    from hadrosaur_tui.widgets.resource_table import ResourceTable

    app = HadrosaurApp(base, watch=True)
    out: dict[str, Any] = {"seconds": seconds, "ident": ident}
    async with app.run_test(size=(160, 45)):
        await _until(lambda: coll in app.collections_screen.summaries, "the collection")
        app.open_collection(coll)
        model = app.model
        assert model is not None
        await _until(lambda: model.loaded and len(model) > 0, "every row")
        if ident is not None:
            await _until(lambda: model.find(ident) is not None, ident)
            table = app.screen.query_one(ResourceTable)
            table.move_cursor(model.find(ident) or 0)
        await asyncio.sleep(_SETTLE_S)
        out["rows"] = model.total
        out["counts"] = model.counts()
        threads, cpu, wall = _thread_cpu_s(), _cpu_s(), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu, wall = _cpu_s() - cpu, time.perf_counter() - wall
        out["threads_cpu_s"] = {
            name: round(used - threads.get(name, 0.0), 3)
            for name, used in _thread_cpu_s().items()
            if used - threads.get(name, 0.0) > 0
        }
        out["cpu_s"] = cpu
        out["wall_s"] = wall
        out["cpu_fraction"] = cpu / wall
        app.close_collection()
        await asyncio.sleep(0.3)
    return out


def main() -> None:
    base, coll, seconds = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    ident = sys.argv[4] if len(sys.argv) > 4 else None
    print(json.dumps(asyncio.run(measure(base, coll, seconds, ident))))


if __name__ == "__main__":
    main()
