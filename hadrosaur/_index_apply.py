"""Applying changes to the index: resource records, plans, the change log and counters.

Every change goes through one WriteBatch that updates the record, the status
list, the counters, the per-minute completions and the change log together,
so a reader never sees them disagree. Applying a record the index already
holds changes nothing, which is what makes re-applying a claimed marker safe
(see the drain protocol in _index.py).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import _markers, _store
from ._index_keys import RELOAD_MARK, REMOVED_MARK, decode_record, encode_record
from ._index_keys import SEP as _SEP
from ._index_keys import c_key as _c
from ._index_keys import l_key as _l
from ._index_keys import m_key as _m
from ._index_keys import number as _num
from ._index_keys import p_key as _p
from ._index_keys import plan_key as _plan_key
from ._index_keys import r_key as _r
from ._index_keys import s_key as _s
from ._index_reads import IndexReads
from ._liveness import settle
from ._names import check_ident
from .errors import InvalidName
from .resource import COMPLETED, UNAVAILABLE

__all__ = ("LOG_BOUNDS_KEY", "MINUTES_KEPT", "WRITE_CHUNK", "IndexWrites")

#: "FIRST NEXT": the bounds of the change log, kept beside the counts.
LOG_BOUNDS_KEY = b"a/l"
#: Per-minute completion counts older than this many minutes are dropped.
MINUTES_KEPT = 24 * 60
#: Records per WriteBatch when many are written at once (plans, rebuilds).
WRITE_CHUNK = 20000


class IndexWrites(IndexReads):
    """The writes of an open index (a base of ``CollectionIndex``, which opens it)."""

    coll_dir: Path
    durable: bool
    log_limit: int

    def _log(self, wb: Any, value: str) -> None:
        """Append a change to the log (trimming it); the batch must end with _put_log_bounds."""
        wb.put(_l(self._next_seq), value.encode())
        self._next_seq += 1
        floor = self._next_seq - self.log_limit
        while self._first_seq < floor:
            wb.delete(_l(self._first_seq))
            self._first_seq += 1

    def _put_log_bounds(self, wb: Any) -> None:
        """Record the log's bounds, once per batch that logged (not once per change)."""
        wb.put(LOG_BOUNDS_KEY, b"%d %d" % (self._first_seq, self._next_seq))

    def _apply_resources(self, idents: list[str], probe: _markers.Probe) -> None:
        """Re-read each resource and record what changed; ``probe``: their locks, probed first.

        The locks were probed before the files are read here, so a pending
        resource whose lock was free is recorded interrupted (see settle).
        The probe's lstat already said which are real directories: theirs is
        not repeated (a mass death reads 50,000 resources here).
        """
        base = os.fspath(self.coll_dir)  # joined as strings: pathlib costs more than the reads
        counts = self._counts()
        before = dict(counts)
        minutes: Counter[int] = Counter()
        logged_from = self._next_seq
        with self._db.write_batch(transaction=True, sync=self.durable) as wb:
            for ident in idents:
                old_raw = self._db.get(_r(ident))
                old = decode_record(old_raw) if old_raw is not None else None
                res_dir = f"{base}/{ident}"
                new, host = _store.read_record_and_host(
                    res_dir, dir_checked=ident in probe.directories
                )
                if new is not None:
                    new = settle(new, host, ident not in probe.busy)
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
                wb.put(_m(minute), str(_num(self._db.get(_m(minute), b"0")) + n).encode())
            self._trim_minutes(wb)
            if self._next_seq != logged_from:
                self._put_log_bounds(wb)

    def _trim_minutes(self, wb: Any) -> None:
        cutoff = _m(_store.now_ms() // 60_000 - MINUTES_KEPT)
        for key in self._db.iterator(prefix=b"m/", include_value=False):
            if key >= cutoff:
                break
            wb.delete(key)

    def _apply_plan(self, idents: Iterable[str], plan_id: str, log: bool = True) -> None:
        """Add planned idents that have no entry yet as unavailable; note the plan applied."""
        added = 0
        for chunk in _markers.chunks(iter(idents), WRITE_CHUNK):
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
        with self._db.write_batch(sync=self.durable) as wb:
            if added and log:
                self._log(wb, f"{_SEP}{RELOAD_MARK}")
                self._put_log_bounds(wb)
            wb.put(_plan_key(plan_id), b"")
