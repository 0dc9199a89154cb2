"""The on-disk layout: where each file lives, and how it is written and read.

The filesystem is the truth; the LevelDB index is only a cache of it. So every
file a reader may see is written to a temporary name in the same directory and
moved into place with ``os.replace`` (atomic on POSIX), and a resource's
``status`` file is written last: it is the commit point that says which of the
other files may be trusted. Nothing here opens the index.

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
import hashlib
import itertools
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._layout import (
    CLAIMED_DIR,
    COLLECTION_FILE,
    ERROR_FILE,
    INDEX_DIR,
    INDEX_LOCK_FILE,
    LEGACY_COMPLETED,
    LEGACY_END_FILE,
    LEGACY_INDEX_DIR,
    LEGACY_START_FILE,
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
from .resource import COMPLETED, ERROR, PENDING

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
    "UPDATES_DIR",
    "Record",
    "atomic_write",
    "damaged_status_reason",
    "is_collection_dir",
    "list_collections",
    "now_ms",
    "process_id",
    "read_meta",
    "read_plan",
    "read_record",
    "read_record_and_host",
    "read_status",
    "scan_idents",
    "touch_marker",
    "write_all",
    "write_plan",
)

_KNOWN_STATUS_WORDS = frozenset((COMPLETED, PENDING, ERROR))
_REASON_MAX = 300


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
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    except FileNotFoundError:
        os.makedirs(updates, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    os.close(fd)
    if durable:
        _fsync_dir(updates)


def _read_bytes(path: StrPath, limit: int = -1) -> bytes | None:
    """Read a file whole (or its first ``limit`` bytes); None when it does not exist.

    With os.open/os.read rather than open(): no buffered file object to build,
    which is a third of the cost of reading a small file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        if limit >= 0:
            return os.read(fd, limit) if limit else b""
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_file(path: StrPath) -> bytes | None:
    """The bytes of a file, or None when it does not exist."""
    return _read_bytes(path)


def read_status(res_dir: StrPath) -> str | None:
    """The status word of a resource, or None when it has none (never started).

    ``complete`` (hadrosaur 0.4.1) is read as ``completed``. A word that is
    not a status is returned as it is, and a status that cannot be read at all
    (a directory, an I/O error) as a word in angle brackets saying why;
    callers treat both as damage, never as a reason to fail.
    """
    try:
        raw = _read_bytes(f"{os.fspath(res_dir)}/{STATUS_FILE}", 256)
    except IsADirectoryError:
        return "<a directory>"
    except OSError as exc:
        return f"<unreadable: {exc.strerror or exc}>"
    if raw is None:
        return None
    word = raw.decode("utf-8", "replace").strip()
    return COMPLETED if word == LEGACY_COMPLETED else word


def _read_int_file(path: StrPath) -> int | None:
    try:
        raw = _read_bytes(path, 64)
    except OSError:  # a directory, an I/O error: no usable time
        return None
    if not raw:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return None


def read_meta(res_dir: StrPath) -> dict[str, Any]:
    """The resource's meta.json as a dict ({} when missing or unreadable).

    A 0.4.1 resource has no meta.json; its times come from the
    ``start_time``/``end_time`` files instead. Damage (not JSON, too deeply
    nested, a directory) reads as {}: meta.json only describes the status.
    """
    try:
        raw = _read_bytes(os.path.join(res_dir, META_FILE))
    except OSError:
        return {}
    if raw is not None:
        try:
            meta = json.loads(raw)
        except (ValueError, RecursionError):
            meta = None
        if isinstance(meta, dict):
            return meta
        return {}
    legacy: dict[str, Any] = {}
    start = _read_int_file(os.path.join(res_dir, LEGACY_START_FILE))
    if start is not None:
        legacy["start_time"] = start
        legacy["end_time"] = _read_int_file(os.path.join(res_dir, LEGACY_END_FILE))
    return legacy


