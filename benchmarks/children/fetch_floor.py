"""The filesystem floor: only the unavoidable file work of one resource, N times.

For each resource: mkdir; atomic writes (temporary file + os.replace) of
meta.json, status "pending", result.json and status "completed"; one appended
log line; two change markers (an O_CREAT open of ``.updates/IDENT``). No
locks, no validation, no error handling: no tracker can do less and still
leave a readable, crash-safe record. Standard library only.

Usage: python fetch_floor.py ROOT N  (prints one JSON object)
"""

from __future__ import annotations

import json
import os
import sys
import time


def _write(path: str, data: bytes) -> None:
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _marker(updates: str, ident: str) -> None:
    os.close(os.open(os.path.join(updates, ident), os.O_WRONLY | os.O_CREAT, 0o644))


def run(coll: str, n: int) -> float:
    """Do the floor's work for ``n`` resources under ``coll``; return the seconds taken."""
    updates = os.path.join(coll, ".updates")
    os.makedirs(updates, exist_ok=True)
    start = time.perf_counter()
    for i in range(n):
        ident = f"r{i:07d}"
        res = os.path.join(coll, ident)
        os.mkdir(res)
        _write(os.path.join(res, "meta.json"), b'{"start_time": %d}' % time.time_ns())
        _write(os.path.join(res, "status"), b"pending")
        _marker(updates, ident)
        with open(os.path.join(res, "run.log"), "a", encoding="utf-8") as log:
            log.write(f"{time.time():.3f} INFO computing {ident}\n")
        _write(os.path.join(res, "result.json"), json.dumps({"ident": ident}).encode())
        _write(os.path.join(res, "status"), b"completed")
        _marker(updates, ident)
    return time.perf_counter() - start


def main() -> None:
    root, n = sys.argv[1], int(sys.argv[2])
    coll = os.path.join(root, "trivial")
    seconds = run(coll, n)
    print(json.dumps({"system": "floor", "n": n, "done": n, "seconds": seconds}))


if __name__ == "__main__":
    main()
