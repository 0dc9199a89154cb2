"""hadrosaur 0.4.1 reading a collection: stats and find_by_status, timed.

Run with the python of the 0.4.1 venv (see benchmarks/legacy.py). The first
call of each is made untimed (0.4.1 drains its update markers then); the
rest are timed one by one.

Usage: python legacy_reads.py BASE COLLECTION REPEATS  (prints one JSON object)
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import hadrosaur  # 0.4.1


def unused(ident, args, ctx):  # type: ignore[no-untyped-def]
    """A collection needs a function; reading never calls it."""
    raise AssertionError("not called")


def _times(call: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        value = call()
        out.append(time.perf_counter() - start)
    return out, value


def main() -> None:
    base, coll, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out = os.fdopen(os.dup(1), "w")
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (0.4.1 prints)
    proj = hadrosaur.Project(base)
    proj.collection(coll)(unused)
    proj.stats(coll)
    stats_s, counts = _times(lambda: proj.stats(coll), repeats)
    error_s, errors = _times(lambda: proj.find_by_status(coll, "error"), repeats)
    complete_s, complete = _times(lambda: proj.find_by_status(coll, "complete"), 1)
    report = {
        "system": "hadrosaur 0.4.1",
        "stats_s": stats_s,
        "counts": counts["counts"],
        "by_status_error_s": error_s,
        "by_status_error_k": len(errors),
        "by_status_completed_s": complete_s,
        "by_status_completed_k": len(complete),
    }
    out.write(json.dumps(report) + "\n")
    out.close()


if __name__ == "__main__":
    main()
