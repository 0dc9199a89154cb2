"""RowMask: which of a model's rows a filtered view shows, one byte per row, in row order.

A filter over a million rows used to build an array of the positions shown,
one Python int per match: 0.1 s and 8 MB for a filter that most rows pass,
on every keystroke. A mask is made in C (``bytes.translate`` of the status
codes, ``map(operator.contains, …)`` over the precomputed haystacks, big-int
``&`` to combine them) and costs one byte per row whatever matches. The
view's row ``i`` is then the ``i``-th set byte: a count per block of
:data:`BLOCK` rows, summed once into a prefix list, finds the block with
``bisect``, and ``bytearray.count`` over halves finds the row in it, so a
lookup costs about a dozen C calls. The table asks only for the rows on
screen, found one after the other with ``bytearray.index``.

Example:
    >>> shown = RowMask(bytearray([0, 1, 1, 0, 1]))
    >>> len(shown), shown.nth(2), shown.index(4), list(shown.positions(0, 3, reverse=True))
    (3, 4, 2, [4, 2, 1])
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate

__all__ = ("BLOCK", "RowMask", "and_masks")

#: Rows per counted block: small enough that finding a row in its block is
#: cheap, large enough that the prefix list stays short (245 blocks at 1M).
BLOCK = 4096


def and_masks(a: bytes | bytearray, b: bytes | bytearray) -> bytes:
    """The byte-wise AND of two 0/1 masks of one length, in C (as two big integers).

    Example:
        >>> and_masks(b"\\x01\\x01\\x00", b"\\x00\\x01\\x01")
        b'\\x00\\x01\\x00'
    """
    n = len(a)
    return (int.from_bytes(a, "little") & int.from_bytes(b, "little")).to_bytes(n, "little")


class RowMask:
    """The rows shown by a view: ``mask[pos]`` is 1 when row ``pos`` of the model shows."""

    def __init__(self, mask: bytearray) -> None:
        self.mask = mask
        self._counts = array("q")
        self._prefix: list[int] | None = None
        self._recount(0)

    def _recount(self, block: int) -> None:
        """Count the set bytes again from ``block`` on (after the mask changed there)."""
        mask = self.mask
        del self._counts[block:]
        self._counts.extend(
            mask.count(1, start, start + BLOCK) for start in range(block * BLOCK, len(mask), BLOCK)
        )
        self._prefix = None

    def _sums(self) -> list[int]:
        if self._prefix is None:
            self._prefix = list(accumulate(self._counts, initial=0))
        return self._prefix

    def __len__(self) -> int:
        return self._sums()[-1]

    def nth(self, i: int) -> int:
        """The position of the ``i``-th row shown (0-based); IndexError past the end."""
        sums = self._sums()
        if not 0 <= i < sums[-1]:
            raise IndexError(f"row {i} of a view of {sums[-1]}")
        block = bisect_right(sums, i) - 1
        wanted = i - sums[block]  # set bytes to pass over in this block
        lo = block * BLOCK
        hi = min(lo + BLOCK, len(self.mask))
        start, count = lo, self.mask.count
        # The smallest p with count(start, p + 1) > wanted.
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if count(1, start, mid) > wanted:
                hi = mid
            else:
                lo = mid
        return lo

    def index(self, pos: int) -> int | None:
        """The view index of row ``pos``, or None when it is not shown."""
        if not 0 <= pos < len(self.mask) or not self.mask[pos]:
            return None
        block = pos // BLOCK
        return self._sums()[block] + self.mask.count(1, block * BLOCK, pos)

    def positions(self, start: int, stop: int, reverse: bool = False) -> Iterator[int]:
        """Positions of view rows ``start:stop`` (``reverse``: the view is the mask backwards)."""
        total = len(self)
        start, stop = max(0, start), min(stop, total)
        if start >= stop:
            return
        mask = self.mask
        if not reverse:
            pos = self.nth(start)
            yield pos
            for _ in range(stop - start - 1):
                pos = mask.index(1, pos + 1)
                yield pos
            return
        pos = self.nth(total - 1 - start)
        yield pos
        for _ in range(stop - start - 1):
            pos = mask.rindex(1, 0, pos)
            yield pos

    def set(self, pos: int, shown: bool) -> None:
        """Show or hide row ``pos`` (its values changed)."""
        value = 1 if shown else 0
        if self.mask[pos] != value:
            self.mask[pos] = value
            self._counts[pos // BLOCK] += 1 if value else -1
            self._prefix = None

    def insert(self, pos: int, shown: bool) -> None:
        """A row was inserted at ``pos`` (the rows after it moved down by one)."""
        self.mask.insert(pos, 1 if shown else 0)
        self._recount(pos // BLOCK)

    def remove(self, pos: int) -> None:
        """Row ``pos`` was removed."""
        del self.mask[pos]
        self._recount(pos // BLOCK)

    def extend(self, mask: bytes) -> None:
        """Rows were appended; ``mask`` says which of them show."""
        first = len(self.mask) // BLOCK
        self.mask.extend(mask)
        self._recount(first)
