"""The text filter: what ``/text`` matches, and matching a million rows in C, in slices.

A row matches ``text`` when its ident or its error reason contains it;
``!text`` shows the rows that do not match; lower-case text ignores case
(smart case, as in ripgrep or vim). Each row's *haystack* is its ident and
reason joined by ``\\0``, which neither can contain (idents are validated
names, reasons are one line with every control character a space), so a
match never spans the two; its lower-case copy is made once, off the UI
thread, when the row arrives (:func:`haystacks`). Matching a slice of rows
is then one ``map(operator.contains, …)`` turned into a 0/1 mask by
``bytes``: no Python code runs per row.

The UI thread runs a :class:`TextFilterJob` a slice at a time (typing stays
responsive) and only for the last text typed (see the resources screen).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat

__all__ = (
    "NARROW_SHARE",
    "SEPARATOR",
    "SLICE_ROWS",
    "TextFilterJob",
    "TextTest",
    "haystacks",
    "match_mask",
)

#: Between a row's ident and its reason in its haystack.
SEPARATOR = "\0"
#: Rows matched per slice of a job: a few milliseconds of C.
SLICE_ROWS = 65_536
#: A job narrows (looks only at the previous matches) when they are at most 1 row in this.
NARROW_SHARE = 16
_INVERT = bytes.maketrans(b"\x00\x01", b"\x01\x00")


@dataclass(frozen=True)
class TextTest:
    """A text filter parsed: the needle, whether it excludes (``!``), whether case is ignored."""

    needle: str
    invert: bool
    fold: bool

    @classmethod
    def parse(cls, text: str) -> TextTest | None:
        """The test of ``text``, or None when it filters nothing (empty, or a lone ``!``).

        Example:
            >>> TextTest.parse("!Boom")
            TextTest(needle='Boom', invert=True, fold=False)
        """
        invert = text.startswith("!")
        needle = text[1:] if invert else text
        if not needle:
            return None
        return cls(needle, invert, needle == needle.lower())

    def matches(self, ident: str, reason: str) -> bool:
        """Whether one row passes (the rule, row by row; :func:`match_mask` does it in bulk)."""
        if self.fold:
            ident, reason = ident.lower(), reason.lower()
        return (self.needle in ident or self.needle in reason) != self.invert


def haystacks(idents: Sequence[str], reasons: dict[str, str]) -> tuple[list[str], list[str]]:
    """Each row's haystack and its lower-case copy (the same object when it has no capitals)."""
    hay = [ident + SEPARATOR + reasons[ident] if ident in reasons else ident for ident in idents]
    folded = [h if (low := h.lower()) == h else low for h in hay]
    return hay, folded


def match_mask(
    test: TextTest, hay: Sequence[str], folded: Sequence[str], start: int, stop: int
) -> bytes:
    """One byte per row ``start:stop``: 1 where the row passes ``test``, else 0."""
    if SEPARATOR in test.needle:
        # Only the row-by-row rule keeps a needle from spanning ident and reason.
        return bytes(_row_by_row(test, hay, start, stop))
    rows = (folded if test.fold else hay)[start:stop]
    found = bytes(map(operator.contains, rows, repeat(test.needle)))
    return found.translate(_INVERT) if test.invert else found


def _row_by_row(test: TextTest, hay: Sequence[str], start: int, stop: int) -> list[bool]:
    out = []
    for row in hay[start:stop]:
        ident, _, reason = row.partition(SEPARATOR)
        out.append(test.matches(ident, reason))
    return out


@dataclass
class TextFilterJob:
    """Matching a text against every row, a slice at a time (the model makes and installs it).

    ``version`` is the model's layout version when the job began: rows
    inserted or removed meanwhile move the positions, and the model then
    matches again from the start (appended rows are simply matched in turn).
    Rows whose values changed meanwhile are in ``touched``, matched again
    when the job is installed.
    """

    text: str
    test: TextTest | None
    version: int
    done_rows: int = 0
    parts: list[bytes] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)
    #: Narrowing (see :meth:`narrow`): the only rows below ``done_rows`` that can match,
    #: those not looked at yet from ``next_candidate`` on, and those found to match.
    candidates: list[int] | None = None
    next_candidate: int = 0
    hits: list[int] = field(default_factory=list)

    def narrow(self, previous: TextTest | None, previous_mask: bytearray | None) -> None:
        """Look only at the rows the previous text matched, when this text can only match fewer.

        Typing one more character of a text (``gen`` then ``gene``) can only
        drop rows: the rows to look at are the previous matches, found in
        the previous mask with ``bytes.find`` (C), and tested one by one, so
        the cost follows the matches, not the collection. Used when the
        previous matches are few (at most one row in :data:`NARROW_SHARE`);
        an exclusion (``!``) or a change of case rule matches all rows again.
        """
        test = self.test
        if test is None or previous is None or previous_mask is None:
            return
        if test.invert or previous.invert or test.fold != previous.fold:
            return
        if previous.needle not in test.needle or SEPARATOR in test.needle:
            return
        if previous_mask.count(1) * NARROW_SHARE > len(previous_mask):
            return
        found, pos, find = [], previous_mask.find(1), previous_mask.find
        while pos >= 0:
            found.append(pos)
            pos = find(1, pos + 1)
        self.candidates, self.done_rows = found, len(previous_mask)

    def restart(self, version: int) -> None:
        """Rows were inserted or removed: every position moved, match all rows again."""
        self.version, self.done_rows, self.parts = version, 0, []
        self.candidates, self.next_candidate, self.hits = None, 0, []
        self.touched.clear()

    def step(self, hay: Sequence[str], folded: Sequence[str], rows: int = SLICE_ROWS) -> bool:
        """Match the next ``rows`` rows; True once every row is matched."""
        test = self.test
        if test is None:
            return True
        candidates = self.candidates
        if candidates is not None and self.next_candidate < len(candidates):
            rows_of = folded if test.fold else hay
            stop = min(self.next_candidate + rows, len(candidates))
            needle = test.needle
            self.hits.extend(
                p for p in candidates[self.next_candidate : stop] if needle in rows_of[p]
            )
            self.next_candidate = stop
            return False
        stop = min(self.done_rows + rows, len(hay))
        if stop > self.done_rows:
            self.parts.append(match_mask(test, hay, folded, self.done_rows, stop))
            self.done_rows = stop
        return self.done_rows >= len(hay)

    def mask(self) -> bytearray:
        """The 0/1 mask of every row matched so far."""
        if self.candidates is None:
            return bytearray(b"".join(self.parts))
        mask = bytearray(self.done_rows - sum(map(len, self.parts)))
        for pos in self.hits:
            mask[pos] = 1
        mask.extend(b"".join(self.parts))
        return mask
