"""CollectionModel: the in-memory view of one collection, fed by the index's change log.

A collection may hold a million resources, so the model keeps parallel
compact arrays (idents sorted like the index, a status code per byte, start
and end times as 64-bit ints) instead of one object per resource. The table
on screen is the *view*: an array of positions into those arrays, filtered
and sorted, or nothing at all (``order is None``) when every row shows in
ident order, which is the common case and costs no memory. Filters run in C:
a status filter is a ``bytes.translate`` of the status codes fed to
``itertools.compress``.

Rows arrive in :class:`RowBlock` columns built by the background reader, so
loading a page costs the UI thread a few C-level ``extend`` calls. Only the
UI thread touches a model.
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hadrosaur.entries import Entry
from hadrosaur.resource import ERROR, PENDING
from hadrosaur.times import duration_ms

from .format import STATUS_ORDER

__all__ = ("SORT_KEYS", "CollectionModel", "Row", "RowBlock", "RowTuple")

#: A row as the reader sends it: the library's one row type, (ident, status, start_ms,
#: end_ms, reason) as a named tuple.
RowTuple = Entry
#: The columns the table can be sorted by.
SORT_KEYS: tuple[str, ...] = ("ident", "status", "start", "duration")

_CODE = {status: code for code, status in enumerate(STATUS_ORDER)}
_ERROR_CODE = _CODE[ERROR]
_NONE = -1
# One translation table per status: code -> 1 if it is that status, else 0.
_MASKS = {
    status: bytes(1 if c == code else 0 for c in range(256)) for status, code in _CODE.items()
}


def _ms(value: int | None) -> int:
    return _NONE if value is None else value


def _opt(value: int) -> int | None:
    return None if value == _NONE else value


@dataclass
class RowBlock:
    """A page of rows in columns, ready to be appended to a model with C-level extends."""

    idents: list[str] = field(default_factory=list)
    codes: bytes = b""
    starts: array[int] = field(default_factory=lambda: array("q"))
    ends: array[int] = field(default_factory=lambda: array("q"))
    reasons: dict[str, str] = field(default_factory=dict)
    #: The host of each pending row that names one (for the running count per host).
    hosts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Sequence[RowTuple]) -> RowBlock:
        """Build the columns (call this off the UI thread)."""
        code = _CODE.get
        return cls(
            [r[0] for r in rows],
            bytes(code(r[1], _ERROR_CODE) for r in rows),
            array("q", [_NONE if r[2] is None else r[2] for r in rows]),
            array("q", [_NONE if r[3] is None else r[3] for r in rows]),
            {r[0]: r[4] for r in rows if r[4]},
            {r[0]: r[5] for r in rows if r[1] == PENDING and len(r) > 5 and r[5]},
        )

    def __len__(self) -> int:
        return len(self.idents)

    def rows(self) -> list[RowTuple]:
        return [
            Entry(
                ident,
                STATUS_ORDER[c],
                _opt(s),
                _opt(e),
                self.reasons.get(ident, ""),
                self.hosts.get(ident, ""),
            )
            for ident, c, s, e in zip(self.idents, self.codes, self.starts, self.ends, strict=True)
        ]


@dataclass(frozen=True)
class Row:
    """One row of the view, as the table draws it."""

    ident: str
    status: str
    start: int | None
    end: int | None
    reason: str

    def duration_ms(self, now_ms: int) -> int | None:
        """Run time: end - start, or now - start while running."""
        return duration_ms(self.start, self.end, now=now_ms if self.status == PENDING else None)


class CollectionModel:
    """Rows of one collection plus the current filter and sort.

    Example:
        >>> m = CollectionModel("genomes")
        >>> m.extend([("a", "completed", 1, 2, ""), ("b", "error", 1, 3, "ValueError: x")])
        >>> m.set_status_filter("error")
        >>> [r.ident for r in m.rows(0, 10)]
        ['b']
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.idents: list[str] = []
        self.codes = bytearray()
        self.starts = array("q")
        self.ends = array("q")
        self.reasons: dict[str, str] = {}
        #: ident -> host of the pending rows that name one.
        self.hosts: dict[str, str] = {}
        self.status_filter: str | None = None
        self.text_filter = ""
        #: The error group shown (signature, exception) and its idents, or None.
        self.group_filter: tuple[str, str] | None = None
        self._group_idents: frozenset[str] = frozenset()
        self.sort_key = "ident"
        self.reverse = False
        #: Positions shown, in order; None means "all, in ident order".
        self.order: array[int] | None = None
        self.loaded = False
        #: Length of the longest ident held (the table sizes its column by it).
        self.longest_ident = 0
        #: The selected ident, kept in the view when a change takes it out of the filters,
        #: until the selection moves on (:meth:`keep`): a row never vanishes from under
        #: the cursor, nor does the cursor land on another resource by itself.
        self.kept: str | None = None

    # -- size and rows -------------------------------------------------------

    def __len__(self) -> int:
        """Rows in the view (after filtering)."""
        return len(self.idents) if self.order is None else len(self.order)

    @property
    def total(self) -> int:
        """Rows in the model (before filtering)."""
        return len(self.idents)

    def _row_at(self, pos: int) -> Row:
        ident = self.idents[pos]
        return Row(
            ident,
            STATUS_ORDER[self.codes[pos]],
            _opt(self.starts[pos]),
            _opt(self.ends[pos]),
            self.reasons.get(ident, ""),
        )

    def _positions(self, start: int, stop: int) -> Iterable[int]:
        if self.order is None:
            return range(max(0, start), min(stop, len(self.idents)))
        return self.order[start:stop]

    def row(self, index: int) -> Row:
        """The row at ``index`` in the view."""
        return self._row_at(index if self.order is None else self.order[index])

    def rows(self, start: int, stop: int) -> list[Row]:
        """Rows ``start:stop`` of the view."""
        return [self._row_at(pos) for pos in self._positions(start, stop)]

    def find(self, ident: str) -> int | None:
        """The view index of ``ident``, or None when it is filtered out or unknown."""
        pos = self._position(ident)
        if pos is None or self.order is None:
            return pos
        if self.sort_key == "ident":
            i = self._order_index(pos)
            return i if i < len(self.order) and self.order[i] == pos else None
        try:
            return self.order.index(pos)
        except ValueError:
            return None

    def _order_index(self, pos: int) -> int:
        """Where ``pos`` is (or belongs) in an ident-sorted order array."""
        assert self.order is not None
        if self.reverse:
            return bisect_left(self.order, -pos, key=lambda p: -p)
        return bisect_left(self.order, pos)

    def _position(self, ident: str) -> int | None:
        pos = bisect_left(self.idents, ident)
        return pos if pos < len(self.idents) and self.idents[pos] == ident else None

    def keep(self, ident: str | None) -> bool:
        """Keep ``ident`` (the selection) in the view through live changes; release the last one.

        The row released leaves the view if it no longer matches the filters;
        returns True then (view indexes after it moved up by one).
        """
        old, self.kept = self.kept, ident
        if old is None or old == ident or self.order is None:
            return False
        pos = self._position(old)
        if pos is None or self._matches(pos):
            return False
        if self.sort_key == "ident":
            i = self._order_index(pos)
            found = i < len(self.order) and self.order[i] == pos
        else:
            found = pos in self.order
            i = self.order.index(pos) if found else -1
        if found:
            del self.order[i]
        return found

    def kept_outside(self) -> bool:
        """Whether the view holds the kept row only because it is kept (it no longer matches)."""
        if self.kept is None or self.order is None:
            return False
        pos = self._position(self.kept)
        return pos is not None and not self._matches(pos)

    def _release_unmatched(self) -> None:
        """A filter chosen by the user shows what it says: a kept row that does not match goes."""
        pos = self._position(self.kept) if self.kept is not None else None
        if pos is None or not self._matches(pos):
            self.kept = None

    def counts(self) -> dict[str, int]:
        """Rows per status in the model."""
        return {status: self.codes.count(code) for status, code in _CODE.items()}

    def running_per_host(self) -> dict[str, int]:
        """How many resources each host is computing now (pending rows), most first."""
        counts: dict[str, int] = {}
        for host in self.hosts.values():
            counts[host] = counts.get(host, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    # -- feeding -------------------------------------------------------------

    def clear(self) -> None:
        """Forget every row (before a reload); filter and sort are kept."""
        self.idents = []
        self.codes = bytearray()
        self.starts = array("q")
        self.ends = array("q")
        self.reasons = {}
        self.hosts = {}
        self.loaded = False
        self.longest_ident = 0
        self._rebuild()

    def extend(self, rows: RowBlock | Sequence[RowTuple]) -> None:
        """Append a page of rows in ident order.

        A page that does not start after the last ident held (it raced with a
        change) is applied row by row instead.
        """
        block = rows if isinstance(rows, RowBlock) else RowBlock.from_rows(rows)
        if not len(block):
            return
        if self.idents and block.idents[0] <= self.idents[-1]:
            self.apply([(row[0], row) for row in block.rows()])
            return
        first_new = len(self.idents)
        self.idents.extend(block.idents)
        self.codes.extend(block.codes)
        self.starts.extend(block.starts)
        self.ends.extend(block.ends)
        self.reasons.update(block.reasons)
        self.hosts.update(block.hosts)
        self.longest_ident = max(self.longest_ident, max(map(len, block.idents)))
        if self.order is None:
            return
        if self.sort_key == "ident" and not self.reverse:
            self.order.extend(self._filtered(range(first_new, len(self.idents))))
        else:
            self._rebuild()

    def apply(self, changes: Sequence[tuple[str, RowTuple | None]]) -> set[str]:
        """Apply (ident, new row or None for removed) changes; return the idents touched."""
        structural = False
        touched: set[str] = set()
        for ident, row in changes:
            touched.add(ident)
            pos = self._position(ident)
            if row is None:
                if pos is not None:
                    self._remove(pos)
                    structural = True
                continue
            if pos is None:
                pos = bisect_left(self.idents, ident)
                self.idents.insert(pos, ident)
                self.codes.insert(pos, 0)
                self.starts.insert(pos, 0)
                self.ends.insert(pos, 0)
                self.longest_ident = max(self.longest_ident, len(ident))
                structural = True
            self._set_values(pos, row)
            if not structural:
                self._refresh_membership(pos)
        if self.order is not None and (structural or self.sort_key != "ident"):
            self._rebuild()
        return touched

    def _set_values(self, pos: int, row: RowTuple) -> None:
        ident, status, start, end, reason = row[:5]
        self.codes[pos] = _CODE.get(status, _ERROR_CODE)
        self.starts[pos] = _ms(start)
        self.ends[pos] = _ms(end)
        if reason:
            self.reasons[ident] = reason
        else:
            self.reasons.pop(ident, None)
        host = row[5] if status == PENDING and len(row) > 5 else ""
        if host:
            self.hosts[ident] = host
        else:
            self.hosts.pop(ident, None)

    def _remove(self, pos: int) -> None:
        self.reasons.pop(self.idents[pos], None)
        self.hosts.pop(self.idents[pos], None)
        del self.idents[pos]
        del self.codes[pos]
        del self.starts[pos]
        del self.ends[pos]

    def _refresh_membership(self, pos: int) -> None:
        """After a value change at ``pos``, add it to or drop it from an ident-sorted view."""
        if self.order is None or self.sort_key != "ident":
            return
        i = self._order_index(pos)
        present = i < len(self.order) and self.order[i] == pos
        wanted = self._matches(pos) or self.idents[pos] == self.kept
        if present and not wanted:
            del self.order[i]
        elif wanted and not present:
            self.order.insert(i, pos)

    # -- filtering and sorting -------------------------------------------------

    def set_status_filter(self, status: str | None) -> None:
        """Show only ``status`` (None: every status)."""
        self.status_filter = status
        self._release_unmatched()
        self._rebuild()

    def set_text_filter(self, text: str) -> None:
        """Show only rows whose ident or error reason contains ``text``; ``!text`` inverts.

        Lower-case text matches case-insensitively (smart case).
        """
        self.text_filter = text
        self._release_unmatched()
        self._rebuild()

    def set_group_filter(self, signature: str, exception: str, idents: Iterable[str]) -> None:
        """Show only ``idents``, the error group ``signature`` (as read when it was chosen)."""
        self.group_filter = (signature, exception)
        self._group_idents = frozenset(idents)
        self._release_unmatched()
        self._rebuild()

    def clear_group_filter(self) -> None:
        """Show every group's rows again."""
        self.group_filter = None
        self._group_idents = frozenset()
        self._rebuild()

    def set_sort(self, key: str, reverse: bool = False) -> None:
        """Sort the view by one of :data:`SORT_KEYS`; ties keep ident order."""
        if key not in SORT_KEYS:
            raise ValueError(f"cannot sort by {key!r}; use one of {', '.join(SORT_KEYS)}")
        self.sort_key = key
        self.reverse = reverse
        self._rebuild()

    def _text_test(self) -> tuple[str, bool, bool] | None:
        text = self.text_filter
        invert = text.startswith("!")
        if invert:
            text = text[1:]
        if not text:
            return None
        return text, invert, text == text.lower()

    def _haystack(self, pos: int, fold: bool) -> str:
        ident = self.idents[pos]
        text = ident + "\n" + self.reasons.get(ident, "") if self.reasons else ident
        return text.lower() if fold else text

    def _matches(self, pos: int) -> bool:
        if self.status_filter is not None and self.codes[pos] != _CODE[self.status_filter]:
            return False
        if self.group_filter is not None and self.idents[pos] not in self._group_idents:
            return False
        test = self._text_test()
        if test is None:
            return True
        text, invert, fold = test
        return (text in self._haystack(pos, fold)) != invert

    def _filtered(self, positions: range) -> Iterable[int]:
        candidates: Iterable[int] = positions
        if self.status_filter is not None:
            mask = self.codes[positions.start : positions.stop].translate(
                _MASKS[self.status_filter]
            )
            candidates = itertools.compress(positions, mask)
        if self.group_filter is not None:
            group, idents = self._group_idents, self.idents
            candidates = [p for p in candidates if idents[p] in group]
        test = self._text_test()
        if test is not None:
            text, invert, fold = test
            haystack = self._haystack
            candidates = [p for p in candidates if (text in haystack(p, fold)) != invert]
        return candidates

    def _rebuild(self) -> None:
        plain = (
            self.status_filter is None and self.group_filter is None and self._text_test() is None
        )
        if plain and self.sort_key == "ident" and not self.reverse:
            self.order = None  # every row, in ident order: nothing to store
            return
        order = list(self._filtered(range(len(self.idents))))
        kept = self._position(self.kept) if self.kept is not None else None
        if kept is not None:
            i = bisect_left(order, kept)  # _filtered keeps positions in ascending order
            if i == len(order) or order[i] != kept:
                order.insert(i, kept)
        if self.sort_key == "status":
            order.sort(key=self.codes.__getitem__)
        elif self.sort_key == "start":
            starts = self.starts
            order.sort(key=lambda p: (starts[p] == _NONE, starts[p]))
        elif self.sort_key == "duration":
            order.sort(key=self._duration_key)
        if self.reverse:
            order.reverse()
        self.order = array("q", order)

    def _duration_key(self, pos: int) -> tuple[bool, int]:
        """Finished rows by run time, then the rest (running ones too: their time moves)."""
        duration = duration_ms(_opt(self.starts[pos]), _opt(self.ends[pos]))
        return (duration is None, duration or 0)
