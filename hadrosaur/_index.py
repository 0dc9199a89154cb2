"""The LevelDB index of one collection: a derived, rebuildable cache of its directories.

Keys (bytes)::

    a/v                    schema version; anything else means "rebuild"
    a/e                    epoch: a random id, new at every rebuild
    a/l                    "FIRST NEXT": the bounds of the change log below
    r/IDENT                the resource's Record (status, start, end, reason)
    s/STATUS/IDENT         empty; lists a status in O(k)
    c/STATUS               count of r/ entries with that status; stats in O(1)
    l/SEQ                  bounded change log (SEQ: 16 hex digits) for live readers
    m/MINUTE               resources completed in that minute (epoch minutes)
    p/IDENT                empty; the ident is planned (a removed one returns to unavailable)
    P/PLAN                 empty; that plan file has been applied
    Pn                     how many plan files there were when last all were checked

The small keys every reader needs (a/, c/) sort together, so at a million
resources opening the index and reading the counts touches one table file,
not one at each end of the key space.

Workers never open the index; they write files and then a marker in
``.updates/``. A reader opens the index briefly, drains the markers into it,
reads, and closes it. LevelDB admits one process at a time, so access is
serialised by an flock on ``COLL/.index.lock`` (outside ``.index/`` so that the
index directory can be deleted and rebuilt while the lock is held), taken with
retry and backoff, and :class:`IndexBusy` is raised only after a timeout.

Drain protocol (crash-safe, no lost update): each marker is first renamed into
``.updates/.claimed/``, then the resource's status is read, the change is
applied in one WriteBatch, and only then is the claimed marker unlinked. A
drainer killed half-way leaves claimed markers that the next one applies
first; applying a record that the index already holds changes nothing, so a
marker is applied exactly once in effect. Writers write the status before
the marker, so a marker created after a claim carries a newer status and is
drained next time. The marker of a resource whose compute lock was held
moves to ``.updates/.kept/`` and is examined again until the lock is free;
a pending resource found with its lock free is recorded interrupted (see
_index_sweep.py, which also proves that this never hides a newer state).
Plans are also compared with the ``P/`` keys whenever the number of plan
files changes, so a plan whose marker was never written (its
writer died between the two) is applied all the same.

The index is a cache, and never believed when it looks wrong: anything that
cannot be decoded is corruption (:class:`IndexCorrupt`), which makes the
reader discard and rebuild it. When it cannot be written at all (a read-only
mount, a full disk), readers build it in memory from a scan instead
(``fallback`` says why) and nothing on disk changes.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import shutil
import time
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

from . import _markers, _plans, _store
from ._index_apply import LOG_BOUNDS_KEY, MINUTES_KEPT, WRITE_CHUNK
from ._index_keys import (
    STORED_STATUSES,
    IndexCorrupt,
    encode_record,
)
from ._index_keys import c_key as _c
from ._index_keys import m_key as _m
from ._index_keys import plan_key as _plan_key
from ._index_keys import r_key as _r
from ._index_keys import s_key as _s
from ._index_keys import text as _text
from ._index_sweep import (
    DEFAULT_SWEEP_BUDGET,
    DEFAULT_SWEEP_INTERVAL,
    IndexSweeps,
    is_ident,
)
from ._kv import LevelDBError, LevelDBIOError, MemoryDB, open_leveldb
from ._locks import try_lock_exclusive
from .errors import IndexBusy, IndexUnavailable
from .resource import COMPLETED, UNAVAILABLE

__all__ = ("DEFAULT_LOG_LIMIT", "SCHEMA_VERSION", "CollectionIndex", "IndexCorrupt")

#: 3: interrupted is stored (r/, s/interrupted/, c/interrupted), and markers of
#: locked resources wait in .updates/.kept/.
SCHEMA_VERSION = b"3"
_VERSION_KEY = b"a/v"
_EPOCH_KEY = b"a/e"
_DRAIN_CHUNK = 2000
DEFAULT_LOG_LIMIT = 100_000
#: Where an index being deleted is moved first (one at a time: the index lock is held).
_TRASH = _store.INDEX_DIR + ".deleting"


def _clear_trash(trash: Path) -> None:
    """Remove what stands at the trash path: a directory tree, or just a link or a file.

    A symlink or file there is not ours (nothing renames one there); it is
    unlinked, never followed, so a link's target is left alone.
    """
    kind = _store.directory_problem(trash)
    if kind is None:
        return
    if kind:
        os.unlink(trash)
    else:
        shutil.rmtree(trash)


_log = logging.getLogger("hadrosaur")


def _is_lock_contention(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("temporarily unavailable" in text or "already held" in text)


class CollectionIndex(IndexSweeps):
    """The open index of one collection; use it as a context manager.

    Entering takes the index lock, opens (or rebuilds) the LevelDB, and drains
    pending markers; leaving closes it and releases the lock. Keep it open for
    as short a time as possible: other readers wait meanwhile.

    Example:
        >>> with CollectionIndex(Path("base/genomes")) as index:  # doctest: +SKIP
        ...     index.counts()
        {'completed': 10, 'pending': 0, 'interrupted': 0, 'error': 1, 'unavailable': 0}
    """

    def __init__(
        self,
        coll_dir: Path,
        *,
        timeout: float = 30.0,
        durable: bool = False,
        log_limit: int = DEFAULT_LOG_LIMIT,
        sweep_interval: float = DEFAULT_SWEEP_INTERVAL,
        sweep_budget: float = DEFAULT_SWEEP_BUDGET,
    ) -> None:
        self.coll_dir = coll_dir
        self.path = coll_dir / _store.INDEX_DIR
        self.timeout = timeout
        self.durable = durable
        self.log_limit = max(1, log_limit)
        self._db: Any = None
        self._lock_fd: int | None = None
        self._next_seq = 0
        self._first_seq = 0
        self.epoch = ""
        #: How many markers the last drain applied (for tests and diagnostics).
        self.drained = 0
        self.rebuilt = False
        self.sweep_interval = sweep_interval
        self.sweep_budget = sweep_budget
        self.probed = 0
        self.sweep_unfinished = False
        self._just_kept: set[str] = set()
        #: Why the index is only in memory this time ("" when it is the LevelDB).
        self.fallback = ""
        #: (epoch, last sequence) as recorded in the lock file by the last writer.
        self._recorded: tuple[str, int] | None = None

    # -- opening and closing -------------------------------------------------

    def __enter__(self) -> CollectionIndex:
        started = time.monotonic()
        try:
            fd = try_lock_exclusive(self.coll_dir / _store.INDEX_LOCK_FILE, self.timeout)
        except OSError as exc:
            # Not even the lock file can be created: nothing here can be written.
            self._scan_instead(exc)
            return self
        if fd is None:
            raise IndexBusy(self.path, time.monotonic() - started)
        self._lock_fd = fd
        self._recorded = _read_position(fd)
        try:
            self._open_and_drain(started)
        except (OSError, IndexUnavailable) as exc:  # LevelDBIOError is an OSError
            if isinstance(exc, IndexBusy):
                self.close()
                raise
            self._scan_instead(exc)
        except BaseException:
            self.close()
            raise
        return self

    def _open_and_drain(self, started: float) -> None:
        self._open(started)
        try:
            self.drain()
        except LevelDBError as exc:
            if isinstance(exc, LevelDBIOError):
                raise
            # Corruption LevelDB (or decoding) found while draining: start afresh.
            _log.info("the index %s is damaged (%s); rebuilding it", self.path, exc)
            self.rebuild()
            self.drain()

    def _scan_instead(self, cause: BaseException) -> None:
        """Serve this opening from an index built in memory from the directories."""
        if self._db is not None:
            self._db.close()
        self._db = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # nothing will be written: let other readers in
            self._lock_fd = None
        self.fallback = f"{type(cause).__name__}: {cause}"
        _log.info("cannot use the index %s (%s); reading the directories", self.path, cause)
        try:
            self.rebuild()
        except OSError as exc:  # not even the directories can be read
            raise IndexUnavailable(self.path, exc) from exc

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the LevelDB and release the index lock (idempotent)."""
        if self._db is not None:
            self._record_position()
            self._db.close()
            self._db = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def discard(self) -> None:
        """Close and delete the LevelDB (keeping the lock); the next opening rebuilds it."""
        if self._db is not None:
            self._db.close()
            self._db = None
        if self.fallback:
            return
        try:
            self._remove_index_dir()
        except OSError as exc:
            # The next opening finds it damaged again, or falls back to a scan.
            _log.info("could not delete the damaged index %s: %s", self.path, exc)

    def _remove_index_dir(self) -> None:
        """Delete the LevelDB directory, moving it out of the way first.

        A process killed while deleting in place would leave a half-deleted
        LevelDB whose remaining files may still open and answer, wrongly; a
        directory renamed away in one step is never opened again.
        """
        _clear_trash(self.coll_dir / _TRASH)  # left by a process killed while deleting
        trash = self.coll_dir / _TRASH
        if self.path.is_symlink() or self.path.is_file():
            self.path.unlink()
        elif self.path.exists():
            os.rename(self.path, trash)
            shutil.rmtree(trash)

    def _open_db(self, started: float) -> Any:
        delay = 0.005
        while True:
            try:
                return open_leveldb(str(self.path), create_if_missing=True)
            except LevelDBIOError as exc:
                # Only a process that ignores .index.lock (an older hadrosaur) gets here.
                if not _is_lock_contention(exc):
                    raise
                if time.monotonic() - started > self.timeout:
                    raise IndexBusy(self.path, time.monotonic() - started) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _open(self, started: float) -> None:
        # An index deleted by a process killed half-way: finish the job.
        with contextlib.suppress(OSError):
            _clear_trash(self.coll_dir / _TRASH)
        try:
            if os.path.islink(self.path):
                # Never opened through a link (it would read and write its target):
                # rebuilt in place, which removes the link and leaves the target alone.
                raise OSError(errno.ELOOP, "symlink refused", str(self.path))
            self._db = self._open_db(started)
            healthy = self._db.get(_VERSION_KEY) == SCHEMA_VERSION
            if healthy:
                self.epoch = _text(self._db.get(_EPOCH_KEY, b""))
                self._load_log_bounds()
                healthy = not self._lost_writes()
        except IndexBusy:
            raise
        except (LevelDBError, OSError):
            # Corrupt, unreadable or not a LevelDB at all: it is only a cache, so
            # rebuild it; if the directory cannot be written, _fresh_db says so.
            healthy = False
        if not healthy:
            self.rebuild()

    def _lost_writes(self) -> bool:
        """True when the index is behind the position its last writer recorded.

        LevelDB cannot tell that its newest write-ahead log was deleted or cut
        short (it takes that for a writer that crashed before writing), and
        would serve the older state silently. The lock file remembers where
        the change log had reached, so the loss shows.
        """
        recorded = self._recorded
        if recorded is None or recorded[0] != self.epoch or recorded[1] < self._next_seq:
            return False
        _log.info("the index %s lost its latest changes; rebuilding it", self.path)
        return True

    def _record_position(self) -> None:
        """Write (epoch, last sequence) into the lock file once the LevelDB holds them.

        Written after LevelDB's own writes have reached the kernel, so the
        record may lag the index (harmless) but never lead it. One fixed-size
        pwrite: a torn record does not parse, and is ignored.
        """
        position = (self.epoch, self._next_seq - 1)
        if self.fallback or self._lock_fd is None or position == self._recorded:
            return
        data = f"{position[0]} {position[1]}".encode().ljust(_POSITION_SIZE - 1) + b"\n"
        try:
            os.pwrite(self._lock_fd, data, 0)
        except OSError as exc:  # a full disk: the record lags, which is harmless
            _log.info("could not record the index position in %s: %s", self.path, exc)
        self._recorded = position

    def _load_log_bounds(self) -> None:
        # Every batch that logs, and every rebuild, writes them: missing means damage.
        bounds = self._db.get(LOG_BOUNDS_KEY) or b""
        first, _, following = bounds.partition(b" ")
        if not (first.isdigit() and following.isdigit()):
            raise IndexCorrupt(f"undecodable change log bounds {bounds[:60]!r}")
        self._first_seq, self._next_seq = int(first), int(following)

    def _fresh_db(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self.fallback:
            self._db = MemoryDB()
            return
        self._remove_index_dir()
        try:
            self._db = open_leveldb(str(self.path), create_if_missing=True, error_if_exists=True)
        except LevelDBError as exc:
            raise IndexUnavailable(self.path, exc) from exc

    def drain(self) -> int:
        """Apply every pending marker to the index; return how many were applied."""
        if self.fallback:
            return 0  # built from a scan just now, and nothing here may be written
        # Leftovers of a drainer that died between claim and unlink come first.
        leftovers = _markers.claimed_names(self.coll_dir)
        applied = 0
        for chunk in _markers.chunks(leftovers, _DRAIN_CHUNK):
            applied += self._apply_markers(chunk)
        for chunk in _markers.chunks(_markers.claim_all(self.coll_dir), _DRAIN_CHUNK):
            applied += self._apply_markers(chunk)
        self._apply_unmarked_plans()
        # Last, after every claim: see the proof in _index_sweep.py.
        self._sweep_kept()
        self.drained = applied
        return applied

    def _apply_unmarked_plans(self) -> None:
        """Apply the plans whose marker never came (their writer died between the two).

        Checking every plan at every drain would cost a read per plan per
        reader; the count of plan files tells when there is anything new.
        """
        plan_ids = _plans.plan_ids(self.coll_dir)
        count = str(len(plan_ids)).encode()
        if self._db.get(b"Pn") == count:
            return
        for plan_id in plan_ids:
            if self._db.get(_plan_key(plan_id)) is None:
                self._apply_plan(_plans.read_plan(self.coll_dir, plan_id), plan_id)
        with self._db.write_batch(sync=self.durable) as wb:
            wb.put(b"Pn", count)

    # -- rebuilding ----------------------------------------------------------

    def rebuild(self) -> None:
        """Recreate the index from a scan of the directories and the recorded plans.

        Markers present when the rebuild starts are claimed first and removed
        at the end (the scan already reflects them), except those of resources
        whose lock was held (see _markers.probe), which are kept; markers
        created during the scan are drained afterwards as usual. A resource
        read as pending is probed: interrupted if its lock is free, else
        given a kept marker so that a sweep notices its end.
        """
        claimed_before: list[str] = []
        kept_before: list[str] = []
        probed: set[str] = set()
        busy: set[str] = set()
        if not self.fallback:
            for _ in _markers.claim_all(self.coll_dir):
                pass
            claimed_before = _markers.claimed_names(self.coll_dir)
            kept_before = _markers.kept_names(self.coll_dir)
            # Probed before the scan, for the reason given in _markers.probe.
            probed = {n for n in (*claimed_before, *kept_before) if is_ident(n)}
            busy = _markers.probe(self.coll_dir, probed).busy
            self.probed += len(probed)
        self._fresh_db()
        counts: Counter[str] = Counter()
        minutes: Counter[int] = Counter()
        locked: list[str] = []
        for chunk in _markers.chunks(_store.scan_entries(self.coll_dir), WRITE_CHUNK):
            with self._db.write_batch() as wb:
                for ident, problem in chunk:
                    if not is_ident(ident):
                        continue
                    # Those probed before the scan are not probed again.
                    known = (ident in busy) if ident in probed else None
                    rec, held = self._scanned_record(ident, known, problem)
                    if rec is None:
                        continue
                    if held and known is None:
                        locked.append(ident)
                    wb.put(_r(ident), encode_record(rec))
                    wb.put(_s(rec.status, ident), b"")
                    counts[rec.status] += 1
                    if rec.status == COMPLETED and rec.end is not None:
                        minutes[rec.end // 60_000] += 1
        oldest = _store.now_ms() // 60_000 - MINUTES_KEPT
        with self._db.write_batch() as wb:
            for status in STORED_STATUSES:
                wb.put(_c(status), str(counts[status]).encode())
            for minute, n in minutes.items():
                if minute >= oldest:
                    wb.put(_m(minute), str(n).encode())
        self._next_seq = self._first_seq = 1
        for plan_id in _plans.plan_ids(self.coll_dir):
            self._apply_plan(_plans.read_plan(self.coll_dir, plan_id), plan_id, log=False)
        self.epoch = secrets.token_hex(8)
        # The version goes in last: a rebuild killed half-way is redone next time.
        with self._db.write_batch(sync=self.durable) as wb:
            wb.put(_EPOCH_KEY, self.epoch.encode())
            self._put_log_bounds(wb)
            wb.put(_VERSION_KEY, SCHEMA_VERSION)
        if not self.fallback:
            _markers.keep(self.coll_dir, [n for n in claimed_before if n in busy] + locked)
            self._just_kept.update(busy, locked)
            _markers.release_claimed(self.coll_dir, [n for n in claimed_before if n not in busy])
            _markers.release_kept(self.coll_dir, [n for n in kept_before if n not in busy])
        # Written in batches, the keys lie in overlapping level-0 tables that every
        # later reader would open; one sorted run makes a lookup open one table.
        self._db.compact()
        self.rebuilt = True

    def scan_mismatches(self) -> list[tuple[str, _store.Record | None, _store.Record | None]]:
        """Compare the index with a fresh scan of the directories.

        Returns (ident, in_index, on_disk) for every resource where they differ,
        ignoring planned-but-unstarted entries that have no directory.
        """
        # Kept markers first, all of them: a death not yet swept is no mismatch.
        if not self.fallback:  # (built from a scan just now, and nothing may be written)
            self._sweep_kept(force=True)
        on_disk: dict[str, _store.Record] = {}
        for ident, problem in _store.scan_entries(self.coll_dir):
            if not is_ident(ident):
                continue
            rec, _ = self._scanned_record(ident, problem=problem)
            if rec is not None:
                on_disk[ident] = rec
        out: list[tuple[str, _store.Record | None, _store.Record | None]] = []
        for ident, rec in self.records():
            disk = on_disk.pop(ident, None)
            if disk is None and rec.status == UNAVAILABLE:
                continue
            if disk != rec:
                out.append((ident, rec, disk))
        out.extend((ident, None, disk) for ident, disk in sorted(on_disk.items()))
        stored = self._counts()
        actual: Counter[str] = Counter(r.status for _, r in self.records())
        for status in STORED_STATUSES:
            if stored[status] != actual[status]:
                out.append(
                    (f"<count of {status}: {stored[status]} != {actual[status]}>", None, None)
                )
        return out


_POSITION_SIZE = 64


def _read_position(fd: int) -> tuple[str, int] | None:
    """The (epoch, last sequence) a lock file holds, or None (none yet, torn, or garbage)."""
    try:
        parts = os.pread(fd, _POSITION_SIZE, 0).split()
    except OSError:
        return None
    if len(parts) != 2:
        return None
    try:
        return parts[0].decode("ascii"), int(parts[1])
    except ValueError:
        return None
