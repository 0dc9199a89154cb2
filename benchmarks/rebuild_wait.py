"""The longest wait of a reader while the index of N resources is rebuilt: aside vs in place.

A reader child calls ``stats`` in a loop (as the TUI and scripts do, every
20 ms), and a worker child fetches new resources (one every 5 ms, so that
the reader drains markers into the old index during the build), while this
process rebuilds the index of a generated base of N resources, by turns
as ``reindex`` does now (built aside without the lock, swapped in under
it: aside.py) and in place holding the lock for the whole scan (what
every rebuild did before, and what a missing index still needs).
The figure is the longest single ``stats`` call that overlapped the
rebuild; the target is 1 s. Times come from ``time.monotonic`` in both
processes (one clock on Linux). After each rebuild, ``check`` compares the
index with the directories: what the worker did during the build must be
in the new index (``mismatches``, always 0).

    python -m benchmarks.rebuild_wait /dev/shm --n 10000 --n 100000 --rounds 2
    python -m benchmarks.rebuild_wait /var/tmp --n 1000000 --rounds 1 --where disk \
        --out rebuild_wait-1m.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hadrosaur import Project
from hadrosaur._index import CollectionIndex

from .figures import Row, median_ratio, spread
from .generate import COLLECTION, generate_base, generated, remove_tree

__all__ = ("rebuild_wait_rows", "run_rebuild_wait")

RESULTS = Path(__file__).resolve().parent / "results"
#: The reader's pause between two calls (the TUI polls about this often).
READ_EVERY = 0.02
#: The worker's pause between two fetches of new resources.
WORK_EVERY = 0.005
MODES = ("aside", "in place")


def _reader(base: Path, stop: Path) -> None:
    """The child: stats in a loop until ``stop`` exists; prints every call's (start, end)."""
    proj = Project(base, create=False, index_timeout=600)
    calls: list[tuple[float, float]] = []
    proj.stats(COLLECTION)
    print("ready", flush=True)
    while not stop.exists():
        began = time.monotonic()
        proj.stats(COLLECTION)
        calls.append((began, time.monotonic()))
        time.sleep(READ_EVERY)
    print(json.dumps(calls), flush=True)


def _worker(base: Path, stop: Path) -> None:
    """The child: fetch new resources until ``stop`` exists; prints how many."""
    proj = Project(base, create=False)
    proj.resource(COLLECTION)(generated)
    print("ready", flush=True)
    done = 0
    while not stop.exists():
        proj.fetch(COLLECTION, f"w{os.getpid()}-{done}")
        done += 1
        time.sleep(WORK_EVERY)
    print(json.dumps(done), flush=True)


