"""The on-disk layout: where each file lives, and how it is written and read.

The filesystem is the truth; the LevelDB index is only a cache of it. So every
file a reader may see is written to a temporary name in the same directory and
moved into place with ``os.replace`` (atomic on POSIX), and a resource's
``status`` file is written last: it is the commit point that says which of the
other files may be trusted. Nothing here opens the index. Reading the files
back (status, meta.json, index records, directory scans) is in _records.py,
and every read goes through _nofollow.py: no symlink inside BASE is followed.

Layout of one collection::

    COLL/.collection.json     name and function reference
    COLL/.index/              the LevelDB index (see _index.py)
    COLL/.index.lock          flock serialising access to the index
    COLL/.updates/IDENT       change markers: "IDENT changed since the last drain"
    COLL/.updates/.claimed/   markers a drainer is applying
    COLL/.updates/.kept/      markers of resources whose lock was held (see _index_sweep.py)
    COLL/.plans/SHA.txt       planned ident sets (fetch_many), one ident per line
    COLL/IDENT/status         one word, the commit point
    COLL/IDENT/meta.json      start_time, end_time, args, pid, host, attempt
    COLL/IDENT/result.json    the function's result, written before status completed
    COLL/IDENT/run.log        ctx.logger output (rotating)
    COLL/IDENT/error.log      the traceback of the last failed attempt
    COLL/IDENT/storage/       ctx.subdir
    COLL/IDENT/.lock          flock held for the whole compute
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ._layout import (
    CLAIMED_DIR,
    COLLECTION_FILE,
    ERROR_FILE,
    INDEX_DIR,
    INDEX_LOCK_FILE,
    LEGACY_INDEX_DIR,
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
from ._names import check_collection
from ._nofollow import (
    SYMLINK_REFUSED,
    RefusedFile,
    directory_problem,
    read_regular,
    require_directory,
)
from ._records import (
    Record,
    damaged_dir_reason,
    damaged_status_reason,
    read_meta,
    read_meta_checked,
    read_record,
    read_record_and_host,
    read_status,
    read_text,
    scan_entries,
    scan_idents,
)
from .errors import InvalidName

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
    "Record",
    "RefusedFile",
    "SkippedDirectory",
    "atomic_write",
    "damaged_dir_reason",
    "damaged_status_reason",
    "directory_problem",
    "is_collection_dir",
    "list_collections",
    "now_ms",
    "process_id",
    "read_meta",
    "read_meta_checked",
    "read_plan",
    "read_record",
    "read_record_and_host",
    "read_regular",
    "read_status",
    "read_text",
    "scan_collections",
    "scan_entries",
    "scan_idents",
    "touch_marker",
    "write_all",
    "write_plan",
)


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


#: Paths may be given as str or Path; the hot paths join strings, because
#: pathlib costs more than the system calls on a fetch (measured: ~35%).
StrPath = str | os.PathLike[str]


def _fsync_dir(path: StrPath) -> None:
    # A rename is only durable once the directory entry itself reaches the disk.
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
        _fsync_dir(parent)


def touch_marker(coll_dir: StrPath, name: str, durable: bool = False) -> None:
    """Create the change marker ``.updates/NAME`` (a no-op if it already exists).

    Writers call this only after the status file is in place, so a drainer
    that finds the marker always reads the new status.
    """
    updates = f"{os.fspath(coll_dir)}/{UPDATES_DIR}"
    path = f"{updates}/{name}"
    try:
        fd = _open_marker(path)
    except FileNotFoundError:
        os.makedirs(updates, exist_ok=True)
        fd = _open_marker(path)
    if fd is not None:
        os.close(fd)
    if durable:
        _fsync_dir(updates)


def _open_marker(path: str) -> int | None:
    """Create or open a marker; None when a symlink already stands there.

    O_NOFOLLOW: O_CREAT through a dangling link would create its target,
    outside BASE. A link there still says "changed" to a drainer, which only
    looks at names, renames the link and unlinks it: nothing to do here.
    """
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
        raise


def is_collection_dir(path: Path) -> bool:
    """True for a directory hadrosaur (this version or 0.4.1) has used as a collection."""
    return any(
        (path / marker).exists() for marker in (COLLECTION_FILE, UPDATES_DIR, LEGACY_INDEX_DIR)
    )


@dataclass(frozen=True)
class SkippedDirectory:
    """A directory of the base that looks like a collection but cannot be one.

    ``name`` is as found on disk (undecodable bytes as lone surrogates: show
    it with ``repr``); ``reason`` says why it was skipped.
    """

    name: str
    reason: str


#: Why a collection that is a symbolic link is skipped.
LINKED_COLLECTION = (
    "it is a symbolic link, and hadrosaur never follows one inside the base directory; "
    "move the collection into the base (or link the base directory itself instead)"
)


def scan_collections(base: Path) -> tuple[list[str], list[SkippedDirectory]]:
    """The collections of a base directory, and the directories skipped, both sorted.

    A directory whose name is not a valid collection name (undecodable bytes,
    a control character...) cannot be named in any call, and one that is a
    symbolic link is never followed (nothing found inside BASE is; BASE
    itself may be a link): both are skipped with their reason instead of
    stopping every overview of the base.
    """
    names: list[str] = []
    skipped: list[SkippedDirectory] = []
    try:
        with os.scandir(base) as entries:
            for e in entries:
                if e.name.startswith("."):
                    continue
                if e.is_symlink():
                    if is_collection_dir(Path(e.path)):
                        skipped.append(SkippedDirectory(e.name, LINKED_COLLECTION))
                    continue
                if not e.is_dir(follow_symlinks=False) or not is_collection_dir(Path(e.path)):
                    continue
                try:
                    names.append(check_collection(e.name))
                except InvalidName as exc:
                    skipped.append(
                        SkippedDirectory(e.name, f"not a valid collection name ({exc.reason})")
                    )
    except FileNotFoundError:
        return [], []
    return sorted(names), sorted(skipped, key=lambda s: s.name)


def list_collections(base: Path) -> list[str]:
    """The collections found in a base directory, sorted by name (see scan_collections)."""
    return scan_collections(base)[0]


def write_plan(coll_dir: Path, idents: Iterable[str], durable: bool = False) -> str:
    """Record a planned set of idents and mark it for the index; return the plan's id.

    The id is a hash of the sorted set, so planning the same set twice writes
    nothing new.
    """
    unique = sorted(set(idents))
    body = "".join(f"{ident}\n" for ident in unique).encode("utf-8")
    plan_id = hashlib.sha256(body).hexdigest()[:20]
    plans = coll_dir / PLANS_DIR
    path = plans / f"{plan_id}.txt"
    if not path.exists():
        plans.mkdir(parents=True, exist_ok=True)
        require_directory(str(plans), "a directory of plans")  # RefusedPath if a link
        atomic_write(path, body, durable)
        touch_marker(coll_dir, PLAN_MARKER_PREFIX + plan_id, durable)
    return plan_id


def read_plan(coll_dir: Path, plan_id: str) -> list[str]:
    """The idents of one plan ([] if the plan file is gone or unreadable).

    Bytes that are not UTF-8 become lone surrogates, which no valid ident
    contains, so a garbled line is dropped rather than misread.
    """
    if directory_problem(coll_dir / PLANS_DIR):
        return []  # never read through a link
    try:
        raw = read_regular(coll_dir / PLANS_DIR / f"{plan_id}.txt")
    except OSError:
        return []
    if raw is None:
        return []
    return [line for line in raw.decode("utf-8", "surrogateescape").split("\n") if line]


def plan_ids(coll_dir: Path) -> list[str]:
    """The ids of every plan recorded for a collection (none if .plans is a symlink)."""
    if directory_problem(coll_dir / PLANS_DIR):
        return []  # never listed or read through a link
    try:
        with os.scandir(coll_dir / PLANS_DIR) as entries:
            return sorted(
                e.name[: -len(".txt")]
                for e in entries
                if e.name.endswith(".txt") and not e.name.startswith(".")
            )
    except FileNotFoundError:
        return []
