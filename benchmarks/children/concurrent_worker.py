"""One of the worker processes of the concurrency benchmark: fetch a slice of idents.

Usage: python concurrent_worker.py BASE START STOP  (prints one JSON object)

Times are wall-clock (time.time) so that the parent can combine the workers'
spans into one rate.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any

from hadrosaur import Context, Project


def trivial(ident: str, args: Any, ctx: Context) -> dict[str, Any]:
    """The benchmarked function: no work, a small result."""
    return {"ident": ident, "n": len(ident)}


def main() -> None:
    base, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    proj = Project(base)
    proj.resource("trivial")(trivial)
    failures: list[str] = []
    not_completed = 0
    began = time.time()
    for i in range(start, stop):
        try:
            res = proj.fetch("trivial", f"r{i:07d}")
        except Exception:
            failures.append(traceback.format_exc(limit=3))
            continue
        if res.status != "completed":
            not_completed += 1
    ended = time.time()
    print(
        json.dumps(
            {
                "done": stop - start - len(failures),
                "began": began,
                "ended": ended,
                "exceptions": len(failures),
                "first_exceptions": failures[:3],
                "not_completed": not_completed,
            }
        )
    )


if __name__ == "__main__":
    main()
