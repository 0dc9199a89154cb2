"""LinePart: the lines of one byte range of one file, found by a sparse index and ``os.pread``.

The log pane must open a 1 GB ``run.log`` at once and stay small. So a part
never holds its text: it keeps the offset of every :data:`BLOCK`-th line,
and reads a block back
with ``os.pread`` when a line of it is drawn; a few blocks are cached. That
is 8 bytes per 64 lines: about 2 MB of index for a 1 GB log of 80-byte
lines, where one offset per line (toolong's way) would take 100 MB.

Indexing splits each chunk at newlines in C (``bytes.split``, ``accumulate``)
rather than looping in Python, so a background thread indexes about a
gigabyte per second here (benchmarks/log_open.py).

A part reads either a descriptor it owns (a file, which may have been
rotated or deleted since: the descriptor still reads it) or bytes held in
memory (a marker line, a traceback).
"""

from __future__ import annotations

import os
from array import array
from collections import OrderedDict
from itertools import accumulate, repeat
from operator import add

__all__ = ("BLOCK", "CHUNK", "LinePart")

#: Lines per block of the index.
BLOCK = 64
#: Bytes read at once while indexing.
CHUNK = 4 * 1024 * 1024
_CACHED_BLOCKS = 64


class LinePart:
    """The lines of bytes ``begin`` … of a descriptor (or of ``text``), growing at the end.

    Args:
        fd: the descriptor read (owned: :meth:`close` closes it), or None for ``text``.
        begin: where the first line starts.
        text: the content, for a part that is not a file.
        label: what the part is (a file name), for notes and tests.
    """

    def __init__(self, fd: int | None, begin: int = 0, text: bytes = b"", label: str = "") -> None:
        self.fd = fd
        self.label = label
        self._text = text
        self.begin = begin
        #: Offset where each block (BLOCK lines) starts.
        self._block_start = array("q", [begin])
        #: Complete lines indexed, and where the line after them starts.
        self.complete = 0
        self.indexed = begin
        #: Bytes known: the partial last line runs from ``indexed`` to ``end``.
        self.end = begin
        #: The longest line seen, in bytes (for the horizontal scroll).
        self.longest = 0
        self._cache: OrderedDict[int, list[bytes]] = OrderedDict()
        if fd is None and text:
            self._text = b""
            self.append(text)

    @property
    def lines(self) -> int:
        """Lines held, a partial last line included."""
        return self.complete + (1 if self.end > self.indexed else 0)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self._cache.clear()

    # -- indexing -------------------------------------------------------------------------

    def append(self, data: bytes) -> None:
        """Index ``data``, the bytes that follow ``end``."""
        if not data:
            return
        self._forget_last_block()
        if self.fd is None:
            self._text += data  # small texts only: markers, a traceback
        pieces = data.split(b"\n")
        count = len(pieces) - 1  # newlines in data
        self.longest = max(self.longest, self.end - self.indexed + len(pieces[0]))
        self.longest = max(self.longest, max(map(len, pieces)))
        if count:
            # Offsets just past each newline, in C: the lengths summed, plus one per newline.
            ends = list(map(add, accumulate(map(len, pieces[:-1])), range(1, count + 1)))
            # Line number (complete + i + 1) starts after the i-th newline: keep every BLOCK-th.
            first = -(self.complete + 1) % BLOCK
            self._block_start.extend(map(add, ends[first::BLOCK], repeat(self.end)))
            self.indexed = self.end + ends[-1]
            self.complete += count
        self.end += len(data)

    def index_file(self, stop: int, progress: list[int] | None = None) -> None:
        """Index the descriptor's bytes from ``end`` up to ``stop``, a chunk at a time.

        ``progress[0]`` is kept at the offset reached, for a progress note
        read from another thread.
        """
        assert self.fd is not None
        while self.end < stop:
            chunk = os.pread(self.fd, min(CHUNK, stop - self.end), self.end)
            if not chunk:
                break
            self.append(chunk)
            if progress is not None:
                progress[0] = self.end

    # -- reading --------------------------------------------------------------------------

    def line(self, index: int) -> bytes:
        """The bytes of line ``index`` (0-based in this part), without its newline."""
        lines = self._block(index // BLOCK)
        offset = index % BLOCK
        return lines[offset] if offset < len(lines) else b""

    @property
    def blocks(self) -> int:
        return len(self._block_start)

    def block_bytes(self, block: int) -> bytes:
        """The raw bytes of a block (its lines and their newlines)."""
        start = self._block_start[block]
        stop = self._block_start[block + 1] if block + 1 < len(self._block_start) else self.end
        return self._read(start, stop - start)

    def _block(self, block: int) -> list[bytes]:
        cached = self._cache.get(block)
        if cached is not None:
            self._cache.move_to_end(block)
            return cached
        data = self.block_bytes(block)
        lines = data.split(b"\n")
        if data.endswith(b"\n"):
            lines.pop()
        self._cache[block] = lines
        if len(self._cache) > _CACHED_BLOCKS:
            self._cache.popitem(last=False)
        return lines

    def _forget_last_block(self) -> None:
        self._cache.pop(len(self._block_start) - 1, None)

    def _read(self, start: int, size: int) -> bytes:
        if self.fd is None:
            return self._text[start : start + size]
        return os.pread(self.fd, size, start)
