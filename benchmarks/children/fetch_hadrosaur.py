"""This project fetching N new trivial resources, then fetching them again (cached).

With LOGGED > 0, then also LOGGED new resources of a function that logs one
line, as the floor does (a function that never logs opens no log file), in a
base of their own that is removed afterwards so it does not count on disk.

Usage: python fetch_hadrosaur.py ROOT N CACHED [LOGGED]  (prints one JSON object)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from typing import Any

from hadrosaur import Context, Project


def trivial(ident: str, args: Any, ctx: Context) -> dict[str, Any]:
    """The benchmarked function: no work, a small result."""
    return {"ident": ident, "n": len(ident)}


def logging_trivial(ident: str, args: Any, ctx: Context) -> dict[str, Any]:
    """The benchmarked function with the floor's one log line."""
    ctx.logger.info("computing %s", ident)
    return {"ident": ident, "n": len(ident)}


def time_logged(root: str, n: int) -> float:
    """Seconds to fetch ``n`` new resources of :func:`logging_trivial` in a fresh base."""
    base = os.path.join(root, "logged-base")
    proj = Project(base)
    proj.resource("logged")(logging_trivial)
    start = time.perf_counter()
    for i in range(n):
        proj.fetch("logged", f"r{i:07d}")
    seconds = time.perf_counter() - start
    shutil.rmtree(base)
    return seconds


def main() -> None:
    root, n, cached = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    logged = int(sys.argv[4]) if len(sys.argv) > 4 else 0
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
    if logged:
        report.update(logged_seconds=time_logged(root, logged), logged_n=logged)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
