"""What leases cost a trivial fetch: with leases (the default) vs without, side by side.

Each round is one child (children/fetch_leases.py) holding two projects in
fresh bases, one with the default lease interval and one with leases off
(``lease_interval=0``), which fetch new trivial resources in alternating
blocks (timed inside the child), so that the machine's load, which on a
shared machine changes from second to second, falls on both alike. Reported:
the median over blocks of the ratio within each block, and the median over
rounds of the ratio of their totals. A trivial
compute ends long before its first renewal is due, so with leases it pays
only the registration with the heartbeat (and one thread start per idle
interval), and its meta.json one more field.

Run as ``python -m benchmarks.leases [--block B] [--blocks K] [--rounds R] [--dir DIR]``;
prints one JSON object (and writes it to FILE, default benchmarks/results/leases.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from .figures import median_ratio, spread
from .generate import remove_tree
from .subprocesses import run_child

__all__ = ("run_leases",)

_RESULTS = Path(__file__).resolve().parent / "results" / "leases.json"


def run_leases(root: Path, block: int, blocks: int, rounds: int) -> dict[str, Any]:
    """Rounds of one child each, alternating blocks; the per-block ratios and their median."""
    pairs: list[tuple[float, float]] = []
    totals: list[tuple[float, float]] = []
    cpu: list[tuple[float, float]] = []
    for rnd in range(rounds):
        work = Path(tempfile.mkdtemp(prefix="bench-leases-", dir=root))
        try:
            out = run_child(sys.executable, "fetch_leases.py", work, block, blocks)
        finally:
            remove_tree(work)
        pairs += [(a, b) for a, b in out["pairs"]]
        n = out["n"]
        with_us, without_us = (out["seconds"][k] / n * 1e6 for k in ("with", "without"))
        totals.append((with_us, without_us))
        cpu.append((out["cpu"]["with"] / n * 1e6, out["cpu"]["without"] / n * 1e6))
        print(
            f"  round {rnd + 1}/{rounds}: with leases {with_us:6.0f} µs/resource, "
            f"without {without_us:6.0f} µs/resource, ratio {with_us / without_us:.3f}, "
            f"CPU ratio {cpu[-1][0] / cpu[-1][1]:.3f}",
            file=sys.stderr,
        )
    return {
        "benchmark": "fetch, new trivial resource: with leases / without",
        "block": block,
        "blocks": blocks,
        "rounds": rounds,
        "load_before": os.getloadavg()[0],
        "with_leases_us": spread([t[0] for t in totals]).as_dict(),
        "without_us": spread([t[1] for t in totals]).as_dict(),
        "ratio_of_totals_median": median_ratio(totals),
        "ratio_per_block_median": median_ratio(pairs),
        "cpu_with_leases_us": spread([c[0] for c in cpu]).as_dict(),
        "cpu_without_us": spread([c[1] for c in cpu]).as_dict(),
        "cpu_ratio_median": median_ratio(cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.leases", description=__doc__)
    parser.add_argument("--block", type=int, default=200, help="fetches per block")
    parser.add_argument("--blocks", type=int, default=20, help="blocks per project and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--out", type=Path, default=_RESULTS)
    options = parser.parse_args()
    result = run_leases(options.dir, options.block, options.blocks, options.rounds)
    result["load_after"] = os.getloadavg()[0]
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
