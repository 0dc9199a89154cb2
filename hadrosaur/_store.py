"""The on-disk layout: where each file lives, and how it is written and read.

The filesystem is the truth; the LevelDB index is only a cache of it. So every
file a reader may see is written to a temporary name in the same directory and
moved into place with ``os.replace`` (atomic on POSIX), and a resource's
``status`` file is written last: it is the commit point that says which of the
other files may be trusted. Nothing here opens the index. Reading the files
back (status, meta.json, index records, directory scans) is in _records.py,
and every read goes through _nofollow.py: no symlink inside BASE is followed.
The change markers are written by _markers.py, the plans by _plans.py, and
the base's collections are found by _collections.py.

Layout of one collection::

    COLL/.collection.json     name and function reference
    COLL/.index/              the LevelDB index (see _index/drain.py)
    COLL/.index.lock          flock serialising access to the index
    COLL/.updates/IDENT       change markers: "IDENT changed since the last drain"
    COLL/.updates/.claimed/   markers a drainer is applying
    COLL/.updates/.kept/      markers of resources whose lock was held (see _index/sweep.py)
    COLL/.plans/SHA.txt       planned ident sets (fetch_many), one ident per line
    COLL/IDENT/status         one word, the commit point
    COLL/IDENT/meta.json      start_time, end_time, args, pid, host, attempt
    COLL/IDENT/result.json    the function's result, written before status completed
    COLL/IDENT/run.log        ctx.logger output (rotating)
    COLL/IDENT/error.log      the traceback of the last failed attempt
    COLL/IDENT/storage/       ctx.subdir
    COLL/IDENT/.lock          flock held for the whole compute
    COLL/IDENT/.lease         renewed while computing, for other hosts (_lease.py)
    COLL/IDENT/.attempt.N.*/  attempt N's claim: its writes are renamed from it (_fence.py)
"""

from __future__ import annotations

import contextlib
import itertools
import os

from ._layout import (
    CLAIMED_DIR,
    COLLECTION_FILE,
    ERROR_FILE,
    INDEX_DIR,
    INDEX_LOCK_FILE,
    LOCK_FILE,
    LOG_FILE,
    META_FILE,
    PLAN_MARKER_PREFIX,
    PLANS_DIR,
    RESULT_FILE,
    STATUS_FILE,
    STORAGE_DIR,
    UPDATES_DIR,
)
from ._nofollow import (
    SYMLINK_REFUSED,
    RefusedFile,
    directory_problem,
    read_regular,
)

# StrPath: paths may be given as str or Path; the hot paths join strings,
# because pathlib costs more than the system calls on a fetch (measured: ~35%).
from ._records import (
    StrPath,
    damaged_dir_reason,
    damaged_status_reason,
    read_meta,
    read_meta_checked,
    read_record,
    read_status,
    read_text,
    scan_entries,
    scan_idents,
)
from .times import now_ms

__all__ = (
    "CLAIMED_DIR",
    "COLLECTION_FILE",
    "ERROR_FILE",
    "INDEX_DIR",
    "INDEX_LOCK_FILE",
    "LOCK_FILE",
    "LOG_FILE",
    "META_FILE",
    "PLANS_DIR",
    "PLAN_MARKER_PREFIX",
    "RESULT_FILE",
    "STATUS_FILE",
    "STORAGE_DIR",
    "SYMLINK_REFUSED",
    "UPDATES_DIR",
    "RefusedFile",
    "StrPath",
    "atomic_write",
    "damaged_dir_reason",
    "damaged_status_reason",
    "directory_problem",
    "fsync_dir",
    "now_ms",
    "open_temporary",
    "process_id",
    "read_meta",
    "read_meta_checked",
    "read_record",
    "read_regular",
    "read_status",
    "read_text",
    "scan_entries",
    "scan_idents",
    "write_all",
)


def fsync_dir(path: StrPath) -> None:
    """fsync a directory: a rename is only durable once the directory entry itself is on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_pid = os.getpid()
_tmp_serial = itertools.count()


def _forget_parent_pid() -> None:
    global _pid, _tmp_serial
    _pid = os.getpid()
    _tmp_serial = itertools.count()


os.register_at_fork(after_in_child=_forget_parent_pid)


def process_id() -> int:
    """os.getpid(), kept up to date across forks without a system call per use."""
    return _pid


def _open_temporary(parent: str, name: str) -> tuple[str, int]:
    """Create a fresh temporary file beside ``parent/name``; return its path and descriptor.

    The name is unique per process (pid) and per call (a counter), which is
    cheaper than random bytes; O_EXCL still guards against a leftover with
    the same name from a dead process that had our pid, by trying the next.
    """
    while True:
        tmp = f"{parent}/.{name}.{_pid}.{next(_tmp_serial):x}.tmp"
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue


open_temporary = _open_temporary


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (os.write may write only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def atomic_write(path: StrPath, data: bytes, durable: bool = False) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a mix.

    The temporary file starts with a dot, so directory scans never mistake a
    leftover from a crash for data.
    """
    parent, _, name = os.fspath(path).rpartition("/")
    tmp, fd = _open_temporary(parent or ".", name)
    try:
        try:
            write_all(fd, data)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(parent)
