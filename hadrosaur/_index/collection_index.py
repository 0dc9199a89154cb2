"""CollectionIndex: the open index of one collection, from taking its lock to closing it.

Workers never open the index; they write files and then a marker in
``.updates/``. A reader opens the index briefly, drains the markers into it,
reads, and closes it. LevelDB admits one process at a time, so access is
serialised by the index lock (lock.py), taken with retry and backoff, and
:class:`IndexBusy` is raised only after a timeout.

The index is a cache, and never believed when it looks wrong (opening.py):
it is rebuilt (rebuild.py) when missing, damaged or stale, holding the lock.
A rebuild asked for while the index is sound (:meth:`CollectionIndex.rebuild`)
is built aside without the lock and swapped in under it (aside.py), so
readers go on reading meanwhile. When it cannot be
written at all (a read-only mount, a full disk), readers build it in memory
from a scan instead (``fallback`` says why) and nothing on disk changes.

The parts are composed around the store: an :class:`IndexWriter` over it,
the :class:`MarkerDrain` and :class:`KeptSweep` that feed the writer, the
rebuild. The read queries are this class's own API, inherited from
:class:`IndexReader`: an open CollectionIndex is a reader whose store it
opened, drained, and will close.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
from pathlib import Path
from types import TracebackType

from .. import _markers, _store
from ..errors import IndexBusy, IndexUnavailable
from .aside import (
    CATCH_UP_LOCKED,
    CATCH_UP_ROUNDS,
    Builder,
    catch_up,
    live_builders,
    swap_in,
    take_drained,
)
from .changelog import ChangeLog
from .check import Mismatch, scan_mismatches
from .drain import MarkerDrain
from .kv import ClosedStore, KeyValueStore, LevelDBError, LevelDBIOError, MemoryDB
from .leases import LeaseSweep
from .lock import IndexLock
from .opening import TRASH, clear_trash, create_leveldb, is_current, open_waiting, remove_index
from .reads import IndexReader
from .rebuild import rebuild_index
from .sweep import DEFAULT_SWEEP_BUDGET, DEFAULT_SWEEP_INTERVAL, KeptSweep, ProbeTally
from .writes import IndexWriter

__all__ = ("DEFAULT_LOG_LIMIT", "CollectionIndex")

DEFAULT_LOG_LIMIT = 100_000

_log = logging.getLogger("hadrosaur")


class CollectionIndex(IndexReader):
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
        super().__init__(ClosedStore(), ChangeLog(log_limit))
        self.coll_dir = coll_dir
        self.path = coll_dir / _store.INDEX_DIR
        self.timeout = timeout
        self.durable = durable
        self.sweep_interval = sweep_interval
        self.sweep_budget = sweep_budget
        self._lock = IndexLock(coll_dir / _store.INDEX_LOCK_FILE)
        self._writer = IndexWriter(self, coll_dir, durable)
        self.tally = ProbeTally()
        #: The last pass over other hosts' leases (see leases.py).
        self.leases: LeaseSweep | None = None
        #: How many markers the last drain applied (for tests and diagnostics).
        self.drained = 0
        self.rebuilt = False
        #: Why the index is only in memory this time ("" when it is the LevelDB).
        self.fallback = ""
        #: The builds aside running when the lock was taken: drains record for them.
        self._builders: list[str] = []

    @property
    def probed(self) -> int:
        """Locks probed by this opening (for tests and diagnostics)."""
        return self.tally.probed

    @property
    def sweep_unfinished(self) -> bool:
        """True when this opening's sweep stopped at its time bound while finding deaths."""
        return self.tally.sweep_unfinished

    # -- opening and closing -------------------------------------------------

    def __enter__(self) -> CollectionIndex:
        started = time.monotonic()
        try:
            acquired = self._lock.acquire(self.timeout)
        except OSError as exc:
            # Not even the lock file can be created: nothing here can be written.
            self._scan_instead(exc)
            return self
        if not acquired:
            raise IndexBusy(self.path, time.monotonic() - started)
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
            self._rebuild_here()
            self.drain()

    def _open(self, started: float) -> None:
        # An index deleted by a process killed half-way: finish the job.
        with contextlib.suppress(OSError):
            clear_trash(self.coll_dir / TRASH)
        # Not suppressed: a drain that missed a live builder would lose its updates.
        builders = live_builders(self.coll_dir)
        self._builders = builders.live
        try:
            if os.path.islink(self.path):
                # Never opened through a link (it would read and write its target):
                # rebuilt in place, which removes the link and leaves the target alone.
                raise OSError(errno.ELOOP, "symlink refused", str(self.path))
            self._use(open_waiting(self.path, started, self.timeout))
            healthy = is_current(self.store, self.changelog, self._lock.recorded, self.path)
        except IndexBusy:
            raise
        except (LevelDBError, OSError):
            # Corrupt, unreadable or not a LevelDB at all: it is only a cache, so
            # rebuild it; if the directory cannot be written, _fresh_writer says so.
            healthy = False
        if not healthy:
            self._rebuild_here()
        for token in builders.dead:
            take_drained(self.store, token)  # a killed builder's: no one will read them

    def _scan_instead(self, cause: BaseException) -> None:
        """Serve this opening from an index built in memory from the directories."""
        self._close_store()
        self._lock.release()  # nothing will be written: let other readers in
        self.fallback = f"{type(cause).__name__}: {cause}"
        _log.info("cannot use the index %s (%s); reading the directories", self.path, cause)
        try:
            self._rebuild_here()
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
        if not isinstance(self.store, ClosedStore):
            self._lock.record(self.changelog.position)
            self._close_store()
        self._lock.release()

    def discard(self) -> None:
        """Close and delete the LevelDB (keeping the lock); the next opening rebuilds it."""
        self._close_store()
        if self.fallback:
            return
        try:
            remove_index(self.coll_dir, self.path)
        except OSError as exc:
            # The next opening finds it damaged again, or falls back to a scan.
            _log.info("could not delete the damaged index %s: %s", self.path, exc)

    def _use(self, store: KeyValueStore) -> None:
        """Make ``store`` the one this index reads, and its writer writes."""
        self.store = store
        self._writer = IndexWriter(self, self.coll_dir, self.durable)

    def _close_store(self) -> None:
        self.store.close()
        self._use(ClosedStore())

    def _fresh_writer(self) -> IndexWriter:
        """Close the store and start an empty one (in memory for the fallback); its writer."""
        self._close_store()
        if self.fallback:
            self._use(MemoryDB())
        else:
            self._use(create_leveldb(self.coll_dir, self.path))
        return self._writer

    def _sweep(self) -> KeptSweep:
        return KeptSweep(self._writer, self.tally, self.sweep_interval, self.sweep_budget)

    # -- draining, rebuilding, checking ----------------------------------------

    def drain(self) -> int:
        """Apply every pending marker to the index; return how many were applied."""
        if self.fallback:
            return 0  # built from a scan just now, and nothing here may be written
        self.drained = MarkerDrain(self._writer, self._sweep(), self._builders).run()
        # After the drain: the change log then holds every change the watches follow.
        self.leases = LeaseSweep(self._writer)
        self.leases.run()
        return self.drained

    def rebuild(self) -> None:
        """Recreate the index from a scan of the directories and the recorded plans.

        The index being sound, the new one is built aside while other
        readers keep reading this one (see aside.py); the lock is released
        meanwhile and held again, on the new index, when this returns.
        """
        if self.fallback or isinstance(self.store, ClosedStore):
            self._rebuild_here()
        else:
            self._rebuild_aside()

    def _rebuild_here(self) -> None:
        """Rebuild in place, holding the lock (or in memory for the fallback)."""
        rebuild_index(self.coll_dir, self._fresh_writer, self.tally, markers=not self.fallback)
        self.rebuilt = True

    def _rebuild_aside(self) -> None:
        """Build a new index aside without the lock, catch up, and swap it in (aside.py)."""
        epoch = self.changelog.epoch
        try:
            builder = Builder.register(self.coll_dir)  # step 1, holding the lock
        except OSError as exc:  # no room beside .index: in place, as before
            _log.info(
                "cannot build the index of %s aside (%s); rebuilding in place", self.path, exc
            )
            self._rebuild_here()
            return
        self.close()
        store = None
        try:
            store = builder.create_store()
            writer = IndexWriter(
                IndexReader(store, ChangeLog(self.changelog.limit)), self.coll_dir, self.durable
            )
            locked = set(rebuild_index(self.coll_dir, lambda: writer, self.tally, markers=False))
            for round_ in range(1, CATCH_UP_ROUNDS + 1):
                started = time.monotonic()
                if not self._lock.acquire(self.timeout):
                    raise IndexBusy(self.path, time.monotonic() - started)
                if not self._reopen_old(started, epoch):
                    # Another rebuild replaced the index, or it vanished: ours
                    # lacks what was drained meanwhile. The index is opened as usual.
                    _log.info("the index %s changed during a rebuild; keeping it", self.path)
                    store.close()
                    builder.remove()
                    if not isinstance(self.store, ClosedStore):
                        take_drained(self.store, builder.token)  # recorded since the change
                    self._close_store()
                    self._open(started)
                    self.drain()
                    self.rebuilt = True
                    return
                drained = take_drained(self.store, builder.token)
                if len(drained) <= CATCH_UP_LOCKED or round_ == CATCH_UP_ROUNDS:
                    locked |= catch_up(writer, drained)  # held: nothing drains until the swap
                    break
                self.close()
                locked |= catch_up(writer, drained)
            _markers.keep(self.coll_dir, sorted(locked))  # before the swap: see aside.py
            self.tally.just_kept.update(locked)
            store.close()
            self._close_store()
            swap_in(self.coll_dir, builder.db, self.path, self.durable)
            builder.remove()
            self._use(open_waiting(self.path, time.monotonic(), self.timeout))
            self.changelog.load(self.store)
            self._builders = live_builders(self.coll_dir).live
            self.rebuilt = True
            self.drain()
        except BaseException:
            if store is not None:
                store.close()
            builder.abandon()  # the next reader holding the lock removes what is left
            self.close()
            raise

    def _reopen_old(self, started: float, epoch: str) -> bool:
        """Open the index again (lock held); False if it is not the one the build began from."""
        if os.path.islink(self.path):
            return False
        try:
            self._use(open_waiting(self.path, started, self.timeout))
            sound = is_current(self.store, self.changelog, self._lock.recorded, self.path)
        except IndexBusy:
            raise
        except (LevelDBError, OSError):
            return False
        builders = live_builders(self.coll_dir)
        self._builders = builders.live
        for token in builders.dead if sound else ():
            take_drained(self.store, token)
        return sound and self.changelog.epoch == epoch

    def scan_mismatches(self) -> list[Mismatch]:
        """Compare the index with a fresh scan of the directories (see check.py)."""
        # Kept markers first, all of them: a death not yet swept is no mismatch.
        if not self.fallback:  # (built from a scan just now, and nothing may be written)
            self._sweep().run(force=True)
        return scan_mismatches(self.coll_dir, self, self.tally)