def _last_line(path: StrPath) -> str:
    """The last non-blank line of a text file, read from its tail only."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 4096))
            tail = f.read()
    except OSError:  # missing, or damaged into a directory: no reason to show
        return ""
    for line in reversed(tail.decode("utf-8", "replace").splitlines()):
        if line.strip():
            # Control characters (a tab in a message, a NUL in a damaged file) would
            # break one-line displays and the index's encoding: spaces instead.
            return "".join(" " if ch < " " or ch == "\x7f" else ch for ch in line.strip())[
                :_REASON_MAX
            ]
    return ""


def damaged_status_reason(word: str) -> str:
    """How a status word that is not a status is described (index reason, Resource.problem)."""
    return f"damaged status file: {word[:40]!r}"


def _as_ms(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Record:
    """What the index keeps of one resource: enough to list it without opening its directory.

    ``status`` is what the files say: completed, pending, error or
    unavailable (the index records a pending one whose lock it found free
    as interrupted: see _liveness.settle). ``reason`` is the last line of the traceback
    for errors, or a description of the damage for an unreadable status.
    """

    status: str
    start: int | None = None
    end: int | None = None
    reason: str = ""


def read_record(res_dir: StrPath) -> Record | None:
    """Read the index record of a resource from its directory (None if never started)."""
    return read_record_and_host(res_dir)[0]


def read_record_and_host(res_dir: StrPath) -> tuple[Record | None, object]:
    """:func:`read_record`, and the ``host`` of the same meta.json (None when it has none).

    The index needs the host to tell a dead worker from another host's; one
    read of meta.json for both (a drain recording 50,000 deaths reads it 50,000 times).
    """
    word = read_status(res_dir)
    if word is None:
        return None, None
    meta = read_meta(res_dir)
    start, end = _as_ms(meta.get("start_time")), _as_ms(meta.get("end_time"))
    host = meta.get("host")
    if word not in _KNOWN_STATUS_WORDS:
        return Record(ERROR, start, end, damaged_status_reason(word)), host
    reason = _last_line(os.path.join(res_dir, ERROR_FILE)) if word == ERROR else ""
    return Record(word, start, end, reason), host


def scan_idents(coll_dir: StrPath) -> Iterator[str]:
    """The names of the resource directories of a collection.

    Uses the d_type that ``os.scandir`` already has, so no per-entry stat.
    """
    with os.scandir(coll_dir) as entries:
        for entry in entries:
            if not entry.name.startswith(".") and entry.is_dir():
                yield entry.name


def is_collection_dir(path: Path) -> bool:
    """True for a directory hadrosaur (this version or 0.4.1) has used as a collection."""
    return any(
        (path / marker).exists() for marker in (COLLECTION_FILE, UPDATES_DIR, LEGACY_INDEX_DIR)
    )


def list_collections(base: Path) -> list[str]:
    """The collections found in a base directory, sorted by name."""
    try:
        with os.scandir(base) as entries:
            names = [
                e.name
                for e in entries
                if not e.name.startswith(".") and e.is_dir() and is_collection_dir(Path(e.path))
            ]
    except FileNotFoundError:
        return []
    return sorted(names)


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
        atomic_write(path, body, durable)
        touch_marker(coll_dir, PLAN_MARKER_PREFIX + plan_id, durable)
    return plan_id


def read_plan(coll_dir: Path, plan_id: str) -> list[str]:
    """The idents of one plan ([] if the plan file is gone or unreadable).

    Bytes that are not UTF-8 become lone surrogates, which no valid ident
    contains, so a garbled line is dropped rather than misread.
    """
    try:
        raw = _read_bytes(coll_dir / PLANS_DIR / f"{plan_id}.txt")
    except OSError:
        return []
    if raw is None:
        return []
    return [line for line in raw.decode("utf-8", "surrogateescape").split("\n") if line]


def plan_ids(coll_dir: Path) -> list[str]:
    """The ids of every plan recorded for a collection."""
    try:
        with os.scandir(coll_dir / PLANS_DIR) as entries:
            return sorted(
                e.name[: -len(".txt")]
                for e in entries
                if e.name.endswith(".txt") and not e.name.startswith(".")
            )
    except FileNotFoundError:
        return []
