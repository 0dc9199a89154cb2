"""CollectionModel: the in-memory view of one collection, fed by the index's change log.

A collection may hold a million resources, so the model keeps parallel
compact arrays (idents sorted like the index, a status code per byte, start
and end times as 64-bit ints) instead of one object per resource. The table
on screen is the *view*: an array of positions into those arrays, filtered
and sorted, or nothing at all (``order is None``) when every row shows in
ident order, which is the common case and costs no memory. A view in ident
order is a :class:`~hadrosaur_tui.row_mask.RowMask`, one byte per row, so a
filter that most rows pass costs no more than one that few pass; a view
sorted by another column is an array of positions. Filters run in C: a
status filter is a ``bytes.translate`` of the status codes, a text filter a
``map(operator.contains, …)`` over haystacks lower-cased once, when the rows
arrived (text_filter.py), and masks combine as big integers.

Rows arrive in :class:`RowBlock` columns built by the background reader, so
loading a page costs the UI thread a few C-level ``extend`` calls. Only the
UI thread touches a model.
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence

from hadrosaur.resource import PENDING
from hadrosaur.times import duration_ms

from .format import STATUS_ORDER
from .row_mask import RowMask, and_masks
from .rows import CODES, ERROR_CODE, NO_TIME, Row, RowBlock, RowTuple, ms, opt_ms
from .text_filter import SLICE_ROWS, TextFilterJob, TextTest, haystacks, match_mask

__all__ = ("SORT_KEYS", "CollectionModel", "Row", "RowBlock", "RowTuple")

#: The columns the table can be sorted by.
SORT_KEYS: tuple[str, ...] = ("ident", "status", "start", "duration")

# One translation table per status: code -> 1 if it is that status, else 0.
_MASKS = {
    status: bytes(1 if c == code else 0 for c in range(256)) for status, code in CODES.items()
}


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
        self.status_filter: str | None = None
        self.text_filter = ""
        #: The error group shown (signature, exception) and its idents, or None.
        self.group_filter: tuple[str, str] | None = None
        self._group_idents: frozenset[str] = frozenset()
        self.sort_key = "ident"
        self.reverse = False
        #: Bumped whenever rows are inserted or removed (positions move): a text
        #: filter job begun before must start again.
        self.version = 0
        #: The text filter job being run (the newest), told of rows changed meanwhile.
        self._job: TextFilterJob | None = None
        #: The selected ident, kept in the view when a change takes it out of the filters,
        #: until the selection moves on (:meth:`keep`): a row never vanishes from under
        #: the cursor, nor does the cursor land on another resource by itself.
        self.kept: str | None = None
        self._clear_rows()

    def _clear_rows(self) -> None:
        self.idents: list[str] = []
        self.codes = bytearray()
        self.starts = array("q")
        self.ends = array("q")
        self.reasons: dict[str, str] = {}
        #: ident -> host of the pending rows that name one.
        self.hosts: dict[str, str] = {}
        self._hay: list[str] = []
        self._folded: list[str] = []
        #: Per row, 1 if it passes the text filter / is in the group (None: no such filter).
        self._text_mask: bytearray | None = None
        self._group_mask: bytearray | None = None
        #: The view: None means "all, in ident order"; a RowMask in ident order
        #: (either way); an array of positions when sorted by another column.
        self.order: RowMask | array[int] | None = None
        self.loaded = False
        #: Length of the longest ident held (the table sizes its column by it).
        self.longest_ident = 0

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
            opt_ms(self.starts[pos]),
            opt_ms(self.ends[pos]),
            self.reasons.get(ident, ""),
        )

    def _positions(self, start: int, stop: int) -> Iterable[int]:
        order = self.order
        if order is None:
            return range(max(0, start), min(stop, len(self.idents)))
        if isinstance(order, RowMask):
            return order.positions(start, stop, self.reverse)
        return order[max(0, start) : stop]

    def position(self, index: int) -> int:
        """The model position of view row ``index``."""
        order = self.order
        if order is None:
            return index
        if isinstance(order, RowMask):
            return order.nth(len(order) - 1 - index if self.reverse else index)
        return order[index]

    def row(self, index: int) -> Row:
        """The row at ``index`` in the view."""
        return self._row_at(self.position(index))

    def rows(self, start: int, stop: int) -> list[Row]:
        """Rows ``start:stop`` of the view."""
        return [self._row_at(pos) for pos in self._positions(start, stop)]

    def find(self, ident: str) -> int | None:
        """The view index of ``ident``, or None when it is filtered out or unknown."""
        pos = self._position(ident)
        order = self.order
        if pos is None or order is None:
            return pos
        if isinstance(order, RowMask):
            index = order.index(pos)
            if index is None or not self.reverse:
                return index
            return len(order) - 1 - index
        try:
            return order.index(pos)
        except ValueError:
            return None

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
        order = self.order
        if isinstance(order, RowMask):
            found = order.index(pos) is not None
            if found:
                order.set(pos, False)
            return found
        try:
            i = order.index(pos)
        except ValueError:
            return False
        del order[i]
        return True

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
        return {status: self.codes.count(code) for status, code in CODES.items()}

    def running_per_host(self) -> dict[str, int]:
        """How many resources each host is computing now (pending rows), most first."""
        counts: dict[str, int] = {}
        for host in self.hosts.values():
            counts[host] = counts.get(host, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    # -- feeding -------------------------------------------------------------

    def clear(self) -> None:
        """Forget every row (before a reload); filter and sort are kept."""
        self._clear_rows()
        self.version += 1
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
        self._hay.extend(block.hay)
        self._folded.extend(block.folded)
        self.longest_ident = max(self.longest_ident, max(map(len, block.idents)))
        stop = len(self.idents)
        test = TextTest.parse(self.text_filter)
        if self._text_mask is not None and test is not None:
            self._text_mask.extend(match_mask(test, self._hay, self._folded, first_new, stop))
        if self._group_mask is not None:
            self._group_mask.extend(map(self._group_idents.__contains__, block.idents))
        if isinstance(self.order, RowMask):
            self.order.extend(self._mask(first_new, stop) or b"\x01" * (stop - first_new))
        elif self.order is not None:
            self._rebuild()

    def apply(self, changes: Sequence[tuple[str, RowTuple | None]]) -> set[str]:
        """Apply (ident, new row or None for removed) changes; return the idents touched."""
        touched: set[str] = set()
        resort = False
        # Once per batch, not per row: a mass death brings 50,000 changes at once.
        test = TextTest.parse(self.text_filter) if self._text_mask is not None else None
        for ident, row in changes:
            touched.add(ident)
            pos = self._position(ident)
            if row is None:
                if pos is not None:
                    self._remove(pos)
                    resort = True
                continue
            if pos is None:
                pos = self._insert(ident)
                resort = True
            self._set_values(pos, row, test)
            self._refresh_membership(pos)
        if self.order is not None and not isinstance(self.order, RowMask):
            if resort or self.sort_key != "ident":
                self._rebuild()
        return touched

    def _insert(self, ident: str) -> int:
        """Room for a new row ``ident``, hidden until its values are set; its position."""
        pos = bisect_left(self.idents, ident)
        self.idents.insert(pos, ident)
        self.codes.insert(pos, 0)
        self.starts.insert(pos, 0)
        self.ends.insert(pos, 0)
        self._hay.insert(pos, ident)
        self._folded.insert(pos, ident.lower())
        for mask in (self._text_mask, self._group_mask):
            if mask is not None:
                mask.insert(pos, 0)
        if isinstance(self.order, RowMask):
            self.order.insert(pos, False)
        self.longest_ident = max(self.longest_ident, len(ident))
        self.version += 1
        return pos

    def _set_values(self, pos: int, row: RowTuple, test: TextTest | None) -> None:
        """Store ``row`` at ``pos``; ``test``: the text filter's, parsed by the caller."""
        ident, status, start, end, reason = row[:5]
        self.codes[pos] = CODES.get(status, ERROR_CODE)
        self.starts[pos] = ms(start)
        self.ends[pos] = ms(end)
        if reason:
            self.reasons[ident] = reason
        else:
            self.reasons.pop(ident, None)
        host = row[5] if status == PENDING and len(row) > 5 else ""
        if host:
            self.hosts[ident] = host
        else:
            self.hosts.pop(ident, None)
        (hay,), (folded,) = haystacks((ident,), self.reasons)
        self._hay[pos], self._folded[pos] = hay, folded
        if self._text_mask is not None and test is not None:
            self._text_mask[pos] = test.matches(ident, reason or "")
        if self._group_mask is not None:
            self._group_mask[pos] = ident in self._group_idents
        if self._job is not None:
            self._job.touched.add(pos)

    def _remove(self, pos: int) -> None:
        self.reasons.pop(self.idents[pos], None)
        self.hosts.pop(self.idents[pos], None)
        for column in (self.idents, self.codes, self.starts, self.ends, self._hay, self._folded):
            del column[pos]
        for mask in (self._text_mask, self._group_mask):
            if mask is not None:
                del mask[pos]
        if isinstance(self.order, RowMask):
            self.order.remove(pos)
        self.version += 1

    def _refresh_membership(self, pos: int) -> None:
        """After a value change at ``pos``, show or hide it in an ident-ordered view."""
        if isinstance(self.order, RowMask):
            self.order.set(pos, self._matches(pos) or self.idents[pos] == self.kept)

    # -- filtering and sorting -------------------------------------------------

    def set_status_filter(self, status: str | None) -> None:
        """Show only ``status`` (None: every status)."""
        self.status_filter = status
        self._release_unmatched()
        self._rebuild()

    def set_text_filter(self, text: str) -> None:
        """Show only rows whose ident or error reason contains ``text``; ``!text`` inverts.

        Lower-case text matches case-insensitively (smart case). This matches
        every row at once; the screen runs :meth:`text_filter_job` in slices.
        """
        job = self.text_filter_job(text)
        self.finish_text_filter(job)

    def text_filter_job(self, text: str) -> TextFilterJob:
        """A job matching ``text`` a slice at a time, installed by :meth:`finish_text_filter`.

        Example:
            >>> m = CollectionModel("c")
            >>> m.extend([("a1", "completed", 1, 2, ""), ("b2", "completed", 1, 2, "")])
            >>> job = m.text_filter_job("b")
            >>> while not m.step_text_filter(job, rows=1):
            ...     pass
            >>> m.finish_text_filter(job)
            >>> [r.ident for r in m.rows(0, 10)]
            ['b2']
        """
        self._job = job = TextFilterJob(text, TextTest.parse(text), self.version)
        job.narrow(TextTest.parse(self.text_filter), self._text_mask)
        return job

    def step_text_filter(self, job: TextFilterJob, rows: int | None = None) -> bool:
        """Match the next slice of ``job``; True once it is complete for the rows held now."""
        if job.version != self.version:  # rows moved since it began: start again
            job.restart(self.version)
        return job.step(self._hay, self._folded, rows or SLICE_ROWS)

    def finish_text_filter(self, job: TextFilterJob) -> None:
        """Match what is left of ``job`` and show its result."""
        while not self.step_text_filter(job, rows=len(self.idents) + 1):
            pass
        self.text_filter = job.text
        self._text_mask = None
        if job.test is not None:
            self._text_mask = mask = job.mask()
            for pos in job.touched:  # changed after their slice was matched
                ident = self.idents[pos]
                mask[pos] = job.test.matches(ident, self.reasons.get(ident, ""))
        if self._job is job:
            self._job = None
        self._release_unmatched()
        self._rebuild()

    def set_group_filter(self, signature: str, exception: str, idents: Iterable[str]) -> None:
        """Show only ``idents``, the error group ``signature`` (as read when it was chosen)."""
        self.group_filter = (signature, exception)
        self._group_idents = frozenset(idents)
        self._group_mask = bytearray(map(self._group_idents.__contains__, self.idents))
        self._release_unmatched()
        self._rebuild()

    def clear_group_filter(self) -> None:
        """Show every group's rows again."""
        self.group_filter = None
        self._group_idents = frozenset()
        self._group_mask = None
        self._rebuild()

    def set_sort(self, key: str, reverse: bool = False) -> None:
        """Sort the view by one of :data:`SORT_KEYS`; ties keep ident order."""
        if key not in SORT_KEYS:
            raise ValueError(f"cannot sort by {key!r}; use one of {', '.join(SORT_KEYS)}")
        self.sort_key = key
        self.reverse = reverse
        self._rebuild()

    def _matches(self, pos: int) -> bool:
        if self.status_filter is not None and self.codes[pos] != CODES[self.status_filter]:
            return False
        if self._group_mask is not None and not self._group_mask[pos]:
            return False
        return self._text_mask is None or bool(self._text_mask[pos])

    def _mask(self, start: int, stop: int) -> bytes | None:
        """Rows ``start:stop`` that pass every filter, one byte each; None when none is set."""
        masks: list[bytes | bytearray] = []
        if self.status_filter is not None:
            masks.append(self.codes[start:stop].translate(_MASKS[self.status_filter]))
        for mask in (self._group_mask, self._text_mask):
            if mask is not None:
                masks.append(mask[start:stop])
        if not masks:
            return None
        combined = masks[0]
        for other in masks[1:]:
            combined = and_masks(combined, other)
        return bytes(combined)

    def _rebuild(self) -> None:
        n = len(self.idents)
        mask = self._mask(0, n)
        kept = self._position(self.kept) if self.kept is not None else None
        if mask is not None and kept is not None and not mask[kept]:
            mask = mask[:kept] + b"\x01" + mask[kept + 1 :]
        if self.sort_key == "ident":
            if mask is None and not self.reverse:
                self.order = None  # every row, in ident order: nothing to store
            else:
                self.order = RowMask(bytearray(b"\x01" * n if mask is None else mask))
            return
        order = list(range(n) if mask is None else itertools.compress(range(n), mask))
        if self.sort_key == "status":
            order.sort(key=self.codes.__getitem__)
        elif self.sort_key == "start":
            starts = self.starts
            order.sort(key=lambda p: (starts[p] == NO_TIME, starts[p]))
        elif self.sort_key == "duration":
            order.sort(key=self._duration_key)
        if self.reverse:
            order.reverse()
        self.order = array("q", order)

    def _duration_key(self, pos: int) -> tuple[bool, int]:
        """Finished rows by run time, then the rest (running ones too: their time moves)."""
        duration = duration_ms(opt_ms(self.starts[pos]), opt_ms(self.ends[pos]))
        return (duration is None, duration or 0)
