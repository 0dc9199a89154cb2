"""Time fetch_many of many trivial resources against a plain loop of fetch.

Trivial resources measure hadrosaur's own cost per resource (files, locks,
pickling), which is what fetch_many must keep low for users with millions of
small resources. Each run gets a fresh base directory; by default on
/dev/shm (memory, when there is one), and with ``--disk`` also on a disk.

Usage::

    python -m benchmarks.fetch_many [--n 10000] [--repeat 3] [--disk] [--out PATH]

Prints the best of ``--repeat`` times of each and their ratio, and writes them as JSON to
benchmarks/results/fetch_many.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hadrosaur import Context, Project

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "fetch_many.json"


def trivial(ident: str, args: Any, ctx: Context) -> int:
    """The benchmarked function: no work at all (module level, so workers import it)."""
    return len(ident)


def _fresh_project(root: Path) -> Project:
    base = Path(tempfile.mkdtemp(prefix="tmp-fetch-many-", dir=root))
    proj = Project(base)
    proj.resource("trivial")(trivial)
    return proj


def _timed(run: Callable[[Project, list[str]], object], root: Path, idents: list[str]) -> float:
    proj = _fresh_project(root)
    try:
        start = time.perf_counter()
        run(proj, idents)
        elapsed = time.perf_counter() - start
        counts = proj.stats("trivial")["counts"]
        assert counts["completed"] == len(idents), counts
        return elapsed
    finally:
        shutil.rmtree(proj.base)


def _loop(proj: Project, idents: list[str]) -> None:
    for ident in idents:
        proj.fetch("trivial", ident)


def _many(proj: Project, idents: list[str]) -> None:
    proj.fetch_many("trivial", idents, progress=False)


def measure(root: Path, n: int, repeat: int) -> dict[str, Any]:
    """Time both ways on fresh bases under ``root``, best of ``repeat``; return the numbers.

    The best run is reported because other load on the machine only ever adds time.
    """
    idents = [f"r{i:07d}" for i in range(n)]
    loops, manys = [], []
    for _ in range(repeat):
        loops.append(_timed(_loop, root, idents))
        manys.append(_timed(_many, root, idents))
    loop_s, many_s = min(loops), min(manys)
    return {
        "where": str(root),
        "n": n,
        "repeat": repeat,
        "loop_fetch_all_s": [round(t, 3) for t in loops],
        "fetch_many_all_s": [round(t, 3) for t in manys],
        "loop_fetch_s": round(loop_s, 3),
        "fetch_many_s": round(many_s, 3),
        "speedup": round(loop_s / many_s, 2),
        "loop_per_resource_us": round(loop_s / n * 1e6, 1),
        "fetch_many_per_resource_us": round(many_s / n * 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="resources per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument("--disk", action="store_true", help="also measure on a disk")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result path")
    opts = parser.parse_args(argv)

    roots = []
    if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK):
        roots.append(("memory (/dev/shm)", Path("/dev/shm")))
    if opts.disk or not roots:
        disk = HERE / "results"
        disk.mkdir(parents=True, exist_ok=True)
        roots.append(("disk", disk))

    runs = []
    for label, root in roots:
        result = {"filesystem": label, **measure(root, opts.n, opts.repeat)}
        runs.append(result)
        print(
            f"{label}: {opts.n} trivial resources: loop of fetch {result['loop_fetch_s']:.2f} s, "
            f"fetch_many {result['fetch_many_s']:.2f} s "
            f"({os.cpu_count()} CPUs): fetch_many is {result['speedup']:.2f}x the loop's speed"
        )
    report = {
        "benchmark": "fetch_many vs a loop of fetch, trivial resources, default executor",
        "command": "python -m benchmarks." + Path(__file__).stem + " " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "runs": runs,
    }
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {opts.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
