"""The reads of a project's collections, answered from their indexes.

``Project`` is the user's one entry point, and reading is half of what it
does: counts, status lists, entries and the change feed for live monitors,
error groups, and keeping the index right (reindex, repair, check). Those
reads are here, as the base class :class:`CollectionReads` of ``Project``,
so that project.py holds defining, computing and reading one resource. The
base needs of its subclass only what any reader has: where a collection's
directory is, which collections there are, and the index settings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from ._index import LevelDBError
from ._layout_repair import repair_layout
from .entries import ChangeBatch, Cursor, Entry, ErrorGroup
from .errors import IndexUnavailable, InvalidStatus
from .status import COMPLETED, ERROR
from .view import CollectionView, normalize_status, open_view

__all__ = ("CollectionReads",)

T = TypeVar("T")


class CollectionReads(ABC):
    """Reads of collections through their indexes (the base of :class:`~hadrosaur.Project`)."""

    #: How long a reader waits for another process to release an index (s).
    index_timeout: float
    #: fsync what the index writes.
    durable: bool
    #: How many changes an index keeps for live readers.
    change_log_limit: int

    @abstractmethod
    def _coll_dir(self, name: str) -> Path:
        """The directory of an existing collection (validated)."""

    @abstractmethod
    def collections(self) -> list[str]:
        """The names of the collections in the base, sorted."""

    @contextmanager
    def view(self, collection: str, timeout: float | None = None) -> Iterator[CollectionView]:
        """Open a collection's index once for several reads.

        Keep the ``with`` block short: other readers wait while it is open.

        Example:
            >>> with proj.view("genomes") as v:  # doctest: +SKIP
            ...     counts, cursor = v.counts(), v.cursor()
        """
        with open_view(
            self._coll_dir(collection),
            collection,
            timeout=self.index_timeout if timeout is None else timeout,
            durable=self.durable,
            log_limit=self.change_log_limit,
        ) as v:
            yield v

    def _read(self, collection: str, read: Callable[[CollectionView], T]) -> T:
        try:
            with self.view(collection) as v:
                return read(v)
        except IndexUnavailable as exc:
            if not isinstance(exc.__cause__, LevelDBError):
                raise
        with self.view(collection) as v:  # rebuilt from the directories
            return read(v)

    def stats(self, collection: str | None = None) -> dict[str, Any]:
        """Counts per status: ``{"counts": {...}}`` for one collection, else one per collection.

        The counts have the keys total, completed, pending, interrupted, error
        and unavailable; total is the sum of the others. Unavailable counts
        planned resources (see ``Project.plan``) that have not started.
        """
        if collection is not None:
            return {"counts": self._read(collection, CollectionView.counts)}
        return {name: self.stats(name) for name in self.collections()}

    def fetch_by_status(
        self, collection: str, status: str | None = None, group: str | None = None
    ) -> list[str]:
        """The idents of a collection that have ``status``, in ident order.

        ``status`` defaults to completed, or to error when ``group`` is given.
        ``group``: a signature (see :meth:`error_groups`): only the errors of
        that cause, in O(k). A signature with no group now gives [] (its
        errors were recomputed, or it was mistyped: ``CollectionView.resolve_group``
        tells which).

        Example:
            >>> top = proj.error_groups("genomes")[0]  # doctest: +SKIP
            >>> proj.fetch_by_status("genomes", "error", group=top.signature)[:2]
            ['GCF_0001', 'GCF_0007']

        Raises:
            InvalidStatus: an unknown status, or a status other than error with ``group``.
        """
        if group is None:
            chosen = normalize_status(COMPLETED if status is None else status)
            return self._read(collection, lambda v: v.idents(chosen))
        if status is not None and normalize_status(status) != ERROR:
            raise InvalidStatus(status, (ERROR,), "a group holds errors only")
        return self._read(collection, lambda v: v.group_idents(group))

    def error_groups(
        self, collection: str, minutes: int = 60, now: int | None = None
    ) -> list[ErrorGroup]:
        """The collection's errors grouped by cause (signature), largest group first.

        Each :class:`~hadrosaur.ErrorGroup` has the exception type, the
        message's template, the user's frame, the count, three example idents,
        first and last seen (epoch ms), and failures per minute over the last
        ``minutes`` minutes. O(groups), exact as errors come and go (see the
        README's "Triage").

        Example:
            >>> for g in proj.error_groups("genomes"):  # doctest: +SKIP
            ...     print(g.count, g.signature, g.exception, g.message)
            14000 3fa92c01be KeyError 'sample_<ident>'
            12 81d0e3a4c2 TimeoutError timeout after <n> s on node<n>
        """
        return self._read(collection, lambda v: v.error_groups(minutes, now))

    #: Alias of :meth:`fetch_by_status`, the name hadrosaur 0.4.1 used.
    find_by_status = fetch_by_status

    def entries(
        self, collection: str, after: str | None = None, limit: int | None = None
    ) -> list[Entry]:
        """Index entries in ident order (page with ``after`` = the last ident seen)."""
        return self._read(collection, lambda v: v.entries(after, limit))

    def changes(
        self, collection: str, cursor: Cursor | None = None, limit: int = 10_000
    ) -> ChangeBatch:
        """Changes since ``cursor`` for live readers (see :class:`~hadrosaur.ChangeBatch`).

        Call with no cursor first: the batch says ``reload`` and carries the
        cursor to use from then on.
        """
        return self._read(collection, lambda v: v.changes(cursor, limit))

    def reindex(self, collection: str | None = None) -> dict[str, dict[str, int]]:
        """Rebuild indexes from the directories; return the new counts per collection.

        Links, files or empty directories standing where a collection's marker
        directories or index lock belong are removed first (see
        :meth:`repair_layout`).
        """
        names = [collection] if collection is not None else self.collections()
        out = {}
        for name in names:
            self.repair_layout(name)
            with self.view(name) as v:
                if not v.rebuilt:
                    v.rebuild()
                out[name] = v.counts()
        return out

    def repair_layout(self, collection: str) -> list[str]:
        """Remove what is not hadrosaur's where a collection's own entries belong.

        A symlink, a file or a FIFO at ``.updates``, ``.updates/.claimed`` or
        ``.updates/.kept``, and an empty directory or a link at ``.index.lock``
        make every reader serve from a scan; reindex removes them (a link, never
        its target) so that the index can be rebuilt. Returns one line per
        entry removed.

        Raises:
            RefusedPath: ``.index.lock`` is a directory that is not empty.
        """
        return repair_layout(self._coll_dir(collection))

    def check(self, collection: str, fix: bool = False) -> list[str]:
        """Compare a collection's index with its directories; rebuild it if ``fix``.

        Returns one line per difference ([] when they agree).
        """
        with self.view(collection) as v:
            problems = [
                f"{ident}: index has {_describe(idx)}, disk has {_describe(disk)}"
                for ident, idx, disk in v.mismatches()
            ]
            if problems and fix:
                v.rebuild()
        return problems


def _describe(rec: Entry | None) -> str:
    return "nothing" if rec is None else rec.status
