"""Applying changes to the index: resource records, plans, the change log and counters.

Every change goes through one WriteBatch that updates the record, the status
list, the counters, the per-minute completions, the error groups (groups.py)
and the change log together,
so a reader never sees them disagree. Applying a record the index already
holds changes nothing, which is what makes re-applying a claimed marker safe
(see the drain protocol in drain.py).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .. import _markers, _store
from .._liveness import interrupted, is_local, settle
from .._names import check_ident
from ..entries import Entry
from ..errors import InvalidName
from ..resource import COMPLETED, PENDING, UNAVAILABLE
from .codec import (
    RELOAD_CHANGE,
    decode_record,
    encode_change,
    encode_record,
    encode_removal,
    number,
)
from .groups import GroupChanges
from .keys import (
    MINUTE_PREFIX,
    count_key,
    minute_key,
    plan_applied_key,
    planned_key,
    record_key,
    status_key,
)
from .kv import WriteBatch
from .reads import IndexReader

__all__ = ("MINUTES_KEPT", "WRITE_CHUNK", "IndexWriter")

#: Per-minute completion counts older than this many minutes are dropped.
MINUTES_KEPT = 24 * 60
#: Records per WriteBatch when many are written at once (plans, rebuilds).
WRITE_CHUNK = 20000


class IndexWriter:
    """The writes to an index: into ``reader``'s store, logged in its change log.

    ``durable``: each batch is fsync'd. ``coll_dir``: where the resources
    whose changes are applied live.
    """

    def __init__(self, reader: IndexReader, coll_dir: Path, durable: bool) -> None:
        self.reader = reader
        self.store = reader.store
        self.changelog = reader.changelog
        self.coll_dir = coll_dir
        self.durable = durable

    def apply_resources(self, idents: list[str], probe: _markers.Probe, kept: bool = False) -> None:
        """Re-read each resource and record what changed; ``probe``: their locks, probed first.

        The locks were probed before the files are read here, so a pending
        resource whose lock was free is recorded interrupted (see settle).
        The probe's lstat already said which are real directories: theirs is
        not repeated (a mass death reads 50,000 resources here).

        ``kept``: these are kept markers (sweep.py), examined again because
        their lock was held. One whose entry is pending on this host, whose
        lock is now free and whose status file still says pending, died: its
        entry becomes interrupted from what the index holds, without reading
        meta.json (half the cost of a death). If its files changed since the
        entry was written, whoever changed them took the lock and made a new
        marker, which a later drain applies by reading them (the proof in
        sweep.py): the same invariant as every other entry. The one change
        that comes without a later marker, the dead worker's own meta.json
        end time written just before it died, is one no interrupted entry
        keeps (see _liveness.interrupted).
        """
        # Files are named from a descriptor of the collection (shorter lookups).
        coll_fd = _markers.open_collection(self.coll_dir)
        try:
            self._apply(idents, probe, kept, coll_fd)
        finally:
            if coll_fd is not None:
                os.close(coll_fd)

    def _apply(
        self, idents: list[str], probe: _markers.Probe, kept: bool, coll_fd: int | None
    ) -> None:
        prefix = "" if coll_fd is not None else f"{os.fspath(self.coll_dir)}/"
        store, log = self.store, self.changelog
        counts = self.reader.counts()
        before = dict(counts)
        minutes: Counter[int] = Counter()
        groups = GroupChanges()
        logged_from = log.next_seq
        get, directories, busy = store.get, probe.directories, probe.busy
        with store.write_batch(transaction=True, sync=self.durable) as wb:
            for ident in idents:
                old_raw = get(record_key(ident))
                res_dir = prefix + ident
                old: Entry | None = None
                if kept and old_raw is not None:
                    old = decode_record(ident, old_raw)
                if (
                    old is not None
                    and old.status == PENDING
                    and is_local(old)
                    and ident in directories
                    and ident not in busy
                    and _store.read_status(res_dir, coll_fd) == PENDING
                ):
                    new: Entry | None = interrupted(old)
                else:
                    new = _store.read_record(
                        res_dir, dir_checked=ident in directories, ident=ident, dir_fd=coll_fd
                    )
                    if new is not None:
                        new = settle(new, ident not in busy, probe.lease_expired(new))
                if new is not None:
                    encoded = encode_record(new)
                    if encoded == old_raw:
                        continue  # already applied (e.g. a claimed leftover): apply once
                if old is None and old_raw is not None:
                    old = decode_record(ident, old_raw)  # only now: it changes
                if new is None:
                    if old is None or old.status == UNAVAILABLE:
                        continue
                    if store.get(planned_key(ident)) is not None:
                        new = Entry(ident, UNAVAILABLE)  # planned: back to not started
                        encoded = encode_record(new)
                    else:
                        wb.delete(record_key(ident))
                        wb.delete(status_key(old.status, ident))
                        counts[old.status] -= 1
                        groups.leave(wb, old)
                        log.append(wb, encode_removal(ident))
                        continue
                wb.put(record_key(ident), encoded)
                groups.move(wb, old, new)
                if old is None or old.status != new.status:
                    if old is not None:
                        wb.delete(status_key(old.status, ident))
                        counts[old.status] -= 1
                    wb.put(status_key(new.status, ident), b"")
                    counts[new.status] += 1
                end = new.end_time
                if new.status == COMPLETED and end is not None:
                    if old is None or old.status != COMPLETED or old.end_time != end:
                        minutes[end // 60_000] += 1
                log.append(wb, encode_change(ident, encoded))
            for status, n in counts.items():
                if n != before[status]:
                    wb.put(count_key(status), str(n).encode())
            for minute, n in minutes.items():
                stored = number(store.get(minute_key(minute)))
                wb.put(minute_key(minute), str(stored + n).encode())
            groups.write(wb, store)
            self._trim_minutes(wb)
            if log.next_seq != logged_from:
                log.put_bounds(wb)

    def _trim_minutes(self, wb: WriteBatch) -> None:
        cutoff = minute_key(_store.now_ms() // 60_000 - MINUTES_KEPT)
        for key in self.store.iterator(prefix=MINUTE_PREFIX, include_value=False):
            if key >= cutoff:
                break
            wb.delete(key)

    def apply_plan(self, idents: Iterable[str], plan_id: str, log: bool = True) -> None:
        """Add planned idents that have no entry yet as unavailable; note the plan applied."""
        store = self.store
        added = 0
        for chunk in _markers.chunks(iter(idents), WRITE_CHUNK):
            counts = self.reader.counts()
            with store.write_batch(transaction=True, sync=self.durable) as wb:
                for ident in chunk:
                    try:
                        check_ident(ident)
                    except InvalidName:
                        continue
                    wb.put(planned_key(ident), b"")
                    if store.get(record_key(ident)) is None:
                        wb.put(record_key(ident), encode_record(Entry(ident, UNAVAILABLE)))
                        wb.put(status_key(UNAVAILABLE, ident), b"")
                        counts[UNAVAILABLE] += 1
                        added += 1
                wb.put(count_key(UNAVAILABLE), str(counts[UNAVAILABLE]).encode())
        with store.write_batch(sync=self.durable) as wb:
            if added and log:
                self.changelog.append(wb, RELOAD_CHANGE)
                self.changelog.put_bounds(wb)
            wb.put(plan_applied_key(plan_id), b"")
