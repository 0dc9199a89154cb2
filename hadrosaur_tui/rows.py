"""The rows of a collection as the monitor holds them: a page in columns, and one row drawn.

The reader thread builds a :class:`RowBlock` from the library's entries (the
status as a byte code, times as 64-bit ints, and the text filter's
haystacks, lower-cased here, off the UI thread); the model appends its
columns with C-level extends and hands the table a :class:`Row` per line
drawn.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

from hadrosaur.entries import Entry
from hadrosaur.resource import ERROR, PENDING
from hadrosaur.times import duration_ms

from .format import STATUS_ORDER
from .text_filter import haystacks

__all__ = ("CODES", "ERROR_CODE", "NO_TIME", "Row", "RowBlock", "RowTuple", "ms", "opt_ms")

#: A row as the reader sends it: the library's one row type, (ident, status, start_ms,
#: end_ms, reason) as a named tuple.
RowTuple = Entry
#: The byte code of each status in a model's ``codes`` column.
CODES = {status: code for code, status in enumerate(STATUS_ORDER)}
#: What a status word that is not one reads as.
ERROR_CODE = CODES[ERROR]
#: A missing time in the ``starts`` and ``ends`` columns.
NO_TIME = -1


def ms(value: int | None) -> int:
    """A time for a column (None as :data:`NO_TIME`)."""
    return NO_TIME if value is None else value


def opt_ms(value: int) -> int | None:
    """A time from a column (:data:`NO_TIME` as None)."""
    return None if value == NO_TIME else value


@dataclass
class RowBlock:
    """A page of rows in columns, ready to be appended to a model with C-level extends."""

    idents: list[str] = field(default_factory=list)
    codes: bytes = b""
    starts: array[int] = field(default_factory=lambda: array("q"))
    ends: array[int] = field(default_factory=lambda: array("q"))
    reasons: dict[str, str] = field(default_factory=dict)
    #: Each row's text filter haystack, and its lower-case copy (see text_filter.py).
    hay: list[str] = field(default_factory=list)
    folded: list[str] = field(default_factory=list)
    #: The host of each pending row that names one (for the running count per host).
    hosts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Sequence[RowTuple]) -> RowBlock:
        """Build the columns (call this off the UI thread: the lower-casing is done here)."""
        code = CODES.get
        idents = [r[0] for r in rows]
        reasons = {r[0]: r[4] for r in rows if r[4]}
        hay, folded = haystacks(idents, reasons)
        return cls(
            idents,
            bytes(code(r[1], ERROR_CODE) for r in rows),
            array("q", [NO_TIME if r[2] is None else r[2] for r in rows]),
            array("q", [NO_TIME if r[3] is None else r[3] for r in rows]),
            reasons,
            hay,
            folded,
            {r[0]: r[5] for r in rows if r[1] == PENDING and len(r) > 5 and r[5]},
        )

    def __len__(self) -> int:
        return len(self.idents)

    def rows(self) -> list[RowTuple]:
        return [
            Entry(
                ident,
                STATUS_ORDER[c],
                opt_ms(s),
                opt_ms(e),
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
