"""Generating large bases quickly: the real on-disk layout, written in parallel.

Computing a million resources through ``fetch`` takes far longer than
reading them, so the read benchmarks (stats, fetch_by_status, rebuild, the
TUI) run on generated bases. A generated resource is exactly what a fetch
leaves: its directory, ``meta.json``, ``result.json`` (or ``error.log``) and
``status``, written with the project's own ``_store.atomic_write`` in the
same order, by one process per CPU. No change markers are written and no
index is made: the first reader builds the index from a scan of the
directories, which is what the rebuild benchmark times.

For hadrosaur 0.4.1 only its status index is generated (``COLL/.status``, a
LevelDB of ident -> status word, written with plyvel), because its ``stats``
and ``find_by_status`` read nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from hadrosaur import Context, Project, _store
from hadrosaur._index.kv import plyvel  # the LevelDB binding installed for this Python

__all__ = (
    "COLLECTION",
    "generate_base",
    "generate_legacy_index",
    "is_error",
    "remove_tree",
)

COLLECTION = "generated"
_CHUNK = 5_000
_T0 = 1_772_366_400_000  # 2026-03-01, epoch ms


def generated(ident: str, args: Any, ctx: Context) -> dict[str, Any]:
    """The function recorded for generated collections (never run by the benchmark)."""
    return {"ident": ident, "n": len(ident)}


def ident_of(i: int) -> str:
    return f"r{i:07d}"


def is_error(i: int, n: int, errors: int) -> bool:
    """Whether resource ``i`` of ``n`` is in error: exactly ``errors`` of them, evenly spread."""
    step = max(1, n // max(1, errors))
    return i % step == 7 % step and i // step < errors


def _write_slice(coll_dir: str, start: int, stop: int, n: int, errors: int) -> int:
    host, pid = socket.gethostname(), os.getpid()
    for i in range(start, stop):
        ident = ident_of(i)
        res = os.path.join(coll_dir, ident)
        os.mkdir(res)
        meta = {
            "start_time": _T0 + i,
            "end_time": _T0 + i + 5_000,
            "args": {},
            "pid": pid,
            "host": host,
            "attempt": 1,
        }
        _store.atomic_write(os.path.join(res, _store.META_FILE), json.dumps(meta).encode())
        if is_error(i, n, errors):
            trace = f"Traceback (most recent call last):\nValueError: generated error {i}\n"
            _store.atomic_write(os.path.join(res, _store.ERROR_FILE), trace.encode())
            status = "error"
        else:
            result = json.dumps({"ident": ident, "n": len(ident)}).encode()
            _store.atomic_write(os.path.join(res, _store.RESULT_FILE), result)
            status = "completed"
        _store.atomic_write(os.path.join(res, _store.STATUS_FILE), status.encode())
    return stop - start


def generate_base(base: Path, n: int, errors: int, workers: int | None = None) -> dict[str, Any]:
    """Write ``n`` resources (``errors`` of them in error) into ``base/generated``.

    Returns how long it took and with how many processes.
    """
    proj = Project(base)
    proj.resource(COLLECTION)(generated)
    coll_dir = os.fspath(base / COLLECTION)
    workers = workers or os.cpu_count() or 1
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        futures = [
            pool.submit(_write_slice, coll_dir, lo, min(n, lo + _CHUNK), n, errors)
            for lo in range(0, n, _CHUNK)
        ]
        written = sum(f.result() for f in futures)
    assert written == n, (written, n)
    return {"seconds": time.perf_counter() - started, "processes": workers}


def generate_legacy_index(coll_dir: Path, n: int, errors: int) -> dict[str, Any]:
    """Write 0.4.1's status index for ``n`` resources: ident -> ``complete`` or ``error``."""
    (coll_dir / ".updates").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    db = plyvel.DB(str(coll_dir / ".status"), create_if_missing=True)
    try:
        for lo in range(0, n, 100_000):
            with db.write_batch() as wb:
                for i in range(lo, min(n, lo + 100_000)):
                    word = b"error" if is_error(i, n, errors) else b"complete"
                    wb.put(ident_of(i).encode(), word)
    finally:
        db.close()
    return {"seconds": time.perf_counter() - started}


def _remove_entries(paths: list[str]) -> int:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)
    return len(paths)


def remove_tree(root: Path, workers: int = 4) -> None:
    """Delete ``root`` like ``shutil.rmtree``, the big directories by several processes.

    Deleting a million resource directories from a disk is bound by the
    latency of each metadata update, not by bandwidth: four processes
    deleting at once take about half the time of one (measured here).
    """
    if not root.exists():
        return
    big = _big_dirs(root, depth=3)
    with ProcessPoolExecutor(workers) as pool:
        for directory in big:
            with os.scandir(directory) as entries:
                names = [e.path for e in entries]
            chunks = [names[i :: workers * 8] for i in range(workers * 8)]
            sum(pool.map(_remove_entries, chunks))
    shutil.rmtree(root, ignore_errors=True)


def _big_dirs(root: Path, depth: int) -> list[Path]:
    """Directories with many entries within ``depth`` levels, without listing them whole."""
    big: list[Path] = []
    level = [root]
    for _ in range(depth):
        below: list[Path] = []
        for directory in level:
            with os.scandir(directory) as entries:
                subdirs = [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
            for sub in subdirs:
                (big if _has_many_entries(sub) else below).append(sub)
        level = below
    return big


def _has_many_entries(directory: Path, many: int = 2_000) -> bool:
    with os.scandir(directory) as entries:
        return sum(1 for _ in zip(range(many), entries, strict=False)) >= many