def _start(role: str, base: Path, stop: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.rebuild_wait", role, str(base), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    return child


def _one(base: Path, mode: str) -> dict[str, Any]:
    stop = Path(tempfile.mktemp(prefix="rebuild-wait-stop-"))
    children = []
    try:
        children.append(child := _start("--read", base, stop))
        children.append(worker := _start("--work", base, stop))
        assert child.stdout is not None and worker.stdout is not None
        time.sleep(0.2)
        started = time.monotonic()
        with CollectionIndex(base / COLLECTION, timeout=600) as index:
            if mode == "aside":
                index.rebuild()
            else:
                index._rebuild_here()  # the rebuild as it was: holding the lock throughout
            counts = index.counts()
        ended = time.monotonic()
        time.sleep(0.2)
        stop.touch()
        calls = json.loads(child.stdout.readline())
        fetched = json.loads(worker.stdout.readline())
        for each in children:
            each.wait(timeout=60)
    finally:
        stop.touch()
        for each in children:
            if each.poll() is None:
                each.kill()
        stop.unlink(missing_ok=True)
    during = [end - began for began, end in calls if end > started and began < ended]
    return {
        "mode": mode,
        "rebuild_s": ended - started,
        "longest_wait_s": max(during, default=0.0),
        "reads_during": len(during),
        "worker_fetched": fetched,
        "total_after": sum(counts.values()),
        "mismatches": len(Project(base, create=False).check(COLLECTION)),
    }


def run_rebuild_wait(directory: Path, n: int, rounds: int, log: Any = print) -> dict[str, Any]:
    """Generate a base of ``n`` in ``directory``; rebuild it ``rounds`` times each way, by turns."""
    work = Path(tempfile.mkdtemp(prefix="bench-rebuild-wait-", dir=directory))
    runs = []
    try:
        gen = generate_base(work / "base", n, min(1000, n // 10))
        log(f"  generated {n:,} resources in {gen['seconds']:.1f} s")
        Project(work / "base", create=False).stats(COLLECTION)  # the first index
        for rnd in range(rounds):
            for mode in MODES if rnd % 2 == 0 else MODES[::-1]:
                out = {"round": rnd, "n": n, **_one(work / "base", mode)}
                runs.append(out)
                log(
                    f"  round {rnd + 1}/{rounds} N={n:,} {mode:8}: "
                    f"rebuild {out['rebuild_s']:.2f} s, "
                    f"longest reader wait {out['longest_wait_s'] * 1e3:,.0f} ms "
                    f"({out['reads_during']} reads during it; {out['worker_fetched']} "
                    f"fetched by the worker, {out['mismatches']} mismatches)"
                )
    finally:
        remove_tree(work)
    return {"n": n, "rounds": rounds, "read_every_s": READ_EVERY, "runs": runs}


def rebuild_wait_rows(result: dict[str, Any], where: str) -> list[Row]:
    """The longest reader wait (aside vs in place), and what the rebuild itself took."""
    n, runs = result["n"], result["runs"]
    by = {mode: {r["round"]: r for r in runs if r["mode"] == mode} for mode in MODES}
    rows = []
    for key, label, unit, target in (
        ("longest_wait_s", f"longest reader wait during a rebuild of N={n:,}, {where}", 1e3, 1.0),
        ("rebuild_s", f"rebuild of N={n:,} itself, {where}", 1.0, None),
    ):
        ours = [r[key] for r in by["aside"].values()]
        ref = [r[key] for r in by["in place"].values()]
        pairs = [(by["aside"][k][key], by["in place"][k][key]) for k in by["aside"]]
        worst = max(ours)
        shown = f"{worst * 1e3:,.0f} ms" if unit == 1e3 else f"{spread(ours).median:.2f} s"
        ref_shown = f"{max(ref) * 1e3:,.0f} ms" if unit == 1e3 else f"{spread(ref).median:.2f} s"
        rows.append(
            Row(
                f"{label}: aside vs in place",
                shown,
                ref_shown,
                median_ratio(pairs),
                "≤ 1 s" if target else "—",
                (worst <= target) if target else None,
                {"aside": spread(ours).as_dict(), "in_place": spread(ref).as_dict()},
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("stop", type=Path, nargs="?")
    parser.add_argument("--read", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, action="append")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--where", default="memory")
    parser.add_argument("--out", default="rebuild_wait.json", help="file in benchmarks/results/")
    opts = parser.parse_args(argv)
    if opts.read or opts.work:
        (_reader if opts.read else _worker)(opts.dir, opts.stop)
        return 0
    results, rows = [], []
    for n in opts.n or [100_000]:
        result = run_rebuild_wait(opts.dir, n, opts.rounds)
        results.append(result)
        rows.extend(rebuild_wait_rows(result, opts.where))
    for row in rows:
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}x"
        passed = "—" if row.passed is None else ("pass" if row.passed else "FAIL")
        print(
            f"| {row.metric} | {row.ours} | {row.reference} | {ratio} | {row.target} | {passed} |"
        )
    RESULTS.mkdir(exist_ok=True)
    out = {
        "load_average": os.getloadavg(),
        "results": results,
        "rows": [r.as_dict() for r in rows],
    }
    (RESULTS / opts.out).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
