"""LogDocument: a resource's log as one continuous sequence of lines, kept up to date.

The log pane (widgets/log_view.py) only draws; this is what it draws from.
A document is a list of parts (log_index.LinePart): the rotated files
``run.log.3`` … ``run.log.1`` oldest first, then ``run.log``, then whatever
follows it. What happens to ``run.log`` is told by the one tailer,
:class:`hadrosaur.tail.FileTail` (``hadrosaur log -f`` uses it too):

- growth is indexed onto the last part;
- a **rotation** keeps the part (its descriptor still reads the file, now
  ``run.log.1``) after indexing the lines written just before the rename,
  and starts a new part: the lines on screen stay and nothing is lost;
- a **truncation** or a **replacement** (the resource computed again) adds a
  marker line saying so, then the file again from its start.

A big log opens at once: only the last :data:`TAIL_BYTES` of ``run.log``
are indexed before the first frame; the rest (the backups and the head of
``run.log``) is indexed by :meth:`index_pending` in a background thread
and joins the document when :meth:`take_indexed` is called, above what is
shown. Meanwhile the first line says how far the indexing is.

Every line leaves through :func:`hadrosaur.display.visible`: an escape
sequence in a log is drawn as ``^[``, never sent to the terminal. A log that
is a symlink (or a FIFO, a device), or sits in a resource directory that is
a symlink, is never opened: :attr:`refused` says why instead.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from hadrosaur.display import visible
from hadrosaur.errors import DamagedResource, RefusedPath
from hadrosaur.tail import FileTail, TailRead, open_log_part

from .log_index import BLOCK, CHUNK, LinePart

__all__ = ("TAIL_BYTES", "LogDocument")

#: Bytes of run.log indexed before the first frame; the rest is indexed in the background.
TAIL_BYTES = 1024 * 1024
#: Parts kept at most (each holds a descriptor); the oldest go first.
_MAX_PARTS = 16
_BACKUPS = 3


@dataclass
class _Pending:
    """Parts still being indexed in the background, and how far it got."""

    parts: list[LinePart]
    total: int
    progress: list[int]
    done: bool = False


class LogDocument:
    """The lines of one log file and its rotated parts (or of a text held in memory)."""

    def __init__(self, path: Path | None = None, text: str | None = None) -> None:
        self.path = path
        #: Why the file is not shown ("" when it is): a symlink, a FIFO...
        self.refused = ""
        self.parts: list[LinePart] = []
        self._tail: FileTail | None = None
        self._pending: _Pending | None = None
        self._pending_stops: dict[int, int] = {}
        #: The part of the file the tailer reads now (None before there is one).
        self._current: LinePart | None = None
        if text is not None:
            self.parts.append(LinePart(None, text=text.encode("utf-8", "replace")))
        elif path is not None:
            self._open(path)

    def close(self) -> None:
        for part in self.parts:
            part.close()
        self.parts = []
        if self._tail is not None:
            self._tail.close()

    # -- size and lines -------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        return sum(part.lines for part in self.parts) + (1 if self._pending else 0)

    @property
    def byte_size(self) -> int:
        """Bytes of the lines held (and of those still being indexed)."""
        pending = self._pending.total if self._pending is not None else 0
        return pending + sum(part.end - part.begin for part in self.parts)

    @property
    def longest(self) -> int:
        """The longest line, in bytes (an upper bound of its width in cells)."""
        return max((part.longest for part in self.parts), default=0)

    def line(self, index: int) -> str:
        """Line ``index`` as it is shown: decoded, tabs expanded, controls made visible."""
        if self._pending is not None:
            if index == 0:
                return self._pending_note()
            index -= 1
        for part in self.parts:
            if index < part.lines:
                raw = part.line(index)
                text = raw.decode("utf-8", "replace").rstrip("\r").replace("\t", "    ")
                return visible(text, line=True)  # a CR left inside the line shows as ^M
            index -= part.lines
        return ""

    def locate(self, index: int) -> tuple[int, int]:
        """(part number, line in that part) of line ``index``; (-1, 0) for the progress note."""
        if self._pending is not None:
            if index == 0:
                return -1, 0
            index -= 1
        for number, part in enumerate(self.parts):
            if index < part.lines:
                return number, index
            index -= part.lines
        return len(self.parts), 0

    def first_line_of(self, part_number: int) -> int:
        return (1 if self._pending else 0) + sum(p.lines for p in self.parts[:part_number])

    def _pending_note(self) -> str:
        pending = self._pending
        assert pending is not None
        done = sum(pending.progress) * 100 // max(1, pending.total)
        return f"… {_size(pending.total)} above, indexing ({done}%)"

    # -- opening ----------------------------------------------------------------------------

    def _open(self, path: Path) -> None:
        try:
            _check_path(path)
        except _Refused as exc:
            self.refused = exc.note
            return
        except FileNotFoundError:
            pass
        backups = [p for p in (self._backup(n) for n in range(_BACKUPS, 0, -1)) if p is not None]
        self._tail = FileTail(path, hold=True, backups=_BACKUPS)
        try:
            self._tail.read(limit=0)
        except (DamagedResource, RefusedPath) as exc:
            self.refused = f"Not shown: {exc}"
            return
        current = self._new_file_part()
        self._current = current
        if current is None:
            self.parts = backups
            self._index_now(backups)
            return
        size = os.fstat(current.fd).st_size if current.fd is not None else 0
        total = size + sum(_file_size(p) for p in backups)
        if total <= TAIL_BYTES:
            self.parts = [*backups, current]
            self._index_now(self.parts, stop={id(current): size})
            self._tail.skip_to(size)
            return
        # Big: the end of run.log now, the rest in the background (index_pending).
        assert current.fd is not None
        tail_start = _line_start_after(current.fd, max(0, size - TAIL_BYTES))
        head = LinePart(os.dup(current.fd), 0, label=current.label)
        end = LinePart(current.fd, tail_start, label=current.label)
        current.fd = None
        end.index_file(size)
        self._tail.skip_to(size)
        self.parts = [end]
        self._current = end
        pending = [*backups, head]
        self._pending = _Pending(pending, total - (size - tail_start), [0] * len(pending))
        self._pending_stops = {id(head): tail_start}

    def _backup(self, n: int) -> LinePart | None:
        assert self.path is not None
        name = f"{self.path.name}.{n}"
        try:
            fd = open_log_part(self.path.with_name(name))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, DamagedResource):
            # A symlink or a FIFO in a backup's place: never read, and said so.
            note = f"── {name} is not shown: it is not a regular file ──\n"
            return LinePart(None, text=note.encode(), label=name)
        return LinePart(fd, label=name)

    def _new_file_part(self) -> LinePart | None:
        assert self._tail is not None and self.path is not None
        fd = self._tail.duplicate()
        return None if fd is None else LinePart(fd, label=self.path.name)

    @staticmethod
    def _index_now(parts: list[LinePart], stop: dict[int, int] | None = None) -> None:
        for part in parts:
            if part.fd is not None:
                part.index_file((stop or {}).get(id(part), _file_size(part)))

    # -- background indexing -------------------------------------------------------------

    @property
    def indexing(self) -> bool:
        """True while part of the log is still being indexed (see :meth:`index_pending`)."""
        return self._pending is not None

    def index_pending(self) -> None:
        """Index the parts left for later (run in a thread: it only touches those parts)."""
        pending = self._pending
        if pending is None:
            return
        for number, part in enumerate(pending.parts):
            stop = self._pending_stops.get(id(part), _file_size(part))
            progress = [0]
            while part.end < stop:
                part.index_file(min(stop, part.end + CHUNK), progress)
                pending.progress[number] = part.end - part.begin
        pending.done = True

    def take_indexed(self) -> int:
        """Join the parts indexed in the background (main thread); the lines added above."""
        pending = self._pending
        if pending is None or not pending.done:
            return 0
        self._pending = None
        # run.log's head and its end stay two parts: their lines simply follow.
        self.parts = [*pending.parts, *self.parts]
        self._drop_oldest()
        return sum(p.lines for p in pending.parts) - 1  # the progress note goes

    # -- following --------------------------------------------------------------------------

    def poll(self) -> tuple[bool, bool]:
        """Read what changed in run.log: (anything changed, more is waiting to be read)."""
        if self.path is None:
            return False, False
        try:
            _check_path(self.path)
        except _Refused as exc:
            changed = exc.note != self.refused
            if changed:
                self.close()
                self.refused = exc.note
            return changed, False
        except FileNotFoundError:
            pass
        if self.refused:  # it was a link, and is a file now: start over
            self.refused = ""
            self.close()
            self._open(self.path)
            return True, False
        if self._tail is None:
            return False, False
        try:
            got = self._tail.read(limit=CHUNK)
        except (DamagedResource, RefusedPath) as exc:
            self.close()
            self.refused = f"Not shown: {exc}"
            return True, False
        return self._apply(got), got.more

    def _apply(self, got: TailRead) -> bool:
        assert self.path is not None
        current = self._current
        if got.finished and current is not None:
            current.append(got.finished)  # written just before the rotation: kept
        if got.reset in ("truncated", "replaced"):
            if got.reset == "truncated" and current is not None:
                # Its lines are no longer in the file: the marker says where they went.
                self.parts.remove(current)
                current.close()
            how = "truncated" if got.reset == "truncated" else "replaced (computed again?)"
            note = f"── {self.path.name} was {how}: from its start again ──\n"
            self.parts.append(LinePart(None, text=note.encode(), label="marker"))
        if got.reset or current is None:
            self._current = self._new_file_part()
            if self._current is not None:
                self.parts.append(self._current)
                self._drop_oldest()
        if got.data and self._current is not None:
            self._current.append(got.data)
        return bool(got.finished or got.data or got.reset)

    def _drop_oldest(self) -> None:
        while len(self.parts) > _MAX_PARTS:
            self.parts.pop(0).close()

    # -- find -------------------------------------------------------------------------------

    def find(self, needle: str, start: int, forward: bool) -> int | None:
        """The first line after ``start`` (before it, backwards) that holds ``needle``.

        Past the last line it goes on from the first (and the other way round).
        A needle in lower case matches any case (as the table's filter). The
        search goes through the raw bytes of each block, in C; it may run in
        a thread.
        """
        if not needle:
            return None
        key = needle.encode("utf-8", "replace")
        fold = needle == needle.lower()
        found = self._find_from(key, fold, start, forward)
        if found is None:  # around the end: from the other end
            found = self._find_from(key, fold, -1 if forward else self.line_count, forward)
        return found

    def _find_from(self, key: bytes, fold: bool, start: int, forward: bool) -> int | None:
        index = start + 1 if forward else start - 1
        while 0 <= index < self.line_count:
            number, local = self.locate(index)
            if number < 0 or number >= len(self.parts):  # the progress note
                index += 1 if forward else -1
                continue
            part = self.parts[number]
            hit = _find_in_part(part, key, fold, local, forward)
            if hit is not None:
                return self.first_line_of(number) + hit
            index = self.first_line_of(number) + (part.lines if forward else -1)
        return None


def _find_in_part(part: LinePart, key: bytes, fold: bool, local: int, forward: bool) -> int | None:
    """The line of ``part`` from ``local`` on (or back) holding ``key``, block by block."""
    block = local // BLOCK
    step = 1 if forward else -1
    while 0 <= block < part.blocks:
        data = part.block_bytes(block)
        if fold:
            data = data.lower()
        lines = data.split(b"\n")
        first = block * BLOCK
        candidates = range(len(lines)) if forward else range(len(lines) - 1, -1, -1)
        if key in data:
            for offset in candidates:
                line = first + offset
                if (line >= local if forward else line <= local) and key in lines[offset]:
                    return line
        block += step
    return None


def _file_size(part: LinePart) -> int:
    return os.fstat(part.fd).st_size if part.fd is not None else part.end


def _line_start_after(fd: int, offset: int) -> int:
    """The start of the first line that begins at or after ``offset``."""
    if offset == 0:
        return 0
    data = os.pread(fd, 64 * 1024, offset - 1)
    newline = data.find(b"\n")
    return offset if newline == -1 else offset + newline


def _size(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return ""


class _Refused(Exception):
    """The log must not be opened; ``note`` is the one line shown instead."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


def _check_path(path: Path) -> None:
    """Refuse a log whose directory or self is not what the layout says (_Refused).

    O_NOFOLLOW on the open guards only the file's own name, so its directory
    (the resource directory) is checked too. FileNotFoundError: no log yet.
    """
    parent = os.lstat(path.parent).st_mode
    if not stat.S_ISDIR(parent):
        raise _Refused(_note(path.parent.name, parent, "a directory"))
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        raise _Refused(_note(path.name, mode, "a regular file"))


def _note(name: str, mode: int, expected: str) -> str:
    if stat.S_ISLNK(mode):
        return (
            f"Not shown: {name} is a symbolic link, and hadrosaur never follows a link "
            "inside the base directory."
        )
    return f"Not shown: {name} is not {expected}."
