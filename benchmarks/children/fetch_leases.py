"""Trivial fetches with leases and without, alternating in blocks in one process.

Two projects in two bases of ROOT, one with the default lease interval and
one with leases off (``lease_interval=0``); BLOCKS times, each fetches BLOCK
new resources, in alternating order, so that a change in the machine's load
falls on both alike. Prints the seconds each spent (wall, and CPU of the
fetching thread), and the per-block pairs of wall seconds.

Usage: python fetch_leases.py ROOT BLOCK BLOCKS  (prints one JSON object)
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from hadrosaur import Context, Project


def trivial(ident: str, args: Any, ctx: Context) -> dict[str, Any]:
    """The benchmarked function: no work, a small result."""
    return {"ident": ident, "n": len(ident)}


def main() -> None:
    root, block, blocks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    projects = {
        "with": Project(os.path.join(root, "with"), lease_interval=None),
        "without": Project(os.path.join(root, "without"), lease_interval=0),
    }
    for proj in projects.values():
        proj.resource("trivial")(trivial)
    seconds = {"with": 0.0, "without": 0.0}
    cpu = {"with": 0.0, "without": 0.0}
    pairs = []
    for b in range(blocks):
        order = ("with", "without") if b % 2 == 0 else ("without", "with")
        took = {}
        for name in order:
            proj = projects[name]
            start, start_cpu = time.perf_counter(), time.thread_time()
            for i in range(b * block, (b + 1) * block):
                proj.fetch("trivial", f"r{i:07d}")
            took[name] = time.perf_counter() - start
            seconds[name] += took[name]
            cpu[name] += time.thread_time() - start_cpu
        pairs.append((took["with"], took["without"]))
    print(json.dumps({"n": block * blocks, "seconds": seconds, "cpu": cpu, "pairs": pairs}))


if __name__ == "__main__":
    main()
