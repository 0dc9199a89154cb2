"""Generating large bases quickly: the real on-disk layout, written in parallel.

Computing a million resources through ``fetch`` takes far longer than
reading them, so the read benchmarks (stats, fetch_by_status, rebuild, the
TUI) run on generated bases. A generated resource is exactly what a fetch
leaves once it is done: its directory, the empty ``.lock``, ``meta.json``,
``result.json`` (or ``error.log``) and ``status``, in the order a fetch
writes them (status, the commit point, last), by several processes.

The files are created in place with ``os.open(O_CREAT | O_EXCL)`` relative to
the resource's directory descriptor, not through ``_store.atomic_write``: a
fetch's temporary file and its rename leave the same directory entry and the
same bytes, and nobody reads the base while it is generated, so the end state
is the same at a third of the system calls. A million resources took about
15 minutes the other way on this machine's disk. No change markers are
written and no index is made: the first reader builds the index from a scan
of the directories, which is what the rebuild benchmark times.

For hadrosaur 0.4.1 only its status index is generated (``COLL/.status``, a
LevelDB of ident -> status word, written with plyvel), because its ``stats``
and ``find_by_status`` read nothing else.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from hadrosaur import Context, Project, _store
from hadrosaur._index.kv import plyvel  # the LevelDB binding installed for this Python

__all__ = (
    "COLLECTION",
    "ResourceFiles",
    "generate_base",
    "generate_legacy_index",
    "is_error",
    "meta_bytes",
    "remove_tree",
    "write_collection",
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


#: The files of resource i, as a fetch leaves them: meta.json, the name and bytes of
#: result.json or error.log, and the status word.
ResourceFiles = tuple[bytes, str, bytes, bytes]


def meta_bytes(i: int, host_json: str) -> bytes:
    """``meta.json`` of resource ``i`` as ``json.dumps`` writes it, without building a dict."""
    start = _T0 + i
    return (
        f'{{"start_time": {start}, "end_time": {start + 5_000}, "args": {{}}, '
        f'"pid": {os.getpid()}, "host": {host_json}, "attempt": 1}}'
    ).encode()


def plain_files(i: int, n: int, errors: int, host_json: str) -> ResourceFiles:
    """A completed resource, or one failed with a short traceback (see is_error)."""
    meta = meta_bytes(i, host_json)
    if is_error(i, n, errors):
        trace = f"Traceback (most recent call last):\nValueError: generated error {i}\n"
        return meta, _store.ERROR_FILE, trace.encode(), b"error"
    result = f'{{"ident": "{ident_of(i)}", "n": 8}}'.encode()
    return meta, _store.RESULT_FILE, result, b"completed"


def _create(name: str, data: bytes, dir_fd: int) -> None:
    # O_EXCL: a name left by an earlier run is an error, never silently overwritten.
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644, dir_fd=dir_fd)
    try:
        if data:
            _store.write_all(fd, data)
    finally:
        os.close(fd)


def write_resources(
    coll_dir: str, start: int, stop: int, files_of: Callable[[int], ResourceFiles]
) -> int:
    """Write resources ``start`` to ``stop - 1`` into ``coll_dir``; return how many."""
    coll_fd = os.open(coll_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i in range(start, stop):
            ident = ident_of(i)
            os.mkdir(ident, dir_fd=coll_fd)
            res_fd = os.open(ident, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=coll_fd)
            try:
                meta, name, data, status = files_of(i)
                # The compute lock's file stays after a fetch.
                _create(_store.LOCK_FILE, b"", res_fd)
                _create(_store.META_FILE, meta, res_fd)
                _create(name, data, res_fd)
                _create(_store.STATUS_FILE, status, res_fd)
            finally:
                os.close(res_fd)
    finally:
        os.close(coll_fd)
    return stop - start


def write_collection(
    coll_dir: Path, n: int, files_of: Callable[[int], ResourceFiles], workers: int | None = None
) -> dict[str, Any]:
    """``n`` resources written by ``workers`` processes (``files_of`` must pickle).

    Twice as many processes as CPUs by default: creating files on a disk
    waits on its journal, and another process keeps the CPU busy meanwhile.
    """
    workers = workers or 2 * (os.cpu_count() or 1)
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        futures = [
            pool.submit(write_resources, os.fspath(coll_dir), lo, min(n, lo + _CHUNK), files_of)
            for lo in range(0, n, _CHUNK)
        ]
        written = sum(f.result() for f in futures)
    assert written == n, (written, n)
    return {"seconds": time.perf_counter() - started, "processes": workers}


def generate_base(base: Path, n: int, errors: int, workers: int | None = None) -> dict[str, Any]:
    """Write ``n`` resources (``errors`` of them in error) into ``base/generated``.

    Returns how long it took and with how many processes.
    """
    proj = Project(base)
    proj.resource(COLLECTION)(generated)
    files_of = functools.partial(
        plain_files, n=n, errors=errors, host_json=json.dumps(socket.gethostname())
    )
    return write_collection(base / COLLECTION, n, files_of, workers)


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
