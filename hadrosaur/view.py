"""CollectionView: several reads of one collection under one brief opening of its index.

Every read method of :class:`~hadrosaur.Project` opens the index, drains the
markers, reads and closes. A live monitor that wants counts, a page of
entries and the change feed at once uses ``Project.view`` instead, paying for
the opening once. Nothing here touches the resource directories: the index
stores ``interrupted``, recorded by the drain the first time it finds a
pending resource's lock free (see _index/sweep.py), so no read probes locks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ._index import CollectionIndex, LevelDBError
from .entries import ChangeBatch, Cursor, Entry, ErrorGroup
from .errors import IndexUnavailable, InvalidStatus, UnknownErrorGroup
from .signature import is_signature_prefix
from .status import COUNT_KEYS, STATUSES, canonical
from .times import now_ms

__all__ = ("CollectionView", "normalize_status", "open_view")


def normalize_status(status: str) -> str:
    """Check a status a caller asks for; ``complete`` (0.4.1) means completed."""
    status = canonical(status)
    if status not in STATUSES:
        raise InvalidStatus(status, STATUSES)
    return status


@contextmanager
def open_view(
    coll_dir: Path, name: str, *, timeout: float, durable: bool, log_limit: int
) -> Iterator[CollectionView]:
    """Open (and drain) a collection's index, and read it through a view until the block ends.

    Corruption found while reading is a LevelDBError: the index is dropped,
    so that the next opening rebuilds it from the directories, and the error
    is raised as IndexUnavailable, whose ``__cause__`` it is.
    """
    index = CollectionIndex(coll_dir, timeout=timeout, durable=durable, log_limit=log_limit)
    with index:
        try:
            yield CollectionView(index, name)
        except LevelDBError as exc:
            index.discard()
            raise IndexUnavailable(index.path, exc) from exc


class CollectionView:
    """Reads of one collection while its index is open (see ``Project.view``)."""

    def __init__(self, index: CollectionIndex, name: str) -> None:
        self._index = index
        self.name = name
        self.coll_dir: Path = index.coll_dir

    def counts(self) -> dict[str, int]:
        """Counts per status plus total: O(1), from the index's counters."""
        counts = dict.fromkeys(COUNT_KEYS, 0)
        counts.update(self._index.counts())
        counts["total"] = sum(counts[s] for s in STATUSES)
        return counts

    def idents(self, status: str) -> list[str]:
        """Idents with ``status``, in ident order; O(k) for the k returned."""
        return self._index.idents(normalize_status(status))

    def entry(self, ident: str) -> Entry | None:
        """The index entry of one resource, or None when the index has none."""
        return self._index.get(ident)

    def entries(self, after: str | None = None, limit: int | None = None) -> list[Entry]:
        """Entries in ident order, after ``after`` (exclusive), at most ``limit``.

        Page through a large collection by passing the last ident seen. Built
        in one loop without a call per row, so a million load quickly.
        """
        return self._index.entries(after, limit)

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

        A worker's death is a change too: the drain that finds it logs the
        resource as interrupted (see :attr:`sweep_unfinished`).
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
        end = Cursor(now.epoch, changes[-1].seq) if changes else cursor
        return ChangeBatch(tuple(changes), end, more=more)

    def completions_per_minute(self, minutes: int = 10, now: int | None = None) -> dict[int, int]:
        """Resources completed per epoch minute over the ``minutes`` minutes before ``now`` (ms)."""
        end = now_ms() if now is None else now
        return self._index.completions_per_minute(end // 60_000 - minutes + 1)

    def error_groups(self, minutes: int = 60, now: int | None = None) -> list[ErrorGroup]:
        """The collection's errors grouped by cause, largest group first (then by signature).

        O(number of groups), from the index's group keys; ``per_minute`` of
        each holds its failures per epoch minute over the ``minutes`` minutes
        before ``now`` (epoch ms; default: now), for a sparkline.

        Example:
            >>> with proj.view("genomes") as v:  # doctest: +SKIP
            ...     for g in v.error_groups():
            ...         print(g.count, g.exception, g.message, v.group_idents(g.signature)[:5])
            14000 KeyError 'sample_<ident>' ['GCF_0001', 'GCF_0007', ...]
        """
        last = (now_ms() if now is None else now) // 60_000
        return self._index.error_groups(last - minutes + 1, last)

    def group_idents(self, signature: str) -> list[str]:
        """The idents in error with this signature, in ident order; O(k) for k of them.

        A signature with no group now (its errors were fixed or recomputed,
        or it was mistyped) gives []: see :meth:`resolve_group` to tell.
        """
        return self._index.group_idents(signature)

    def resolve_group(self, prefix: str) -> str:
        """The one group's signature that starts with ``prefix`` (4 to 10 hex digits).

        Like git's abbreviated hashes: ``3fa9`` names the group ``3fa92c01be``
        while no other group's signature starts the same way.

        Raises:
            UnknownErrorGroup: no group starts with it, several do (``matches``
                lists them), or it is not 4 to 10 hex digits.
        """
        if not is_signature_prefix(prefix):
            raise UnknownErrorGroup(self.name, prefix)
        matches = self._index.signatures_starting(prefix)
        if len(matches) != 1:
            raise UnknownErrorGroup(self.name, prefix, tuple(matches))
        return matches[0]

    def signatures_starting(self, prefix: str) -> list[str]:
        """The signatures of the error groups that start with ``prefix`` (for completion)."""
        return self._index.signatures_starting(prefix)

    def rebuild(self) -> None:
        """Rebuild the index from the directories now (the change log starts anew)."""
        self._index.rebuild()

    def mismatches(self) -> list[tuple[str, Entry | None, Entry | None]]:
        """(ident, in index, on disk) for every resource where index and directories differ."""
        return self._index.scan_mismatches()

    @property
    def rebuilt(self) -> bool:
        """True when opening this view rebuilt the index from the directories."""
        return self._index.rebuilt

    @property
    def sweep_unfinished(self) -> bool:
        """True when this opening ran out of time examining computing resources.

        Opening the index re-examines, at most every half second and for a
        bounded time, the resources that were being computed, and records
        those whose worker has died as interrupted. When there were more than
        that time allowed (tens of thousands), the rest are examined by the
        next openings: a monitor should read again soon.
        """
        return self._index.sweep_unfinished

    @property
    def fallback(self) -> str:
        """Why this view reads an index built in memory from a scan ("" normally).

        Set when the collection's index cannot be written (a read-only mount,
        a full disk, no permission): the answers are still exact, built from
        the directories, but nothing is kept, so each opening scans again.
        """
        return self._index.fallback
