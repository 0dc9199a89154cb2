"""Many pending resources: what dead and live ones cost readers, and how soon deaths show.

Two measurements on a generated base of N resources of which P are pending:

- ``stats``: N completed resources are generated and indexed, then P of them
  are started the way ``fetch`` starts one (marker, meta.json, status
  ``pending``) by processes that then exit, so P pending resources are dead.
  The first ``stats`` after that (it applies their P markers) and the calls
  after it are timed.
- ``tui``: the same base, but the P pending resources are held by live helper
  processes (each holds the compute locks of its share, as a worker does).
  The TUI runs headless in this process (``App.run_test``, watching files);
  once its model shows the P pending rows, its CPU use over a few idle
  seconds is measured, then the helpers are SIGKILLed and the time until the
  model counts a first and all P interrupted rows is measured, with the CPU
  time this process spent meanwhile (the work, which the load of a shared
  machine does not change as it changes the wall-clock time).

Run as ``python -m benchmarks.pending stats|tui DIR [--n N] [--pending P]``;
prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hadrosaur import Project

from .figures import Row, spread
from .generate import COLLECTION, generate_base, ident_of
from .subprocesses import run_module

__all__ = ("pending_rows", "run_pending")

_HOLDERS = 4  # processes holding the live locks (an fd limit of 20,000 per process)
_IDLE_S = 5.0
_TIMEOUT = 300.0

# A helper that starts its share of resources as fetch does and then holds their locks.
_HOLDER = """
import fcntl, json, os, socket, sys, time
from hadrosaur import _markers, _store
coll, idents = sys.argv[1], sys.argv[2:]
fds = []
host, pid = socket.gethostname(), os.getpid()
for ident in idents:
    res = f"{coll}/{ident}"
    fd = os.open(f"{res}/.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    fds.append(fd)
    _markers.touch_marker(coll, ident)
    meta = {"start_time": _store.now_ms(), "end_time": None, "args": {}, "pid": pid,
            "host": host, "attempt": 2}
    _store.atomic_write(f"{res}/meta.json", json.dumps(meta).encode())
    _store.atomic_write(f"{res}/status", b"pending")
    _markers.touch_marker(coll, ident)
print("ready", flush=True)
time.sleep(3600)
"""


def _pending_idents(n: int, pending: int) -> list[str]:
    step = max(1, n // pending)
    return [ident_of(i) for i in range(0, n, step)][:pending]


def _start_holders(coll_dir: Path, idents: list[str], exit_at_once: bool) -> list[Any]:
    code = _HOLDER.replace("time.sleep(3600)", "") if exit_at_once else _HOLDER
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent.parent), *sys.path])
    holders = []
    for k in range(_HOLDERS):
        share = idents[k::_HOLDERS]
        holders.append(
            subprocess.Popen(
                [sys.executable, "-c", code, str(coll_dir), *share],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    for holder in holders:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    return holders


def measure_stats(base: Path, n: int, pending: int, repeats: int = 20) -> dict[str, Any]:
    """Time stats after ``pending`` resources were started by processes that died."""
    generate_base(base, n, 0)
    proj = Project(base, create=False)
    proj.reindex(COLLECTION)
    for holder in _start_holders(base / COLLECTION, _pending_idents(n, pending), True):
        holder.wait()
    start = time.perf_counter()
    counts = proj.stats(COLLECTION)["counts"]
    first = time.perf_counter() - start
    later = []
    for _ in range(repeats):
        start = time.perf_counter()
        again = proj.stats(COLLECTION)["counts"]
        later.append(time.perf_counter() - start)
    assert again["interrupted"] == pending, again
    return {"n": n, "pending": pending, "first_s": first, "later_s": later, "counts": counts}


async def _measure_tui(base: Path, n: int, pending: int) -> dict[str, Any]:
    from hadrosaur_tui.app import HadrosaurApp

    from .concurrency import leave_app

    generate_base(base, n, 0)
    Project(base, create=False).reindex(COLLECTION)
    holders = _start_holders(base / COLLECTION, _pending_idents(n, pending), False)
    out: dict[str, Any] = {"n": n, "pending": pending}
    try:
        app = HadrosaurApp(base, watch=True)
        async with app.run_test(size=(120, 40)):
            await _until(lambda: COLLECTION in app.collections_screen.summaries)
            app.open_collection(COLLECTION)
            model = app.model
            assert model is not None
            await _until(lambda: model.loaded and model.counts()["pending"] == pending)
            cpu = time.process_time()
            await asyncio.sleep(_IDLE_S)
            out["idle_cpu_fraction"] = (time.process_time() - cpu) / _IDLE_S
            for holder in holders:
                holder.send_signal(signal.SIGKILL)
            for holder in holders:
                holder.wait()
            died, cpu = time.perf_counter(), time.process_time()
            await _until(lambda: model.counts()["interrupted"] > 0)
            out["first_death_shown_s"] = time.perf_counter() - died
            await _until(lambda: model.counts()["interrupted"] == pending)
            out["deaths_shown_s"] = time.perf_counter() - died
            # CPU time of this process (reader, UI, watcher): the work, whatever the load.
            out["deaths_cpu_s"] = time.process_time() - cpu
            out["counts"] = model.counts()
            await leave_app(app)
    finally:
        for holder in holders:
            if holder.poll() is None:
                holder.kill()
                holder.wait()
    return out


async def _until(check: Any) -> None:
    deadline = time.perf_counter() + _TIMEOUT
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"not reached within {_TIMEOUT:.0f} s: {check}")
        await asyncio.sleep(0.005)


def run_pending(root: Path, n: int, pending: int) -> dict[str, Any]:
    """Both measurements, each in a child process of its own and a fresh base under ``root``."""
    sizes = ("--n", n, "--pending", pending)
    return {
        "stats": run_module("benchmarks.pending", "stats", root / "stats", *sizes),
        "tui": run_module("benchmarks.pending", "tui", root / "tui", *sizes),
    }


def pending_rows(result: dict[str, Any], where: str) -> list[Row]:
    """Rows: stats with dead pending (first call, later calls), TUI CPU and death latency."""
    stats, tui = result["stats"], result["tui"]
    n, p = stats["n"], stats["pending"]
    later = spread([s * 1e3 for s in stats["later_s"]])
    return [
        Row(
            f"stats, N={n:,} with {p:,} dead pending, {where}: first call (applies their markers)",
            f"{stats['first_s'] * 1e3:,.0f} ms",
        ),
        Row(
            f"stats, N={n:,} with {p:,} dead pending, {where}: later calls",
            f"{later.median:,.2f} ms",
            target="≤ 10 ms",
            passed=later.median <= 10,
            detail={"later_ms": later.as_dict()},
        ),
        Row(
            f"TUI, N={n:,} with {p:,} live pending, {where}: CPU while idle",
            f"{tui['idle_cpu_fraction'] * 100:.0f}% of a core",
        ),
        Row(
            f"TUI, N={n:,}, {where}: {p:,} workers' deaths shown as interrupted",
            f"{tui['deaths_shown_s']:.2f} s",
            target="≤ 2 s",
            passed=tui["deaths_shown_s"] <= 2.0,
            detail={
                "first_shown_s": tui["first_death_shown_s"],
                "cpu_s": tui["deaths_cpu_s"],
            },
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("stats", "tui"))
    parser.add_argument("dir", type=Path)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--pending", type=int, default=50_000)
    opts = parser.parse_args(argv)
    if opts.what == "stats":
        result = measure_stats(opts.dir, opts.n, opts.pending)
    else:
        result = asyncio.run(_measure_tui(opts.dir, opts.n, opts.pending))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
