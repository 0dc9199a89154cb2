"""The drain benchmark's child: the first read after N fetches, per change.

Usage: python drain_first_read.py BASE N ROUNDS  (prints one JSON object)

Each round uses a collection of its own: one fetch and a ``stats`` build its
index, then N fetches each leave a marker, then the first ``stats`` drains
them all (timed), and three more ``stats`` calls time a read with nothing to
drain. Only the public API is used, so that any version of the project can be
measured with its own interpreter.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from hadrosaur import Context, Project


def trivial(ident: str, args: Any, ctx: Context) -> dict[str, Any]:
    """The benchmarked function: no work, a small result."""
    return {"ident": ident, "n": len(ident)}


def main() -> None:
    base, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    proj = Project(base)
    first: list[float] = []
    first_cpu: list[float] = []
    later: list[float] = []
    for r in range(rounds):
        name = f"drain{r}"
        proj.resource(name)(trivial)
        proj.fetch(name, "seed")
        proj.stats(name)  # the index exists before the fetches
        for i in range(n):
            proj.fetch(name, f"r{i:07d}")
        reader = Project(base, create=False)
        began, began_cpu = time.perf_counter(), time.process_time()
        counts = reader.stats(name)["counts"]
        first.append(time.perf_counter() - began)
        first_cpu.append(time.process_time() - began_cpu)
        if counts["completed"] != n + 1:
            raise SystemExit(f"the first read counted {counts}, not {n + 1} completed")
        for _ in range(3):
            began = time.perf_counter()
            reader.stats(name)
            later.append(time.perf_counter() - began)
    print(json.dumps({"n": n, "first_s": first, "first_cpu_s": first_cpu, "later_s": later}))


if __name__ == "__main__":
    main()
