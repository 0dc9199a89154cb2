"""CollectionView: several reads of one collection under one brief opening of its index.

Every read method of :class:`~hadrosaur.Project` opens the index, drains the
markers, reads and closes. A live monitor that wants counts, a page of
entries and the change feed at once uses ``Project.view`` instead, paying for
the opening once. The view derives ``interrupted`` for the few pending
entries it returns; nothing else touches the resource directories.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ._index import CollectionIndex
from ._liveness import current_status
from ._store import Record, now_ms
from .entries import ChangeBatch, Cursor, Entry
from .errors import InvalidStatus
from .resource import (
    COMPLETED,
    COUNT_KEYS,
    ERROR,
    INTERRUPTED,
    PENDING,
    STATUSES,
    UNAVAILABLE,
)

__all__ = ("CollectionView", "normalize_status")

_ALIASES = {"complete": COMPLETED}


def normalize_status(status: str) -> str:
    """Check a status a caller asks for; ``complete`` (0.4.1) means completed."""
    status = _ALIASES.get(status, status)
    if status not in STATUSES:
        raise InvalidStatus(status, STATUSES)
    return status


class CollectionView:
    """Reads of one collection while its index is open (see ``Project.view``)."""

    def __init__(self, index: CollectionIndex, name: str) -> None:
        self._index = index
        self.name = name
        self.coll_dir: Path = index.coll_dir

    def _live(self, ident: str, stored: str) -> str:
        if stored != PENDING:  # the common case: skip building a Path (half the cost of ls)
            return stored
        return current_status(self.coll_dir / ident, stored)

    def _entry(self, ident: str, rec: Record) -> Entry:
        return Entry(ident, self._live(ident, rec.status), rec.start, rec.end, rec.reason)

    def counts(self) -> dict[str, int]:
        """Counts per status plus total: O(1) from counters, plus a probe per pending entry."""
        stored = self._index.counts()
        counts = dict.fromkeys(COUNT_KEYS, 0)
        for status in (COMPLETED, ERROR, UNAVAILABLE):
            counts[status] = stored[status]
        for ident in self._index.idents(PENDING):
            counts[self._live(ident, PENDING)] += 1
        counts["total"] = sum(counts[s] for s in STATUSES)
        return counts

    def idents(self, status: str) -> list[str]:
        """Idents with ``status``, in ident order; O(k) for the k returned."""
        status = normalize_status(status)
        if status in (PENDING, INTERRUPTED):
            return [i for i in self._index.idents(PENDING) if self._live(i, PENDING) == status]
        return self._index.idents(status)

    def entry(self, ident: str) -> Entry | None:
        """The index entry of one resource, or None when the index has none."""
        rec = self._index.get(ident)
        return None if rec is None else self._entry(ident, rec)

    def entries(self, after: str | None = None, limit: int | None = None) -> list[Entry]:
        """Entries in ident order, after ``after`` (exclusive), at most ``limit``.

        Page through a large collection by passing the last ident seen.
        """
        return [self._entry(i, rec) for i, rec in self._index.records(after, limit)]

    def rows(
        self, after: str | None = None, limit: int = 10_000
    ) -> list[tuple[str, str, int | None, int | None, str]]:
        """Like :meth:`entries` as (ident, status, start, end, reason) tuples: for bulk loads."""
        rows = self._index.row_tuples(after, limit)
        for i, row in enumerate(rows):
            if row[1] == PENDING:
                rows[i] = (row[0], self._live(row[0], PENDING), *row[2:])
        return rows

    def entries_of(self, idents: Iterable[str]) -> list[Entry]:
        """The current entries of the given idents (those the index has)."""
        out = []
        for ident in idents:
            entry = self.entry(ident)
            if entry is not None:
                out.append(entry)
        return out

    def cursor(self) -> Cursor:
        """The change-log position just after the newest change."""
        return self._index.cursor()

    def changes(self, cursor: Cursor | None, limit: int = 10_000) -> ChangeBatch:
        """Changes after ``cursor``, or ``reload=True`` when the caller must reload.

        Pending entries in the batch carry their live status, but no change is
        logged when a worker dies: a monitor should re-probe its pending rows
        (``entries_of``) now and then to notice them becoming interrupted.
        """
        now = self._index.cursor()
        if cursor is None or cursor.epoch != now.epoch:
            return ChangeBatch((), now, reload=True)
        found = self._index.changes_after(cursor.seq, limit)
        if found is None:
            return ChangeBatch((), now, reload=True)
        changes, reload, more = found
        if reload:
            return ChangeBatch((), now, reload=True)
        live = tuple(
            c
            if c.entry is None or c.entry.status != PENDING
            else type(c)(c.seq, c.ident, self._entry_of_change(c.ident, c.entry))
            for c in changes
        )
        end = Cursor(now.epoch, changes[-1].seq) if changes else cursor
        return ChangeBatch(live, end, more=more)

    def _entry_of_change(self, ident: str, entry: Entry) -> Entry:
        return Entry(
            ident, self._live(ident, entry.status), entry.start_time, entry.end_time, entry.reason
        )

    def completions_per_minute(self, minutes: int = 10, now: int | None = None) -> dict[int, int]:
        """Resources completed per epoch minute over the ``minutes`` minutes before ``now`` (ms)."""
        end = now_ms() if now is None else now
        return self._index.completions_per_minute(end // 60_000 - minutes + 1)

    def rebuild(self) -> None:
        """Rebuild the index from the directories now (the change log starts anew)."""
        self._index.rebuild()

    def mismatches(self) -> list[tuple[str, Record | None, Record | None]]:
        """(ident, in index, on disk) for every resource where index and directories differ."""
        return self._index.scan_mismatches()

    @property
    def rebuilt(self) -> bool:
        """True when opening this view rebuilt the index from the directories."""
        return self._index.rebuilt

    @property
    def fallback(self) -> str:
        """Why this view reads an index built in memory from a scan ("" normally).

        Set when the collection's index cannot be written (a read-only mount,
        a full disk, no permission): the answers are still exact, built from
        the directories, but nothing is kept, so each opening scans again.
        """
        return self._index.fallback
