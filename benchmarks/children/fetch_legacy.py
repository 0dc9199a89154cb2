"""hadrosaur 0.4.1 fetching N new trivial resources, then fetching them again (cached).

Run with the python of a venv that has ``hadrosaur==0.4.1`` (see
benchmarks/legacy.py), never with the project's: it imports 0.4.1's
``hadrosaur``. 0.4.1 opens a log file handler per fetch and never closes it,
so the open-file limit is raised to its hard maximum first; when even that is
not enough the fetch fails with "Too many open files", and the output says
how many resources were done. 0.4.1 prints two lines per fetch: stdout is
sent to /dev/null while timing, and the JSON goes to the original stdout.

Usage: python fetch_legacy.py ROOT N CACHED  (prints one JSON object)
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import hadrosaur  # 0.4.1


def trivial(ident, args, ctx):  # type: ignore[no-untyped-def]
    """The benchmarked function: no work, a small result."""
    return {"ident": ident, "n": len(ident)}


def main() -> None:
    root, n, cached = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    out = os.fdopen(os.dup(1), "w")
    devnull = open(os.devnull, "w")  # noqa: SIM115 (kept open while 0.4.1 prints)
    sys.stdout, sys.stderr = devnull, devnull
    proj = hadrosaur.Project(os.path.join(root, "base"))
    proj.collection("trivial")(trivial)
    report = {"system": "hadrosaur 0.4.1", "n": n, "fd_limit": hard, "error": ""}
    done = 0
    start = time.perf_counter()
    try:
        for i in range(n):
            proj.fetch("trivial", f"r{i:07d}")
            done += 1
    except OSError as exc:
        report["error"] = f"{type(exc).__name__}: {exc.strerror or exc} after {done} fetches"
    report.update(seconds=time.perf_counter() - start, done=done)
    if cached and not report["error"]:
        count = min(cached, n)
        start = time.perf_counter()
        for i in range(count):
            res = proj.fetch("trivial", f"r{i:07d}")
            assert res.result == {"ident": res.ident, "n": len(res.ident)}, res.result
        report.update(cached_seconds=time.perf_counter() - start, cached_n=count)
        counts = proj.stats("trivial")["counts"]
        assert counts["complete"] == n, counts
    out.write(json.dumps(report) + "\n")
    out.close()


if __name__ == "__main__":
    main()
