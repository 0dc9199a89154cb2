"""What watching costs when nothing happens: the monitor's CPU time, this tree against another.

The monitor runs headless (``children/tui_idle_child.py``) in a child
process per measurement, on a generated base of N resources, with the
collection open and every row loaded; the child reports the CPU time
(``getrusage``: user + system, every thread) over SECONDS of wall time.
Three situations, each measured with this tree's Python and with another
checkout's (``--old-python``, e.g. main's venv), alternating which goes
first in each round:

- ``idle``: nothing is pending;
- ``pending``: P resources are pending, held by live helper processes (each
  holds its share of the compute locks, as workers do; see pending.py);
- ``tailing``: the same, and one of them is selected while a process appends
  a line to its ``run.log`` every 50 ms, so the log pane follows it.

Run as ``python -m benchmarks.tui_idle DIR [--n N] [--pending P] [--seconds S]
[--rounds R] [--old-python PY]``. DIR keeps the generated base between runs;
the JSON goes to ``--out`` (default ``benchmarks/results/tui_idle.json``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hadrosaur import Project

from .figures import Row, spread
from .generate import COLLECTION, generate_base
from .pending import _pending_idents, _start_holders
from .report import format_table, write_json
from .subprocesses import run_child

__all__ = ("idle_rows", "measure_idle")

_SITUATIONS = ("idle", "pending", "tailing")
_TARGETS = {"idle": 1.0, "pending": 1.0, "tailing": 3.0}
_RESULTS = Path(__file__).resolve().parent / "results"

# Appends a line to a log every 50 ms, as a resource's logger would, until killed.
_APPENDER = """
import sys, time
with open(sys.argv[1], "a", encoding="utf-8") as log:
    i = 0
    while True:
        i += 1
        log.write(f"2026-03-01 12:00:00,000 INFO step {i}: still computing\\n")
        log.flush()
        time.sleep(0.05)
"""


def _prepare(base: Path, n: int) -> None:
    """Generate and index the base once (a marker file says it is complete)."""
    ready = base / f".generated-{n}"
    if ready.exists():
        return
    generate_base(base, n, n // 100)
    Project(base, create=False).reindex(COLLECTION)
    ready.write_text("")


def _measure(python: str, base: Path, seconds: float, ident: str | None) -> dict[str, Any]:
    args: list[object] = [base, COLLECTION, seconds]
    if ident is not None:
        args.append(ident)
    return run_child(python, "tui_idle_child.py", *args)


def measure_idle(
    root: Path, n: int, pending: int, seconds: float, rounds: int, old_python: str
) -> dict[str, Any]:
    """Every situation, ``rounds`` times for each Python (see the module docstring)."""
    base = root / "base"
    _prepare(base, n)
    pythons = {"new": sys.executable, "old": old_python}
    out: dict[str, Any] = {"n": n, "pending": pending, "seconds": seconds, "pythons": pythons}
    out["load_before"] = os.getloadavg()
    runs: dict[str, dict[str, list[float]]] = {s: {"new": [], "old": []} for s in _SITUATIONS}
    holders: list[Any] = []
    appender: subprocess.Popen[bytes] | None = None
    idents = _pending_idents(n, pending)
    try:
        for situation in _SITUATIONS:
            tailed = None
            if situation == "pending":
                holders = _start_holders(base / COLLECTION, idents, False)
            if situation == "tailing":
                tailed = idents[len(idents) // 2]
                log = base / COLLECTION / tailed / "run.log"
                appender = subprocess.Popen([sys.executable, "-c", _APPENDER, str(log)])
            for k in range(rounds):
                order = ("old", "new") if k % 2 == 0 else ("new", "old")
                for which in order:
                    result = _measure(pythons[which], base, seconds, tailed)
                    runs[situation][which].append(result["cpu_fraction"])
                    print(situation, which, f"{result['cpu_fraction'] * 100:.2f}%", flush=True)
    finally:
        if appender is not None:
            appender.kill()
            appender.wait()
        for holder in holders:
            holder.kill()
            holder.wait()
    out["runs"] = runs
    out["load_after"] = os.getloadavg()
    return out


def idle_rows(result: dict[str, Any], where: str) -> list[Row]:
    """One row per situation: this tree's median CPU share against the other's."""
    n, p = result["n"], result["pending"]
    names = {
        "idle": "idle",
        "pending": f"idle, {p:,} live pending",
        "tailing": f"{p:,} live pending, tailing an active log",
    }
    rows = []
    for situation in _SITUATIONS:
        new = spread([x * 100 for x in result["runs"][situation]["new"]])
        old = spread([x * 100 for x in result["runs"][situation]["old"]])
        target = _TARGETS[situation]
        rows.append(
            Row(
                f"TUI, {n:,} rows, {where}: CPU, {names[situation]} (vs before)",
                f"{new.median:.1f}% of a core",
                f"{old.median:.1f}%",
                ratio=new.median / old.median if old.median else None,
                target=f"≤ {target:g}%",
                passed=new.median <= target,
                detail={"new_pct": new.as_dict(), "old_pct": old.as_dict()},
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--pending", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--old-python", default="/work/main/.venv/bin/python")
    parser.add_argument("--where", default="memory")
    parser.add_argument("--out", type=Path, default=_RESULTS / "tui_idle.json")
    opts = parser.parse_args(argv)
    result = measure_idle(
        opts.dir, opts.n, opts.pending, opts.seconds, opts.rounds, opts.old_python
    )
    rows = idle_rows(result, opts.where)
    result["rows"] = [row.as_dict() for row in rows]
    write_json(opts.out, result)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
