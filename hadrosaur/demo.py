"""A small live pipeline to show hadrosaur working: ``python -m hadrosaur.demo BASE``.

Four collections with slow resources, logs that grow while they run, and
some failures, computed by a few threads in rounds (a new batch each round,
and a collection that appears late) so that a monitor has something to
watch for a few minutes. Step lengths are seeded; failures are not, so
recomputing an error may succeed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .context import Context
from .project import Project

__all__ = ("COLLECTIONS", "main", "round_idents", "run_demo")


class DemoFailure(RuntimeError):
    """Raised on purpose by some demo resources, so there are errors to triage."""


def _work(ident: str, args: dict[str, Any], ctx: Context, steps: int) -> None:
    """Log a few steps with pauses, then fail with probability ``args["failure_rate"]``."""
    rng = random.Random(ident)  # step lengths are the same every run
    speed = float(args.get("speed", 1.0))
    for step in range(steps):
        ctx.logger.info("%s: step %d of %d", ident, step + 1, steps)
        time.sleep(rng.uniform(0.05, 0.4) / speed)
    # Failures are not seeded: recomputing an error may succeed, as in real life.
    if random.random() < float(args.get("failure_rate", 0.12)):
        ctx.logger.error("%s: giving up", ident)
        raise DemoFailure(f"{ident}: checksum mismatch after {steps} steps")


def download(ident: str, args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A demo download: three steps, writes a file into ctx.subdir."""
    _work(ident, args, ctx, steps=3)
    (ctx.subdir / "data.txt").write_text(f"data of {ident}\n")
    return {"bytes": len(ident) * 1024, "path": str(ctx.subdir / "data.txt")}


def analyse(ident: str, args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A demo analysis: six steps."""
    _work(ident, args, ctx, steps=6)
    return {"score": round(random.Random(ident).random(), 4)}


def load(ident: str, args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A demo database import: two steps."""
    _work(ident, args, ctx, steps=2)
    return {"rows": random.Random(ident).randint(10, 1000)}


def report(ident: str, args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A demo report: one step. Its collection appears only in the second round."""
    _work(ident, args, ctx, steps=1)
    return {"pages": len(ident)}


#: (collection, function, ident pattern, idents per round, first round it appears in)
COLLECTIONS: tuple[
    tuple[str, Callable[[str, dict[str, Any], Context], Any], str, int, int], ...
] = (
    ("downloads", download, "GCF_{:05d}", 30, 0),
    ("analyses", analyse, "sample-{:04d}", 16, 0),
    ("imports", load, "batch-{:03d}", 12, 0),
    ("reports", report, "report-{:03d}", 10, 1),
)


def round_idents(round_number: int) -> dict[str, list[str]]:
    """The idents each collection adds in round ``round_number`` (0-based)."""
    out = {}
    for name, _, pattern, per_round, first in COLLECTIONS:
        if round_number >= first:
            start = (round_number - first) * per_round
            out[name] = [pattern.format(i) for i in range(start, start + per_round)]
    return out


def run_demo(
    base: Path, workers: int = 4, speed: float = 1.0, rounds: int = 6, quiet: bool = False
) -> Project:
    """Compute ``rounds`` rounds of demo resources in ``base`` with ``workers`` threads.

    Each round plans and computes a new batch in every collection, so that a
    monitor sees waiting counts fall, errors appear, and (in round 2) a new
    collection arrive.
    """
    proj = Project(base)
    args = {"speed": speed}
    for number in range(rounds):
        batch = round_idents(number)
        for name, func, _, _, first in COLLECTIONS:
            if first == number:
                # Module-level functions: `hadrosaur recompute` can load them again.
                proj.resource(name)(func)
        for coll, idents in batch.items():
            proj.plan(coll, idents)
        jobs = [(coll, ident) for coll, idents in batch.items() for ident in idents]
        random.Random(number).shuffle(jobs)
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(proj.fetch, coll, ident, args) for coll, ident in jobs]
            while not all(f.done() for f in futures):
                if not quiet:
                    _print_stats(proj)
                time.sleep(1.0)
            for f in futures:
                f.result()
    if not quiet:
        _print_stats(proj)
    return proj


def _print_stats(proj: Project) -> None:
    line = "  ".join(
        f"{name}: {c['counts']['completed']}/{c['counts']['total']} done, "
        f"{c['counts']['error']} errors"
        for name, c in proj.stats().items()
    )
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hadrosaur.demo",
        description="Run a small demo pipeline (three collections, some failures) in BASE.",
        epilog="Example: python -m hadrosaur.demo /tmp/demo-base --workers 4",
    )
    parser.add_argument("base", type=Path, help="base directory to compute into")
    parser.add_argument("--workers", type=int, default=4, help="threads computing (default 4)")
    parser.add_argument("--speed", type=float, default=1.0, help="speed factor (default 1.0)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of new work (default 6)")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.speed <= 0 or args.rounds < 1:
        parser.error("--workers and --rounds must be at least 1, and --speed above 0")
    try:
        run_demo(args.base, args.workers, args.speed, args.rounds)
    except KeyboardInterrupt:
        print("interrupted: running resources are left as interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    # Run the functions from the importable module, not from __main__, so that the
    # recorded function references can be loaded again by `hadrosaur recompute`.
    from hadrosaur.demo import main as importable_main

    sys.exit(importable_main())
