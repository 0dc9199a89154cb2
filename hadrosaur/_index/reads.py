"""Reading the index: counts, status lists, records, rows, and the change log.

These are the queries a reader makes once :class:`~hadrosaur._index.CollectionIndex`
has opened and drained the LevelDB; none of them writes. Key layout: see keys.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..entries import Change, Cursor, Entry, ErrorGroup
from .changelog import ChangeLog
from .codec import STORED_STATUSES, decode_change, decode_record, decode_rows, number, text
from .groups import error_groups, group_idents, signatures_starting
from .keys import (
    LOG_END,
    MINUTES_END,
    RECORD_PREFIX,
    RECORDS_END,
    count_key,
    log_key,
    minute_key,
    record_key,
    status_prefix,
)
from .kv import KeyValueStore

__all__ = ("IndexReader",)


class IndexReader:
    """The read-only queries of an index held in ``store``, whose log is at ``changelog``.

    The base of :class:`~hadrosaur._index.CollectionIndex`, whose opening
    sets ``store``; the writer holds one for the counts it updates.
    """

    def __init__(self, store: KeyValueStore, changelog: ChangeLog) -> None:
        self.store = store
        self.changelog = changelog

    def counts(self) -> dict[str, int]:
        """Stored counts per status (interrupted: recorded by a drain; see sweep.py)."""
        get = self.store.get
        return {s: number(get(count_key(s))) for s in STORED_STATUSES}

    def idents(self, status: str) -> list[str]:
        """The idents stored with ``status``, in ident order."""
        prefix = status_prefix(status)
        return [
            text(k[len(prefix) :]) for k in self.store.iterator(prefix=prefix, include_value=False)
        ]

    def get(self, ident: str) -> Entry | None:
        """The stored entry of one resource, or None."""
        raw = self.store.get(record_key(ident))
        return None if raw is None else decode_record(ident, raw)

    def entries(self, after: str | None = None, limit: int | None = None) -> list[Entry]:
        """Entries in ident order, starting after ``after``, at most ``limit`` of them."""
        return decode_rows(self._record_range(after), limit, ident_at=2)

    def _record_range(self, after: str | None) -> Iterator[tuple[bytes, bytes]]:
        """The r/ keys and values in ident order, after ``after`` (exclusive)."""
        if after is None:
            return self.store.iterator(prefix=RECORD_PREFIX)
        return self.store.iterator(start=record_key(after), stop=RECORDS_END, include_start=False)

    def cursor(self) -> Cursor:
        """The position just after the newest change."""
        return Cursor(*self.changelog.position)

    def changes_after(self, seq: int, limit: int) -> tuple[list[Change], bool, bool] | None:
        """Changes with a sequence number above ``seq``.

        Returns (changes, reload, more), or None when the log no longer reaches
        back to ``seq`` (it was trimmed) and the caller must reload.
        """
        if seq + 1 < self.changelog.first_seq:
            return None
        out: list[Change] = []
        for key, raw in self.store.iterator(start=log_key(seq + 1), stop=LOG_END):
            if len(out) >= limit:
                return out, False, True
            change = decode_change(raw)
            if change is None:
                return [], True, False
            ident, entry = change
            out.append(Change(number(key[2:], 16), ident, entry))
        return out, False, False

    def completions_per_minute(self, since_minute: int) -> dict[int, int]:
        """Completions per epoch minute, from ``since_minute`` on."""
        return {
            number(k[2:]): number(v)
            for k, v in self.store.iterator(start=minute_key(since_minute), stop=MINUTES_END)
        }

    def error_groups(self, first_minute: int, last_minute: int) -> list[ErrorGroup]:
        """The error groups, largest first, with failures per minute in the range given."""
        return error_groups(self.store, first_minute, last_minute)

    def group_idents(self, signature: str) -> list[str]:
        """The idents in error with ``signature``, in ident order ([] if none)."""
        return group_idents(self.store, signature)

    def signatures_starting(self, prefix: str) -> list[str]:
        """The signatures of the error groups that start with ``prefix``."""
        return signatures_starting(self.store, prefix)
