"""The LevelDB index of one collection: a derived, rebuildable cache of its directories.

Keys (bytes)::

    v                      schema version; anything else means "rebuild"
    e                      epoch: a random id, new at every rebuild
    r/IDENT                the resource's Record (status, start, end, reason)
    s/STATUS/IDENT         empty; lists a status in O(k)
    c/STATUS               count of r/ entries with that status; stats in O(1)
    l/SEQ                  bounded change log (SEQ: 16 hex digits) for live readers
    m/MINUTE               resources completed in that minute (epoch minutes)
    p/IDENT                empty; the ident is planned (a removed one returns to unavailable)

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
drained next time.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import plyvel

from . import _store
from ._locks import try_lock_exclusive
from ._names import check_ident
from .entries import Change, Cursor, Entry
from .errors import IndexBusy, IndexUnavailable, InvalidName
from .resource import COMPLETED, ERROR, PENDING, UNAVAILABLE

__all__ = ("SCHEMA_VERSION", "CollectionIndex")

SCHEMA_VERSION = b"1"
#: Statuses the index stores (interrupted is derived at read time).
STORED_STATUSES = (COMPLETED, PENDING, ERROR, UNAVAILABLE)
_SEP = "\x1f"
#: The status written to the change log for a bulk change (a plan): "reload".
RELOAD_MARK = "*"
#: The status written to the change log for a resource whose directory vanished.
REMOVED_MARK = "-"
_DRAIN_CHUNK = 2000
_WRITE_CHUNK = 20000
_MINUTES_KEPT = 24 * 60
DEFAULT_LOG_LIMIT = 100_000


def _r(ident: str) -> bytes:
    return b"r/" + ident.encode()


def _s(status: str, ident: str) -> bytes:
    return b"s/" + status.encode() + b"/" + ident.encode()


def _c(status: str) -> bytes:
    return b"c/" + status.encode()


def _l(seq: int) -> bytes:
    return b"l/%016x" % seq


def _m(minute: int) -> bytes:
    return b"m/%010d" % minute


def _p(ident: str) -> bytes:
    return b"p/" + ident.encode()


def _clean_reason(reason: str) -> str:
    # The separator and newlines would corrupt the encoding and the one-line displays.
    return "".join(" " if ch < " " else ch for ch in reason)


def encode_record(rec: _store.Record) -> bytes:
    start = "" if rec.start is None else str(rec.start)
    end = "" if rec.end is None else str(rec.end)
    return _SEP.join((rec.status, start, end, _clean_reason(rec.reason))).encode()


def decode_record(raw: bytes) -> _store.Record:
    status, start, end, reason = raw.decode().split(_SEP, 3)
    return _store.Record(status, int(start) if start else None, int(end) if end else None, reason)


def _is_lock_contention(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("temporarily unavailable" in text or "already held" in text)


class CollectionIndex:
    """The open index of one collection; use it as a context manager.

    Entering takes the index lock, opens (or rebuilds) the LevelDB, and drains
    pending markers; leaving closes it and releases the lock. Keep it open for
    as short a time as possible: other readers wait meanwhile.

    Example:
        >>> with CollectionIndex(Path("base/genomes")) as index:  # doctest: +SKIP
        ...     index.counts()
        {'completed': 10, 'pending': 0, 'error': 1, 'unavailable': 0}
    """

    def __init__(
        self,
        coll_dir: Path,
        *,
        timeout: float = 30.0,
        durable: bool = False,
        log_limit: int = DEFAULT_LOG_LIMIT,
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

    # -- opening and closing -------------------------------------------------

    def __enter__(self) -> CollectionIndex:
        started = time.monotonic()
        try:
            fd = try_lock_exclusive(self.coll_dir / _store.INDEX_LOCK_FILE, self.timeout)
        except OSError as exc:
            raise IndexUnavailable(self.path, exc) from exc
        if fd is None:
            raise IndexBusy(self.path, time.monotonic() - started)
        self._lock_fd = fd
        try:
            self._open(started)
            self.drain()
        except BaseException:
            self.close()
            raise
        return self

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
        shutil.rmtree(self.path, ignore_errors=True)

    def _open_db(self, started: float) -> Any:
        delay = 0.005
        while True:
            try:
                return plyvel.DB(str(self.path), create_if_missing=True)
            except plyvel.IOError as exc:
                # Only a process that ignores .index.lock (an older hadrosaur) gets here.
                if not _is_lock_contention(exc):
                    raise
                if time.monotonic() - started > self.timeout:
                    raise IndexBusy(self.path, time.monotonic() - started) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _open(self, started: float) -> None:
        try:
            self._db = self._open_db(started)
            healthy = self._db.get(b"v") == SCHEMA_VERSION
        except plyvel.Error:
            # Corrupt, unreadable or not a LevelDB at all: it is only a cache, so
            # rebuild it; if the directory cannot be written, _fresh_db says so.
            healthy = False
        if not healthy:
            self.rebuild()
            return
        self.epoch = self._db.get(b"e", b"").decode()
        self._load_log_bounds()

    def _load_log_bounds(self) -> None:
        last = next(self._db.iterator(prefix=b"l/", reverse=True, include_value=False), None)
        first = next(self._db.iterator(prefix=b"l/", include_value=False), None)
        self._next_seq = int(last[2:], 16) + 1 if last else 1
        self._first_seq = int(first[2:], 16) if first else self._next_seq

    def _fresh_db(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self.path.is_symlink() or self.path.is_file():
            self.path.unlink()
        else:
            shutil.rmtree(self.path, ignore_errors=True)
        try:
            self._db = plyvel.DB(str(self.path), create_if_missing=True, error_if_exists=True)
        except plyvel.Error as exc:
            raise IndexUnavailable(self.path, exc) from exc

    # -- markers -------------------------------------------------------------

    def _marker_dirs(self) -> tuple[Path, Path]:
        updates = self.coll_dir / _store.UPDATES_DIR
        claimed = updates / _store.CLAIMED_DIR
        claimed.mkdir(parents=True, exist_ok=True)
        return updates, claimed

    @staticmethod
    def _is_marker(name: str) -> bool:
        return not name.startswith(".") or name.startswith(_store.PLAN_MARKER_PREFIX)

    def _claim_all(self) -> Iterator[str]:
        """Rename every marker into .claimed/, yielding names as they are claimed.

        A generator, so that drain() applies chunk by chunk and a drainer
        killed early leaves few claimed markers behind.
        """
        updates, claimed = self._marker_dirs()
        with os.scandir(updates) as entries:
            names = [e.name for e in entries if self._is_marker(e.name)]
        for name in names:
            try:
                os.rename(updates / name, claimed / name)
            except FileNotFoundError:
                continue  # taken by a drainer that ignores .index.lock (0.4.1)
            yield name

    def drain(self) -> int:
        """Apply every pending marker to the index; return how many were applied."""
        _, claimed = self._marker_dirs()
        # Leftovers of a drainer that died between claim and unlink come first.
        with os.scandir(claimed) as entries:
            leftovers = [e.name for e in entries if self._is_marker(e.name)]
        applied = 0
        for chunk in _chunks(leftovers, _DRAIN_CHUNK):
            applied += self._apply_markers(chunk)
        for chunk in _chunks(self._claim_all(), _DRAIN_CHUNK):
            applied += self._apply_markers(chunk)
        self.drained = applied
        return applied

    def _apply_markers(self, names: list[str]) -> int:
        idents = []
        for name in names:
            if name.startswith(_store.PLAN_MARKER_PREFIX):
                self._apply_plan(
                    _store.read_plan(self.coll_dir, name[len(_store.PLAN_MARKER_PREFIX) :])
                )
            else:
                try:
                    idents.append(check_ident(name))
                except InvalidName:
                    pass  # not a marker we wrote; dropping it below is all there is to do
        if idents:
            self._apply_resources(idents)
        self._release_claimed(names)
        return len(names)

    def _release_claimed(self, names: list[str]) -> None:
        """Unlink applied markers: the last step, so a crash before it only repeats work."""
        claimed = self.coll_dir / _store.UPDATES_DIR / _store.CLAIMED_DIR
        for name in names:
            (claimed / name).unlink(missing_ok=True)

    # -- applying changes ----------------------------------------------------

    def _counts(self) -> dict[str, int]:
        return {s: int(self._db.get(_c(s), b"0")) for s in STORED_STATUSES}

    def _log(self, wb: Any, value: str) -> None:
        wb.put(_l(self._next_seq), value.encode())
        self._next_seq += 1
        floor = self._next_seq - self.log_limit
        while self._first_seq < floor:
            wb.delete(_l(self._first_seq))
            self._first_seq += 1

    def _apply_resources(self, idents: list[str]) -> None:
        counts = self._counts()
        before = dict(counts)
        minutes: Counter[int] = Counter()
        with self._db.write_batch(transaction=True, sync=self.durable) as wb:
            for ident in idents:
                old_raw = self._db.get(_r(ident))
                old = decode_record(old_raw) if old_raw is not None else None
                new = _store.read_record(self.coll_dir / ident)
                if new is None:
                    if old is None or old.status == UNAVAILABLE:
                        continue
                    if self._db.get(_p(ident)) is not None:
                        new = _store.Record(UNAVAILABLE)  # planned: back to not started
                    else:
                        wb.delete(_r(ident))
                        wb.delete(_s(old.status, ident))
                        counts[old.status] -= 1
                        self._log(wb, f"{ident}{_SEP}{REMOVED_MARK}")
                        continue
                encoded = encode_record(new)
                if encoded == old_raw:
                    continue  # already applied (e.g. a claimed leftover): apply once
                wb.put(_r(ident), encoded)
                if old is None or old.status != new.status:
                    if old is not None:
                        wb.delete(_s(old.status, ident))
                        counts[old.status] -= 1
                    wb.put(_s(new.status, ident), b"")
                    counts[new.status] += 1
                if new.status == COMPLETED and new.end is not None:
                    if old is None or old.status != COMPLETED or old.end != new.end:
                        minutes[new.end // 60_000] += 1
                self._log(wb, f"{ident}{_SEP}{encoded.decode()}")
            for status, n in counts.items():
                if n != before[status]:
                    wb.put(_c(status), str(n).encode())
            for minute, n in minutes.items():
                wb.put(_m(minute), str(int(self._db.get(_m(minute), b"0")) + n).encode())
            self._trim_minutes(wb)

    def _trim_minutes(self, wb: Any) -> None:
        cutoff = _m(_store.now_ms() // 60_000 - _MINUTES_KEPT)
        for key in self._db.iterator(prefix=b"m/", include_value=False):
            if key >= cutoff:
                break
            wb.delete(key)

    def _apply_plan(self, idents: Iterable[str], log: bool = True) -> None:
        """Add planned idents that have no entry yet as unavailable."""
        added = 0
        for chunk in _chunks(iter(idents), _WRITE_CHUNK):
            counts = self._counts()
            with self._db.write_batch(transaction=True, sync=self.durable) as wb:
                for ident in chunk:
                    try:
                        check_ident(ident)
                    except InvalidName:
                        continue
                    wb.put(_p(ident), b"")
                    if self._db.get(_r(ident)) is None:
                        wb.put(_r(ident), encode_record(_store.Record(UNAVAILABLE)))
                        wb.put(_s(UNAVAILABLE, ident), b"")
                        counts[UNAVAILABLE] += 1
                        added += 1
                wb.put(_c(UNAVAILABLE), str(counts[UNAVAILABLE]).encode())
        if added and log:
            with self._db.write_batch(sync=self.durable) as wb:
                self._log(wb, f"{_SEP}{RELOAD_MARK}")

    # -- rebuilding ----------------------------------------------------------

    def rebuild(self) -> None:
        """Recreate the index from a scan of the directories and the recorded plans.

        Markers present when the rebuild starts are claimed first and removed
        at the end (the scan already reflects them); markers created during the
        scan are drained afterwards as usual.
        """
        for _ in self._claim_all():
            pass
        _, claimed = self._marker_dirs()
        with os.scandir(claimed) as entries:
            claimed_before = [e.name for e in entries if self._is_marker(e.name)]
        self._fresh_db()
        counts: Counter[str] = Counter()
        minutes: Counter[int] = Counter()
        for chunk in _chunks(_store.scan_idents(self.coll_dir), _WRITE_CHUNK):
            with self._db.write_batch() as wb:
                for ident in chunk:
                    try:
                        check_ident(ident)
                    except InvalidName:
                        continue
                    rec = _store.read_record(self.coll_dir / ident)
                    if rec is None:
                        continue
                    wb.put(_r(ident), encode_record(rec))
                    wb.put(_s(rec.status, ident), b"")
                    counts[rec.status] += 1
                    if rec.status == COMPLETED and rec.end is not None:
                        minutes[rec.end // 60_000] += 1
        oldest = _store.now_ms() // 60_000 - _MINUTES_KEPT
        with self._db.write_batch() as wb:
            for status in STORED_STATUSES:
                wb.put(_c(status), str(counts[status]).encode())
            for minute, n in minutes.items():
                if minute >= oldest:
                    wb.put(_m(minute), str(n).encode())
        self._next_seq = self._first_seq = 1
        for plan_id in _store.plan_ids(self.coll_dir):
            self._apply_plan(_store.read_plan(self.coll_dir, plan_id), log=False)
        self.epoch = secrets.token_hex(8)
        # The version goes in last: a rebuild killed half-way is redone next time.
        with self._db.write_batch(sync=self.durable) as wb:
            wb.put(b"e", self.epoch.encode())
            wb.put(b"v", SCHEMA_VERSION)
        for name in claimed_before:
            (claimed / name).unlink(missing_ok=True)
        self.rebuilt = True

    # -- reading -------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Stored counts per status (pending still includes the interrupted ones)."""
        return self._counts()

    def idents(self, status: str) -> list[str]:
        """The idents stored with ``status``, in ident order."""
        prefix = b"s/" + status.encode() + b"/"
        return [
            k[len(prefix) :].decode() for k in self._db.iterator(prefix=prefix, include_value=False)
        ]

    def get(self, ident: str) -> _store.Record | None:
        """The stored record of one resource, or None."""
        raw = self._db.get(_r(ident))
        return decode_record(raw) if raw is not None else None

    def records(
        self, after: str | None = None, limit: int | None = None
    ) -> list[tuple[str, _store.Record]]:
        """Records in ident order, starting after ``after``, at most ``limit`` of them."""
        if after is None:
            it = self._db.iterator(prefix=b"r/")
        else:
            it = self._db.iterator(start=_r(after), stop=b"r0", include_start=False)
        out = []
        for key, raw in it:
            out.append((key[2:].decode(), decode_record(raw)))
            if limit is not None and len(out) >= limit:
                break
        return out

    def cursor(self) -> Cursor:
        """The position just after the newest change."""
        return Cursor(self.epoch, self._next_seq - 1)

    def changes_after(self, seq: int, limit: int) -> tuple[list[Change], bool, bool] | None:
        """Changes with a sequence number above ``seq``.

        Returns (changes, reload, more), or None when the log no longer reaches
        back to ``seq`` (it was trimmed) and the caller must reload.
        """
        if seq + 1 < self._first_seq:
            return None
        out: list[Change] = []
        for key, raw in self._db.iterator(start=_l(seq + 1), stop=b"l0"):
            if len(out) >= limit:
                return out, False, True
            ident, value = raw.decode().split(_SEP, 1)
            if value == RELOAD_MARK:
                return [], True, False
            entry = None if value == REMOVED_MARK else decode_record(value.encode())
            out.append(Change(int(key[2:], 16), ident, _entry(ident, entry)))
        return out, False, False

    def completions_per_minute(self, since_minute: int) -> dict[int, int]:
        """Completions per epoch minute, from ``since_minute`` on."""
        return {
            int(k[2:]): int(v) for k, v in self._db.iterator(start=_m(since_minute), stop=b"m0")
        }

    def scan_mismatches(self) -> list[tuple[str, _store.Record | None, _store.Record | None]]:
        """Compare the index with a fresh scan of the directories.

        Returns (ident, in_index, on_disk) for every resource where they differ,
        ignoring planned-but-unstarted entries that have no directory.
        """
        on_disk: dict[str, _store.Record] = {}
        for ident in _store.scan_idents(self.coll_dir):
            try:
                check_ident(ident)
            except InvalidName:
                continue
            rec = _store.read_record(self.coll_dir / ident)
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


def _entry(ident: str, rec: _store.Record | None) -> Entry | None:
    if rec is None:
        return None
    return Entry(ident, rec.status, rec.start, rec.end, rec.reason)


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
