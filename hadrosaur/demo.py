"""A small live pipeline to show hadrosaur working: ``python -m hadrosaur.demo BASE``.

Three collections with slow resources, logs that grow while they run, and
some failures, computed by a few threads so that a monitor has something to
watch. Deterministic for a given seed, so a demo looks the same every time.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .context import Context
from .project import Project

__all__ = ("define_demo", "main", "run_demo")


class DemoFailure(RuntimeError):
    """Raised on purpose by some demo resources, so there are errors to triage."""


def define_demo(proj: Project, speed: float = 1.0) -> dict[str, list[str]]:
    """Define the demo collections on ``proj``; return the idents of each."""

    def work(ident: str, args: dict[str, Any], ctx: Context, steps: int) -> None:
        rng = random.Random(ident)
        for step in range(steps):
            ctx.logger.info("%s: step %d of %d", ident, step + 1, steps)
            time.sleep(rng.uniform(0.05, 0.4) / speed)
        if rng.random() < args.get("failure_rate", 0.1):
            ctx.logger.error("%s: giving up", ident)
            raise DemoFailure(f"{ident}: checksum mismatch after {steps} steps")

    @proj.resource("downloads")
    def download(ident: str, args: dict[str, Any], ctx: Context) -> dict[str, Any]:
        work(ident, args, ctx, steps=3)
        (ctx.subdir / "data.txt").write_text(f"data of {ident}\n")
        return {"bytes": len(ident) * 1024, "path": str(ctx.subdir / "data.txt")}

    @proj.resource("analyses")
    def analyse(ident: str, args: dict[str, Any], ctx: Context) -> dict[str, Any]:
        work(ident, args, ctx, steps=6)
        return {"score": random.Random(ident).random()}

    @proj.resource("imports")
    def load(ident: str, args: dict[str, Any], ctx: Context) -> dict[str, Any]:
        work(ident, args, ctx, steps=2)
        return {"rows": random.Random(ident).randint(10, 1000)}

    return {
        "downloads": [f"GCF_{i:04d}" for i in range(60)],
        "analyses": [f"sample-{i:03d}" for i in range(40)],
        "imports": [f"batch-{i:02d}" for i in range(25)],
    }


def run_demo(base: Path, workers: int = 4, speed: float = 1.0, quiet: bool = False) -> Project:
    """Compute every demo resource in ``base`` with ``workers`` threads, printing progress."""
    proj = Project(base)
    plan = define_demo(proj, speed)
    for coll, idents in plan.items():
        proj.plan(coll, idents)
    jobs = [(coll, ident) for coll, idents in plan.items() for ident in idents]
    random.Random(0).shuffle(jobs)
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(proj.fetch, coll, ident) for coll, ident in jobs]
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
    args = parser.parse_args(argv)
    if args.workers < 1 or args.speed <= 0:
        parser.error("--workers must be at least 1 and --speed above 0")
    try:
        run_demo(args.base, args.workers, args.speed)
    except KeyboardInterrupt:
        print("interrupted: running resources are left as interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
