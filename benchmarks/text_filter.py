"""The text filter at a million rows, keystroke by keystroke: this tree against another checkout.

Each Python runs ``children/text_filter_child.py`` (a model of N generated
rows; every prefix of a few typed texts is a filter, timed around
``set_text_filter``) in a child process of its own, in turn. Reported: the
median and the slowest keystroke of each, and for this tree the slowest
slice of the job the screen runs between keystrokes (what typing can wait
for). Run as ``python -m benchmarks.text_filter [--n N] [--old-python PY]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from .figures import Row
from .report import format_table, write_json
from .subprocesses import run_child

__all__ = ("filter_rows", "measure_filter")

_RESULTS = Path(__file__).resolve().parent / "results"


def measure_filter(n: int, old_python: str, rounds: int) -> dict[str, Any]:
    """``rounds`` runs of the child with each Python, alternating which goes first."""
    out: dict[str, Any] = {"n": n, "load_before": os.getloadavg(), "new": [], "old": []}
    pythons = {"new": sys.executable, "old": old_python}
    for k in range(rounds):
        for which in ("old", "new") if k % 2 == 0 else ("new", "old"):
            out[which].append(run_child(pythons[which], "text_filter_child.py", n))
    out["load_after"] = os.getloadavg()
    return out


def _keystrokes(runs: list[dict[str, Any]], key: str) -> list[float]:
    return [k[key] * 1e3 for run in runs for k in run["keystrokes"] if k[key] is not None]


def filter_rows(result: dict[str, Any], where: str) -> list[Row]:
    """Rows: a keystroke (median, slowest) vs before, and the slowest slice."""
    n = result["n"]
    new, old = _keystrokes(result["new"], "s"), _keystrokes(result["old"], "s")
    slices = _keystrokes(result["new"], "slowest_slice_s")
    med_new, med_old = statistics.median(new), statistics.median(old)
    return [
        Row(
            f"TUI text filter, {n:,} rows, {where}: one keystroke, median (vs before)",
            f"{med_new:.0f} ms",
            f"{med_old:.0f} ms",
            ratio=med_new / med_old,
            target="≤ 50 ms",
            passed=med_new <= 50,
            detail={"slowest_ms": max(new), "before_slowest_ms": max(old), "keystrokes": len(new)},
        ),
        Row(
            f"TUI text filter, {n:,} rows, {where}: the longest the UI waits between two keys",
            f"{max(slices):.0f} ms",
            detail={"median_slice_ms": statistics.median(slices)},
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--old-python", default="/work/main/.venv/bin/python")
    parser.add_argument("--where", default="memory")
    parser.add_argument("--out", type=Path, default=_RESULTS / "text_filter.json")
    opts = parser.parse_args(argv)
    result = measure_filter(opts.n, opts.old_python, opts.rounds)
    rows = filter_rows(result, opts.where)
    result["rows"] = [row.as_dict() for row in rows]
    write_json(opts.out, result)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
