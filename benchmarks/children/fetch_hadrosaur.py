"""This project fetching N new trivial resources, then fetching them again (cached).

Usage: python fetch_hadrosaur.py ROOT N CACHED  (prints one JSON object)
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
    root, n, cached = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    proj = Project(os.path.join(root, "base"))
    proj.resource("trivial")(trivial)
    idents = [f"r{i:07d}" for i in range(n)]
    start = time.perf_counter()
    for ident in idents:
        proj.fetch("trivial", ident)
    report: dict[str, Any] = {"system": "hadrosaur", "n": n, "done": n, "error": ""}
    report["seconds"] = time.perf_counter() - start
    if cached:
        count = min(cached, n)
        start = time.perf_counter()
        for ident in idents[:count]:
            res = proj.fetch("trivial", ident)
            assert res.result == {"ident": ident, "n": len(ident)}, res.result
        report.update(cached_seconds=time.perf_counter() - start, cached_n=count)
        counts = proj.stats("trivial")["counts"]
        assert counts["completed"] == n, counts
    print(json.dumps(report))


if __name__ == "__main__":
    main()
